"""The dashboard: server-rendered pages under /admin (login and logout are the auth module's).

Every page needs a logged-in user; every page or form that changes anything needs the manager role. Forms post back
with the session's CSRF token (checked by the auth module for every write under /admin). A write answers with a
redirect (post/redirect/get), so that reloading a page never repeats an action.
"""

from __future__ import annotations

import io
import math
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException

from gateway.admin import charts, i18n, operations
from gateway.admin.auth import current_user, login_required
from gateway.db import transaction
from gateway.policy import STATUSES
from gateway.services import services

blueprint = Blueprint("admin", __name__)
blueprint.record_once(lambda state: i18n.install(state.app))

PAGE_SIZE = 50
REPORTS = ("counts", "embargoes", "deadlines")
DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The access categories in the order of the reports, with the chart's colours (distinguishable in greyscale too).
ACCESS_COLOURS = {
    "open": "#2e7d32",
    "restricted": "#f9a825",
    "metadata_only": "#6d4c41",
    "embargoed": "#1565c0",
    "unknown": "#9e9e9e",
}


@blueprint.app_context_processor
def _page_context() -> dict[str, Any]:
    def lang_url(code: str) -> str:
        args = {k: v for k, v in request.args.items() if k != "lang"}
        args["lang"] = code
        return f"{request.path}?{urlencode(args)}"

    user = current_user() if request.path.startswith("/admin") else None
    return {"user": user, "is_manager": bool(user and user.role == "manager"), "lang_url": lang_url}


@blueprint.app_template_filter("status_class")
def _status_class(value: str | None) -> str:
    return f"status status-{value or 'none'}"


@blueprint.app_template_filter("pretty_xml")
def _pretty_xml(text: str | None) -> str:
    """XML indented for reading (display only: the stored bytes are never changed); as it was if it cannot be read."""
    if not text:
        return ""
    from lxml import etree

    from gateway.xmlsafe import XMLInputError, parse_bytes

    try:
        root = parse_bytes(text.encode("utf-8"))
    except XMLInputError:
        return text
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode")


def _page_number() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


def _not_found() -> Response:
    return Response(render_template("admin/not_found.html"), status=404)


# --- overview ----------------------------------------------------------------------------------------------------


@blueprint.get("/")
@login_required()
def overview() -> str:
    svc = services()
    with svc.sessions() as session:
        data = operations.overview(session, svc.config)
    return render_template("admin/overview.html", data=data)


# --- sources -----------------------------------------------------------------------------------------------------

_TEXT_FIELDS = ("name", "kind", "url", "path", "metadata_prefix", "metadata_disclosure", "profile", "schedule")
_NUMBER_FIELDS = {"timeout": float, "max_retries": int, "retry_ceiling": float, "min_delay": float, "priority": int}
_ANY_KIND = ("timeout", "priority")  # the number fields every kind of source has (the others: oai-pmh only)


class _FormError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _source_from_form(form: Any) -> dict[str, Any]:
    """The posted form as a source definition: empty fields are left out, so the configuration's defaults apply."""
    data: dict[str, Any] = {}
    for key in _TEXT_FIELDS:
        value = (form.get(key) or "").strip()
        if value:
            data[key] = value
    if data.get("kind") != "oai-pmh":
        data.pop("url", None)
    if data.get("kind") != "directory":
        data.pop("path", None)
    repository_name = (form.get("repository_name") or "").strip()
    if repository_name:
        data["repository_name"] = repository_name
    sets = (form.get("sets") or "").replace(",", " ").split()
    data["sets"] = sets
    data["enabled"] = form.get("enabled") == "1"
    for key, kind in _NUMBER_FIELDS.items():
        text = (form.get(key) or "").strip()
        if not text or (key not in _ANY_KIND and data.get("kind") != "oai-pmh"):
            continue
        try:
            number = kind(text)
        except ValueError:
            raise _FormError(key, "must be a number") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise _FormError(key, "must be a finite number")
        data[key] = number
    return data


def _form_values(source: dict[str, Any] | None) -> dict[str, Any]:
    if source is None:
        return {"kind": "oai-pmh", "metadata_prefix": "jpcoar_2.0", "metadata_disclosure": "public", "enabled": True}
    values = dict(source)
    values["sets"] = " ".join(source.get("sets") or [])
    return values


def _render_form(values: dict[str, Any], *, editing: str | None, error: _FormError | None = None, status: int = 200):
    from gateway.config import DISCLOSURES, METADATA_PREFIXES, PROFILES, SOURCE_KINDS

    body = render_template(
        "admin/source_form.html",
        values=values,
        editing=editing,
        error=error,
        kinds=SOURCE_KINDS,
        prefixes=METADATA_PREFIXES,
        disclosures=DISCLOSURES,
        profiles=PROFILES,
    )
    return Response(body, status=status)


