"""The dashboard's report pages that came with the DMP: each DMP against what is held (/admin/reports/dmp).

A blueprint of its own (mounted under /admin/reports by gateway.app), so that gateway.admin.pages stays one screen of
routes; it shares that blueprint's language choice, login and templates. The page shows the very rows `gateway report
dmp` and `/api/reports/dmp` give (gateway.reports.dmp_reconciliation), as of `?today=`, and offers them as downloads.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, send_file

from gateway import reports
from gateway.admin.auth import login_required
from gateway.services import services

blueprint = Blueprint("reports", __name__)

DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _today() -> date:
    given = (request.args.get("today") or "").strip()
    if not given:
        return date.today()
    try:
        return date.fromisoformat(given)
    except ValueError:
        abort(400)


def _rows(today: date, project: str | None) -> tuple[list[dict[str, Any]], str | None]:
    svc = services()
    with svc.sessions() as session:
        try:
            return reports.reconciliation(session, svc.config, today=today, project=project), None
        except reports.ReportError as exc:
            return [], str(exc)


@blueprint.get("/dmp")
@login_required()
def dmp() -> Any:
    today = _today()
    project = (request.args.get("project") or "").strip() or None
    rows, error = _rows(today, project)
    by_project: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_project.setdefault(row["jgn"], []).append(row)
    page = render_template(
        "admin/dmp_report.html",
        summary=reports.dmp_summary(rows),
        by_project=by_project,
        project=project,
        error=error,
        today=today.isoformat(),
    )
    return Response(page, status=404 if error else 200)


@blueprint.get("/dmp.<fmt>")
@login_required()
def dmp_download(fmt: str) -> Any:
    if fmt not in DOWNLOADS:
        abort(404)
    today = _today()
    project = (request.args.get("project") or "").strip() or None
    rows, error = _rows(today, project)
    if error:
        abort(404)
    out = io.BytesIO()
    reports.write_reconciliation(rows, fmt, out)
    out.seek(0)
    return send_file(out, mimetype=DOWNLOADS[fmt], as_attachment=True, download_name=f"dmp-{today.isoformat()}.{fmt}")
