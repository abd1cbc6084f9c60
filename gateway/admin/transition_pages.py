"""The dashboard's page of AMED's sharing transitions, with the form that records a results publication.

A blueprint of its own (mounted under /admin next to gateway.admin.pages) so that the DMP's pages do not grow the
general page module. The page shows what `gateway report transitions` and /api/reports/transitions give, for the same
`today` and `within` (query parameters), and the publications recorded for each project; a manager records or removes
one with a form that posts back with the session's CSRF token (checked by gateway.admin.auth) and answers with a
redirect, so that reloading never records it twice. The DataCat catalogue is offered as a download from the page.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException

from gateway.admin import i18n
from gateway.admin.auth import current_user, login_required
from gateway.db import transaction
from gateway.services import services

blueprint = Blueprint("dmp_transitions", __name__)

DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_WITHIN = 3650


def _as_of() -> date:
    try:
        return date.fromisoformat((request.args.get("today") or "").strip())
    except ValueError:
        return date.today()


def _within() -> int:
    text = (request.args.get("within") or "").strip()
    return min(int(text), MAX_WITHIN) if text.isascii() and text.isdigit() else 90


@blueprint.get("/transitions")
@login_required()
def transitions() -> str:
    from gateway import reports
    from gateway.dmp import publications, versions

    today, within = _as_of(), _within()
    with services().sessions() as session:
        found = reports.transitions(session, today=today, within_days=within)
        recorded = publications.publications(session)
        projects = versions.projects(session)
    return render_template(
        "admin/transitions.html",
        report=found,
        recorded=recorded,
        projects=projects,
        kinds=publications.KINDS,
        today=today.isoformat(),
        within=within,
    )


@blueprint.get("/transitions.<fmt>")
@login_required()
def transitions_download(fmt: str) -> Any:
    from gateway import reports

    if fmt not in DOWNLOADS:
        return Response(render_template("admin/not_found.html"), status=404)
    today = _as_of()
    with services().sessions() as session:
        found = reports.transitions(session, today=today, within_days=_within())
    out = io.BytesIO()
    reports.write_transitions(found, fmt, out)
    out.seek(0)
    name = f"transitions-{today.isoformat()}.{fmt}"
    return send_file(out, mimetype=DOWNLOADS[fmt], as_attachment=True, download_name=name)


@blueprint.get("/catalogue.<fmt>")
@login_required()
def catalogue_download(fmt: str) -> Any:
    from gateway import reports

    if fmt not in DOWNLOADS:
        return Response(render_template("admin/not_found.html"), status=404)
    with services().sessions() as session:
        rows = reports.catalogue(session)
    out = io.BytesIO()
    reports.write_catalogue(rows, fmt, out)
    out.seek(0)
    return send_file(out, mimetype=DOWNLOADS[fmt], as_attachment=True, download_name=f"amed-datacat.{fmt}")


@blueprint.post("/transitions/publications")
@login_required("manager")
def publication_new() -> Any:
    from gateway.dmp import publications

    user = current_user()
    project = (request.form.get("project") or "").strip()
    try:
        with transaction(services().sessions) as session:
            publications.record_body(
                session, project, request.form.to_dict(), recorded_by=user.username if user else None
            )
    except publications.PublicationError as exc:
        flash(f"{i18n.translate('tr_publication_refused')}: {exc.message}", "error")
    else:
        flash(i18n.translate("tr_publication_recorded"), "ok")
    return redirect(url_for("dmp_transitions.transitions") + "#publications")


@blueprint.post("/transitions/publications/<int:publication_id>/delete")
@login_required("manager")
def publication_delete(publication_id: int) -> Any:
    from gateway.dmp import publications

    try:
        with transaction(services().sessions) as session:
            publications.remove(session, (request.form.get("project") or "").strip(), publication_id)
    except publications.PublicationError as exc:
        flash(exc.message, "error")
    else:
        flash(i18n.translate("tr_publication_removed"), "ok")
    return redirect(url_for("dmp_transitions.transitions") + "#publications")


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    if exc.code == 403:
        return Response(render_template("admin/error.html", message=i18n.translate("forbidden"), code=403), 403)
    return exc
