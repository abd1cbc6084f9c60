"""The management API: the dashboard's operations as JSON under /api, described by /api/openapi.json.

Every answer is JSON (the TOML export aside); an error is `{"error": ..., "field": ...}` with a 4xx status, and an
unexpected failure is logged and answered with a generic 500 that says nothing about the inside.
Authentication and roles are enforced for the whole of /api by gateway.admin.auth; the decorators here say the same
per view, so that a view moved elsewhere keeps its protection.

Every invalid request is answered 400, whatever is wrong with it: a query parameter, a body that breaks the request
schema the description publishes (checked against that very schema by gateway.admin.openapi, so the two cannot
differ), or a setting the configuration's rules refuse. One status for all of them, because a client fixes each
the same way, by reading `field`; 422 would split one kind of mistake in two.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from gateway import reports
from gateway.admin import operations, sourcestore
from gateway.admin.api_input import (
    ApiError,
    bool_arg,
    date_arg,
    error_response,
    int_arg,
    json_body,
    source_name,
    text_arg,
)
from gateway.admin.auth import csrf_token, current_user, login_required
from gateway.admin.openapi import BodyError, spec
from gateway.admin.openapi.limits import (
    MAX_BODY_BYTES,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_RECORD_ID,
    MAX_ROW_ID,
    MAX_WITHIN_DAYS,
    RECORD_STATUSES,
)
from gateway.admin.sourcestore import SourceError
from gateway.services import services

log = logging.getLogger(__name__)

blueprint = Blueprint("api", __name__)


@blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.message, exc.field)


@blueprint.errorhandler(SourceError)
def _source_error(exc: SourceError) -> Response:
    return error_response(400, exc.message, exc.field)


@blueprint.errorhandler(BodyError)
def _body_error(exc: BodyError) -> Response:
    first = exc.violations[0]
    return error_response(
        400,
        first.describe(),
        first.field,
        pointer=first.pointer,
        rule=first.rule,
        violations=[violation.as_dict() for violation in exc.violations],
    )


@blueprint.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return error_response(exc.code or 500, exc.description or exc.name)
    log.exception("management API: %s %s failed", request.method, request.path)
    return error_response(500, "internal error (the gateway's log has the details)")


def http_errors_as_json(app: Flask) -> None:
    """404 and 405 under /api (which no view of the blueprint sees) as JSON too; other paths keep Flask's pages."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if request.path == "/api" or request.path.startswith("/api/"):
            response = error_response(exc.code or 500, exc.description or exc.name)
            if exc.code == 405 and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        return exc


def _db() -> Any:
    return services().sessions()


@blueprint.before_request
def _allow_api_bodies() -> None:
    # Above the application-wide 64 KiB (meant for OAI-PMH POSTs): the largest body the request schemas allow, every
    # character written as a \u escape, must still fit. Per-request limits need Flask 3.1; on 3.0 the 64 KiB stays.
    with contextlib.suppress(AttributeError):  # Flask 3.0: the property has no setter
        request.max_content_length = MAX_BODY_BYTES


@blueprint.before_request
def _reject_control_characters() -> Response | None:
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(400, "the query string is not UTF-8")
    # A NUL byte in a query or path is refused by PostgreSQL as a string; answer 400 before it reaches a query.
    for value in [request.path, *request.args.values()]:
        if any(ord(ch) < 32 for ch in value):
            return error_response(400, "control characters are not allowed in the URL")
    return None


# --- who am I ----------------------------------------------------------------------------------------------------


@blueprint.get("/me")
@login_required()
def me() -> Response:
    user = current_user()
    assert user is not None  # login_required
    body: dict[str, Any] = {"username": user.username, "role": user.role, "via": user.via}
    if user.via == "session":
        body["csrf_token"] = csrf_token()  # what a script running in the logged-in browser sends as X-CSRF-Token
    return jsonify(body)


# --- overview ------------------------------------------------------------------------------------------------------


@blueprint.get("/overview")
@login_required()
def overview() -> Response:
    with _db() as session:
        return jsonify(operations.overview(session, services().config))


# --- sources -------------------------------------------------------------------------------------------------------


@blueprint.get("/sources")
@login_required()
def sources_list() -> Response:
    with _db() as session:
        return jsonify({"sources": sourcestore.list_sources(session)})


@blueprint.post("/sources")
@login_required("manager")
def sources_create() -> Response:
    data = json_body("createSource")
    with _db() as session:
        name = data.get("name")
        if isinstance(name, str) and sourcestore.get_source(session, name) is not None:
            raise ApiError(409, f"a source named {name!r} already exists", "name")
        saved = sourcestore.save_source(session, data)
        session.commit()
    response = jsonify(saved)
    response.status_code = 201
    response.headers["Location"] = f"/api/sources/{saved['name']}"
    return response