@blueprint.get("/sources")
@login_required()
def sources() -> str:
    from gateway.admin import sourcestore

    svc = services()
    with svc.sessions() as session:
        defined = sourcestore.list_sources(session)
        state = {s["name"]: s for s in operations.overview(session, svc.config)["sources"]}
    return render_template("admin/sources.html", sources=defined, state=state)


@blueprint.get("/sources.toml")
@login_required()
def sources_toml() -> Response:
    from gateway.admin import sourcestore

    with services().sessions() as session:
        text = sourcestore.export_toml(session)
    return Response(
        text,
        mimetype="application/toml",
        headers={"Content-Disposition": 'attachment; filename="sources.toml"'},
    )


@blueprint.route("/sources/new", methods=["GET", "POST"])
@login_required("manager")
def source_new() -> Any:
    return _source_edit(None)


@blueprint.route("/sources/<name>/edit", methods=["GET", "POST"])
@login_required("manager")
def source_edit(name: str) -> Any:
    return _source_edit(name)


def _source_edit(name: str | None) -> Any:
    from gateway.admin import sourcestore

    svc = services()
    if request.method == "GET":
        current = None
        if name is not None:
            with svc.sessions() as session:
                current = sourcestore.get_source(session, name)
            if current is None:
                return _not_found()
        return _render_form(_form_values(current), editing=name)
    values = request.form.to_dict()
    values["enabled"] = request.form.get("enabled") == "1"
    try:
        data = _source_from_form(request.form)
        with transaction(svc.sessions) as session:
            saved = sourcestore.save_source(session, data, name=name)
    except _FormError as exc:
        return _render_form(values, editing=name, error=exc, status=400)
    except sourcestore.SourceError as exc:
        return _render_form(values, editing=name, error=_FormError(exc.field, exc.message), status=400)
    flash(i18n.translate("saved"), "ok")
    return redirect(url_for("admin.sources") + f"#source-{saved['name']}")


@blueprint.post("/sources/<name>/enabled")
@login_required("manager")
def source_enabled(name: str) -> Any:
    from gateway.admin import sourcestore

    try:
        with transaction(services().sessions) as session:
            sourcestore.set_enabled(session, name, request.form.get("enabled") == "1")
    except sourcestore.SourceError:
        return _not_found()
    flash(i18n.translate("saved"), "ok")
    return redirect(url_for("admin.sources") + f"#source-{name}")


@blueprint.post("/sources/<name>/delete")
@login_required("manager")
def source_delete(name: str) -> Any:
    from gateway.admin import sourcestore

    try:
        with transaction(services().sessions) as session:
            sourcestore.delete_source(session, name)
    except sourcestore.SourceError:
        return _not_found()
    flash(i18n.translate("source_deleted"), "ok")
    return redirect(url_for("admin.sources"))


@blueprint.post("/sources/<name>/test")
@login_required("manager")
def source_test(name: str) -> Any:
    from gateway.admin import sourcestore

    with services().sessions() as session:
        source = sourcestore.get_source(session, name)
    if source is None:
        return _not_found()
    result = operations.test_connection(source)
    return render_template("admin/source_test.html", name=name, source=source, result=result)


@blueprint.post("/sources/test")
@login_required("manager")
def source_test_form() -> Any:
    """Test the settings of the form being filled in, before they are saved."""
    try:
        data = _source_from_form(request.form)
    except _FormError as exc:
        return Response(render_template("admin/source_test.html", name=None, source={}, result=_failed(exc)), 400)
    result = operations.test_connection(data)
    return render_template("admin/source_test.html", name=data.get("name"), source=data, result=result)


def _failed(exc: _FormError) -> dict[str, Any]:
    return {"ok": False, "identify": {}, "formats": [], "sets": [], "problems": [], "error": f"{exc.field}: {exc}"}


@blueprint.post("/sources/<name>/harvest")
@login_required("manager")
def source_harvest(name: str) -> Any:
    svc = services()
    outcome = operations.start_harvest(svc.config, svc.engine, name, full=request.form.get("full") == "1")
    flash(outcome["message"], "ok" if outcome["started"] else "error")
    if outcome["run_id"]:
        return redirect(url_for("admin.run", run_id=outcome["run_id"]))
    return redirect(url_for("admin.sources") + f"#source-{name}")


# --- runs --------------------------------------------------------------------------------------------------------