@blueprint.get("/sources.toml")
@login_required()
def sources_toml() -> Response:
    with _db() as session:
        text = sourcestore.export_toml(session)
    response = Response(text, mimetype="application/toml")
    response.headers["Content-Disposition"] = 'attachment; filename="sources.toml"'
    return response


def _existing(session: Any, name: str) -> dict[str, Any]:
    source = sourcestore.get_source(session, source_name(name))
    if source is None:
        raise ApiError(404, f"no source named {name!r}", "name")
    return source


@blueprint.get("/sources/<name>")
@login_required()
def source_get(name: str) -> Response:
    with _db() as session:
        return jsonify(_existing(session, name))


@blueprint.put("/sources/<name>")
@login_required("manager")
def source_put(name: str) -> Response:
    data = json_body("updateSource")
    with _db() as session:
        _existing(session, name)
        saved = sourcestore.save_source(session, data, name=name)
        session.commit()
    return jsonify(saved)


@blueprint.delete("/sources/<name>")
@login_required("manager")
def source_delete(name: str) -> Response:
    with _db() as session:
        _existing(session, name)
        sourcestore.delete_source(session, name)
        session.commit()
    return Response(status=204)


@blueprint.post("/sources/<name>/test")
@login_required("manager")
def source_test(name: str) -> Response:
    with _db() as session:
        source = _existing(session, name)
    return jsonify(operations.test_connection(source))


@blueprint.post("/sources/<name>/harvest")
@login_required("manager")
def source_harvest(name: str) -> Response:
    full = bool_arg("full")
    with _db() as session:
        _existing(session, name)
    svc = services()
    outcome = operations.start_harvest(svc.config, svc.engine, name, full=full)
    response = jsonify(outcome)
    response.status_code = 202 if outcome.get("started") else 409
    return response


# --- runs ----------------------------------------------------------------------------------------------------------


@blueprint.get("/runs")
@login_required()
def runs_list() -> Response:
    source = text_arg("source")
    limit = int_arg("limit", 50, minimum=1, maximum=MAX_LIMIT)
    offset = int_arg("offset", 0, minimum=0, maximum=MAX_OFFSET)
    with _db() as session:
        runs = operations.list_runs(session, source=source, limit=limit, offset=offset)
        total = operations.count_runs(session, source=source)
    return jsonify({"runs": runs, "total": total, "limit": limit, "offset": offset})


@blueprint.get("/runs/<int:run_id>")
@login_required()
def run_get(run_id: int) -> Response:
    if run_id > MAX_ROW_ID:
        raise ApiError(404, f"no run {run_id}")
    with _db() as session:
        run = operations.get_run(session, run_id)
    if run is None:
        raise ApiError(404, f"no run {run_id}")
    return jsonify(run)


# --- records -------------------------------------------------------------------------------------------------------


@blueprint.get("/records")
@login_required()
def records_search() -> Response:
    status = request.args.get("status")
    if status is not None and status not in RECORD_STATUSES:
        raise ApiError(400, f"status must be one of: {', '.join(RECORD_STATUSES)}", "status")
    limit = int_arg("limit", 50, minimum=1, maximum=MAX_LIMIT)
    offset = int_arg("offset", 0, minimum=0, maximum=MAX_OFFSET)
    with _db() as session:
        rows, total = operations.search_records(
            session,
            q=text_arg("q"),
            status=status,
            project=text_arg("project"),
            source=text_arg("source"),
            limit=limit,
            offset=offset,
        )
    return jsonify({"records": rows, "total": total, "limit": limit, "offset": offset})


@blueprint.get("/records/<path:ident>")
@login_required()
def record_get(ident: str) -> Response:
    if len(ident) > MAX_RECORD_ID:
        raise ApiError(404, "no such record")
    number = ident.strip()
    # All digits is read as a record's numeric id: one beyond the id column's range cannot exist (and SQLite raises
    # on it), and a non-ASCII digit such as "²" is no number int() can read.
    if number.isdigit() and not (number.isascii() and int(number) <= MAX_ROW_ID):
        raise ApiError(404, f"no record {ident!r}")
    with _db() as session:
        detail = operations.record_detail(session, ident, repository_identifier=services().config.repository.identifier)
    if detail is None:
        raise ApiError(404, f"no record {ident!r}")
    return jsonify(detail)


@blueprint.get("/quarantine")
@login_required()
def quarantine() -> Response:
    with _db() as session:
        return jsonify({"groups": operations.quarantine_groups(session, source=text_arg("source"))})


# --- reports -------------------------------------------------------------------------------------------------------


def _report_error(exc: Exception) -> ApiError:
    return ApiError(400, str(exc))


@blueprint.get("/reports/counts")
@login_required()
def report_counts() -> Response:
    with _db() as session:
        try:
            rows = reports.counts(session, project=text_arg("project"), source=text_arg("source"))
        except reports.ReportError as exc:
            raise _report_error(exc) from None
    return jsonify(
        {
            "categories": [c.to_dict() for c in reports.ACCESS_CATEGORIES],
            "rows": [row.to_dict() for row in rows],
            "totals": reports.totals(rows).to_dict(),
        }
    )


@blueprint.get("/reports/embargoes")
@login_required()
def report_embargoes() -> Response:
    today = date_arg("today")
    within = int_arg("within_days", 30, minimum=0, maximum=MAX_WITHIN_DAYS)
    with _db() as session:
        try:
            rows = reports.embargoes(session, today=today, within_days=within)
        except reports.ReportError as exc:
            raise _report_error(exc) from None
    return jsonify({"today": today.isoformat(), "within_days": within, "embargoes": _plain(rows)})


@blueprint.get("/reports/deadlines")
@login_required()
def report_deadlines() -> Response:
    today = date_arg("today")
    with _db() as session:
        try:
            rows = reports.deadlines(session, services().config, today=today)
        except reports.ReportError as exc:
            raise _report_error(exc) from None
    return jsonify({"today": today.isoformat(), "deadlines": _plain(rows)})


@blueprint.get("/reports/dmp")
@login_required()
def report_dmp() -> Response:
    today = date_arg("today")
    with _db() as session:
        try:
            rows = reports.reconciliation(session, services().config, today=today, project=text_arg("project"))
        except reports.ReportError as exc:
            raise ApiError(400, str(exc), "project") from None
    return jsonify({"today": today.isoformat(), "projects": reports.dmp_summary(rows), "rows": _plain(rows)})


@blueprint.get("/reports/transitions")
@login_required()
def report_transitions() -> Response:
    today = date_arg("today")
    within = int_arg("within_days", 90, minimum=0, maximum=MAX_WITHIN_DAYS)
    with _db() as session:
        try:
            found = reports.transitions(session, today=today, within_days=within, project=text_arg("project"))
        except reports.ReportError as exc:
            raise ApiError(400, str(exc), "project") from None
    return jsonify(found)


@blueprint.get("/reports/catalogue")
@login_required()
def report_catalogue() -> Response:
    with _db() as session:
        try:
            rows = reports.catalogue(session, project=text_arg("project"))
        except reports.ReportError as exc:
            raise ApiError(400, str(exc), "project") from None
    return jsonify({"datasets": rows})


# --- DMPs, imported as versions ------------------------------------------------------------------------------------


@blueprint.get("/dmp")
@login_required()
def dmp_list() -> Response:
    from gateway.admin.operations import dmp as dmp_ops

    with _db() as session:
        return jsonify(dmp_ops.dmp_projects(session))


@blueprint.get("/dmp/<project>/history")
@login_required()
def dmp_history(project: str) -> Response:
    from gateway.admin.operations import dmp as dmp_ops

    with _db() as session:
        found = dmp_ops.dmp_history(session, project)
    if found is None:
        raise ApiError(404, f"no DMP of {project!r} was imported", "project")
    return jsonify(found)


@blueprint.post("/dmp/import")
@login_required("manager")
def dmp_import() -> Response:
    from gateway.admin.openapi.limits import MAX_UPLOAD_BYTES
    from gateway.admin.operations import dmp as dmp_ops
    from gateway.dmp.reading import DmpImportError

    with contextlib.suppress(AttributeError):  # a workbook is larger than a JSON body (Flask 3.0: 64 KiB stays)
        request.max_content_length = MAX_UPLOAD_BYTES
    if request.mimetype != "multipart/form-data" or not request.files.getlist("file"):
        raise ApiError(400, "send the DMP file (.xlsx or .csv) as multipart/form-data, in a part named file", "file")
    try:
        uploads = [(dmp_ops.upload_name(part.filename), part.read()) for part in request.files.getlist("file")]
        svc = services()
        return jsonify(
            dmp_ops.import_uploads(svc.sessions, uploads, repository_identifier=svc.config.repository.identifier)
        )
    except DmpImportError as exc:
        raise ApiError(400, str(exc), "file") from None


# --- results publications (AMED's sharing transitions) -------------------------------------------------------------


@blueprint.route("/dmp/<project>/publications", methods=["GET", "POST"])
@login_required()
def publications(project: str) -> Response:
    from gateway.dmp import publications as pubs

    body = json_body("createPublication") if request.method == "POST" else None
    user = current_user()
    if body is not None and not (user and user.role == "manager"):
        raise ApiError(403, "the manager role is needed (you are a viewer)")
    with _db() as session:
        try:
            if body is None:
                pubs.require_dmp(session, project)
                return jsonify({"project": project, "publications": pubs.publications(session, project)})
            row = pubs.record_body(session, project, body, recorded_by=user.username if user else None)
        except pubs.PublicationError as exc:
            raise ApiError(404 if exc.field == "project" else 400, exc.message, exc.field) from None
        session.commit()
    response = jsonify(row)
    response.status_code = 201
    return response


def _plain(value: Any) -> Any:
    """Dates as ISO text (Flask would write them as HTTP dates)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- the description -----------------------------------------------------------------------------------------------


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(spec(services().config))