@blueprint.get("/runs")
@login_required()
def runs() -> str:
    source = request.args.get("source") or None
    page = _page_number()
    with services().sessions() as session:
        rows = operations.list_runs(session, source=source, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        total = operations.count_runs(session, source=source)
    return render_template("admin/runs.html", runs=rows, total=total, page=page, pages=_pages(total), source=source)


@blueprint.get("/runs/<int:run_id>")
@login_required()
def run(run_id: int) -> Any:
    with services().sessions() as session:
        data = operations.get_run(session, run_id)
    if data is None:
        return _not_found()
    return render_template("admin/run.html", run=data)


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


# --- records -----------------------------------------------------------------------------------------------------


@blueprint.get("/records")
@login_required()
def records() -> str:
    criteria = {key: (request.args.get(key) or "").strip() or None for key in ("q", "status", "project", "source")}
    if criteria["status"] not in STATUSES:
        criteria["status"] = None
    page = _page_number()
    svc = services()
    with svc.sessions() as session:
        rows, total = operations.search_records(session, **criteria, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        names = [s.name for s in operations.effective_sources(session, svc.config)]
    return render_template(
        "admin/records.html",
        rows=rows,
        total=total,
        page=page,
        pages=_pages(total),
        criteria=criteria,
        statuses=STATUSES,
        source_names=names,
    )


@blueprint.get("/records/<path:ident>")
@login_required()
def record(ident: str) -> Any:
    svc = services()
    with svc.sessions() as session:
        data = operations.record_detail(session, ident, repository_identifier=svc.config.repository.identifier)
    if data is None:
        return _not_found()
    return render_template("admin/record.html", r=data)


# --- quarantine --------------------------------------------------------------------------------------------------


@blueprint.get("/quarantine")
@login_required()
def quarantine() -> str:
    source = request.args.get("source") or None
    svc = services()
    with svc.sessions() as session:
        groups = operations.quarantine_groups(session, source=source)
        names = [s.name for s in operations.effective_sources(session, svc.config)]
    return render_template("admin/quarantine.html", groups=groups, source=source, source_names=names)


# --- projects ----------------------------------------------------------------------------------------------------


def _category_keys(reports: Any, rows: list[dict[str, Any]]) -> list[str]:
    """The access categories to show: "unknown" only when some project has such records."""
    keys = [c.key for c in reports.ACCESS_CATEGORIES]
    return [k for k in keys if k != "unknown" or any(row.get("unknown") for row in rows)]


@blueprint.get("/projects")
@login_required()
def projects() -> str:
    from gateway import reports

    svc = services()
    today = date.today()
    with svc.sessions() as session:
        counted = reports.counts(session)
        total = reports.totals(counted)
        embargoes = reports.embargoes(session, today=today)
        deadlines = reports.deadlines(session, svc.config, today=today)
    rows = [row.to_dict() for row in counted]
    total_row = total.to_dict()
    keys = _category_keys(reports, rows)
    lang = i18n.language()
    bars = [charts.Bar(label=_project_label(row, lang), counts={k: int(row.get(k) or 0) for k in keys}) for row in rows]
    chart = charts.stacked_bars(
        bars,
        [charts.Category(k, i18n.translate(k), ACCESS_COLOURS.get(k, "#777")) for k in keys],
        title=i18n.translate("counts_by_access"),
    )
    return render_template(
        "admin/projects.html",
        rows=rows,
        total=total_row,
        keys=keys,
        chart=chart,
        embargoes=embargoes,
        deadlines=deadlines,
        today=today.isoformat(),
    )


def _project_label(row: dict[str, Any], lang: str) -> str:
    jgn = row.get("jgn")
    if row.get("row") == "no_project" or not jgn:
        return i18n.translate("no_project", lang)
    name = row.get("project_name_ja") if lang == "ja" else row.get("project_name_en")
    name = name or row.get("project_name_en") or row.get("project_name_ja")
    return f"{jgn} {name}" if name else str(jgn)


@blueprint.get("/projects/<report>.<fmt>")
@login_required()
def project_download(report: str, fmt: str) -> Any:
    if report not in REPORTS or fmt not in DOWNLOADS:
        return _not_found()
    from gateway import reports

    svc = services()
    today = date.today()
    with svc.sessions() as session:
        if report == "counts":
            rows: Any = reports.counts(session)
        elif report == "embargoes":
            rows = reports.embargoes(session, today=today)
        else:
            rows = reports.deadlines(session, svc.config, today=today)
    out = io.BytesIO()
    _write_report(reports, report, rows, fmt, out)
    out.seek(0)
    return send_file(
        out,
        mimetype=DOWNLOADS[fmt],
        as_attachment=True,
        download_name=f"{report}-{today.isoformat()}.{fmt}",
    )


def _write_report(reports: Any, report: str, rows: Any, fmt: str, out: io.BytesIO) -> None:
    writer = {
        "counts": reports.write_counts,
        "embargoes": reports.write_embargoes,
        "deadlines": reports.write_deadlines,
    }
    writer[report](rows, fmt, out)


# --- errors ------------------------------------------------------------------------------------------------------


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    if exc.code == 403:
        return Response(render_template("admin/error.html", message=i18n.translate("forbidden"), code=403), 403)
    return exc
