"""The operations of the description: each path and method of /api, its parameters and every answer it can give.

Besides each operation's own answers, `_responses` adds those that checks common to many operations give (the URL
checks of gateway.admin.api, the authentication and role guard and the CSRF check of gateway.admin.auth, the body
size limit), so that every status the API can answer is documented for its operation.
"""

from __future__ import annotations

from typing import Any

from gateway.admin.openapi.components import JSON, ref
from gateway.admin.openapi.limits import (
    MAX_BODY_BYTES,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY_TEXT,
    MAX_RECORD_ID,
    MAX_UPLOAD_BYTES,
    MAX_WITHIN_DAYS,
    NAME_PATTERN,
    RECORD_STATUSES,
)


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _text_query(name: str, description: str) -> dict[str, Any]:
    return _query(name, {"type": "string", "maxLength": MAX_QUERY_TEXT}, description)


_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}, "page size")
_OFFSET = _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}, "rows to skip")
_SOURCE_FILTER = _text_query("source", "only this source")
_SOURCE_PATH = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": NAME_PATTERN},
    "description": "the source's name",
}
_PROJECT_PATH = {
    "name": "project",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    "description": "the project's Japan Grant Number",
}
_NO_DMP = _err("no DMP is imported for the project")
_TODAY = _query("today", {"type": "string", "format": "date"}, "the day to count from (default: today, UTC)")
_BAD_URL = "the URL holds control characters, the query string is not UTF-8, or a parameter is not valid (`field`)"
_BAD_CSRF = "; from a browser session, the X-CSRF-Token header is missing or wrong"
_BAD_BODY = (
    "; or the body is not a JSON object sent as application/json, or it violates the request schema (`field`, "
    "`pointer` and `rule` name the first violation, `violations` lists them), or a setting is not valid by the "
    "configuration's rules (`field` names it)"
)
_UNAUTHENTICATED = {
    "description": "not authenticated: no session, and no valid bearer token",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="gateway"'}},
    "content": {JSON: {"schema": ref("Error")}},
}


def _responses(own: dict[str, Any], *, write: bool = False, body: bool = False, public: bool = False) -> dict[str, Any]:
    """The operation's answers: its own (success, 404, 409) plus those that checks common to many operations give.

    - 400: gateway.admin.api refuses control characters in the URL and a query string that is not UTF-8 before any
      view runs, and gateway.admin.auth refuses a session-authenticated write without its CSRF header;
    - 401: gateway.admin.auth, before any view, for every operation but the public description;
    - 403: the same guard, for a write by a viewer (reads are open to every role);
    - 413: a body larger than MAX_BODY_BYTES, for the operations that read one;
    - 500: an unexpected failure, logged, answered without details.
    """
    bad = _BAD_URL + (_BAD_CSRF if write else "") + (_BAD_BODY if body else "")
    out: dict[str, Any] = dict(own)
    out["400"] = _err(bad)
    if not public:
        out["401"] = _UNAUTHENTICATED
    if write:
        out["403"] = _err("the manager role is needed (you are a viewer)")
    if body:
        out["413"] = _err(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    out["500"] = _err("an unexpected failure (the gateway's log has the details)")
    return dict(sorted(out.items()))


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": ref(schema)}}}


def paths() -> dict[str, Any]:
    source_not_found = _err("no such source")
    created = _ok(ref("Source"), "created")
    created["headers"] = {"Location": {"schema": {"type": "string"}, "description": "the new source's URL"}}
    return {
        "/api/me": {
            "get": {
                "operationId": "me",
                "summary": "Who the request is authenticated as",
                "responses": _responses({"200": _ok(ref("Me"))}),
            }
        },
        "/api/overview": {
            "get": {
                "operationId": "overview",
                "summary": "Each source's state, the latest errors and the provider's totals",
                "responses": _responses({"200": _ok(ref("Overview"))}),
            }
        },
        "/api/sources": {
            "get": {
                "operationId": "listSources",
                "summary": "The sources kept in the database",
                "responses": _responses(
                    {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["sources"],
                                "properties": {"sources": {"type": "array", "items": ref("Source")}},
                            }
                        )
                    }
                ),
            },
            "post": {
                "operationId": "createSource",
                "summary": "Add a source (validated by this schema, then by the configuration file's rules)",
                "requestBody": _json_body("SourceInput"),
                "responses": _responses(
                    {"201": created, "409": _err("a source of that name exists")}, write=True, body=True
                ),
            },
        },
        "/api/sources.toml": {
            "get": {
                "operationId": "exportSources",
                "summary": "The sources as [[sources]] tables of a configuration file",
                "responses": _responses(
                    {"200": {"description": "TOML", "content": {"application/toml": {"schema": {"type": "string"}}}}}
                ),
            }
        },
        "/api/sources/{name}": {
            "parameters": [_SOURCE_PATH],
            "get": {
                "operationId": "getSource",
                "responses": _responses({"200": _ok(ref("Source")), "404": source_not_found}),
            },
            "put": {
                "operationId": "updateSource",
                "summary": "Replace a source's settings (a dashboard edit: the file no longer overrides it)",
                "requestBody": _json_body("SourceUpdate"),
                "responses": _responses({"200": _ok(ref("Source")), "404": source_not_found}, write=True, body=True),
            },
            "delete": {
                "operationId": "deleteSource",
                "summary": "Stop harvesting a source (its records stay)",
                "responses": _responses({"204": {"description": "deleted"}, "404": source_not_found}, write=True),
            },
        },
        "/api/sources/{name}/test": {
            "parameters": [_SOURCE_PATH],
            "post": {
                "operationId": "testSource",
                "summary": "Identify, ListMetadataFormats and ListSets of the source",
                "responses": _responses({"200": _ok(ref("ConnectionTest")), "404": source_not_found}, write=True),
            },
        },
        "/api/sources/{name}/harvest": {
            "parameters": [_SOURCE_PATH],
            "post": {
                "operationId": "harvestSource",
                "summary": "Start a harvest now, in the background",
                "parameters": [_query("full", {"type": "boolean"}, "re-harvest everything")],
                "responses": _responses(
                    {
                        "202": _ok(ref("HarvestStart"), "started"),
                        "404": source_not_found,
                        "409": _ok(ref("HarvestStart"), "not started (running already, or disabled)"),
                    },
                    write=True,
                ),
            },
        },
        "/api/runs": {
            "get": {
                "operationId": "listRuns",
                "summary": "The harvest history, newest first",
                "parameters": [_SOURCE_FILTER, _LIMIT, _OFFSET],
                "responses": _responses({"200": _ok(ref("RunList"))}),
            }
        },
        "/api/runs/{id}": {
            "get": {
                "operationId": "getRun",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
                ],
                "responses": _responses({"200": _ok(ref("Run")), "404": _err("no such run")}),
            }
        },
        "/api/records": {
            "get": {
                "operationId": "searchRecords",
                "summary": "Search by title, identifier, project and status",
                "parameters": [
                    _text_query("q", "title or identifier, partly"),
                    _query("status", {"type": "string", "enum": list(RECORD_STATUSES)}, "the record's status"),
                    _text_query("project", "Japan Grant Number or project name"),
                    _SOURCE_FILTER,
                    _LIMIT,
                    _OFFSET,
                ],
                "responses": _responses({"200": _ok(ref("RecordList"))}),
            }
        },
        "/api/records/{id}": {
            "get": {
                "operationId": "getRecord",
                "summary": "Raw record, canonical JPCOAR, each output format, findings and publication history",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_RECORD_ID},
                        "description": "OAI identifier, local id or numeric id",
                    }
                ],
                "responses": _responses({"200": _ok(ref("RecordDetail")), "404": _err("no such record")}),
            }
        },
        "/api/quarantine": {
            "get": {
                "operationId": "quarantine",
                "summary": "Quarantined records grouped by finding",
                "parameters": [_SOURCE_FILTER],
                "responses": _responses({"200": _ok(ref("QuarantineGroups"))}),
            }
        },
        "/api/reports/counts": {
            "get": {
                "operationId": "reportCounts",
                "summary": "Records per project by access category",
                "parameters": [_text_query("project", "one Japan Grant Number"), _SOURCE_FILTER],
                "responses": _responses({"200": _ok(ref("Counts"))}),
            }
        },
        "/api/reports/embargoes": {
            "get": {
                "operationId": "reportEmbargoes",
                "summary": "Embargoes that end soon or have ended",
                "parameters": [
                    _TODAY,
                    _query("within_days", {"type": "integer", "minimum": 0, "maximum": MAX_WITHIN_DAYS}, "days ahead"),
                ],
                "responses": _responses({"200": _ok(ref("Embargoes"))}),
            }
        },
        "/api/reports/deadlines": {
            "get": {
                "operationId": "reportDeadlines",
                "summary": "Each project's registration due dates (each fiscal year, the end), overdue first",
                "parameters": [_TODAY],
                "responses": _responses({"200": _ok(ref("Deadlines"))}),
            }
        },
        "/api/reports/dmp": {
            "get": {
                "operationId": "reportDmp",
                "summary": "Each DMP's datasets against the records held: registered, not registered, undeclared",
                "parameters": [_TODAY, _text_query("project", "one Japan Grant Number (400 when it has no DMP)")],
                "responses": _responses({"200": _ok(ref("DmpReconciliation"))}),
            }
        },
        "/api/reports/transitions": {
            "get": {
                "operationId": "reportTransitions",
                "summary": "AMED's sharing transitions (制限共有 to open) overdue or due, and the DMP reviews",
                "parameters": [
                    _TODAY,
                    _query("within_days", {"type": "integer", "minimum": 0, "maximum": MAX_WITHIN_DAYS}, "days ahead"),
                    _text_query("project", "one Japan Grant Number (400 when it has no DMP)"),
                ],
                "responses": _responses({"200": _ok(ref("Transitions"))}),
            }
        },
        "/api/reports/catalogue": {
            "get": {
                "operationId": "reportCatalogue",
                "summary": "The DMP items AMED DataCat publishes, per dataset (never the items the DMP keeps private)",
                "parameters": [_text_query("project", "one Japan Grant Number (400 when it has no DMP)")],
                "responses": _responses({"200": _ok(ref("Catalogue"))}),
            }
        },
        "/api/dmp": {
            "get": {
                "operationId": "listDmps",
                "summary": "The projects with a DMP: current version, period, datasets (as `gateway dmp list`)",
                "responses": _responses({"200": _ok(ref("DmpProjects"))}),
            }
        },
        "/api/dmp/import": {
            "post": {
                "operationId": "importDmp",
                "summary": "Import DMP files (.xlsx or .csv) as new versions of their projects' DMPs",
                "description": (
                    "As `gateway dmp import`: every file is read before anything is stored, and a file that cannot "
                    "be read refuses the request (400, nothing changed). Rows with a bad value are held and listed "
                    f"in the answer; the rest is imported. The request may be at most {MAX_UPLOAD_BYTES // 2**20} MiB."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary",
                                             "description": "a DMP file; several parts named file may be sent"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    **_responses({"200": _ok(ref("DmpImport"), "imported")}, write=True, body=True),
                    "413": _err(f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MiB"),
                },
            }
        },
        "/api/dmp/{project}/history": {
            "parameters": [_PROJECT_PATH],
            "get": {
                "operationId": "dmpHistory",
                "summary": "Every version of a project's DMP, oldest first, with what each one changed",
                "responses": _responses({"200": _ok(ref("DmpHistory")), "404": _NO_DMP}),
            },
        },
        "/api/dmp/{project}/publications": {
            "parameters": [_PROJECT_PATH],
            "get": {
                "operationId": "listPublications",
                "summary": "The results publications recorded for a project, oldest first",
                "responses": _responses({"200": _ok(ref("Publications")), "404": _NO_DMP}),
            },
            "post": {
                "operationId": "createPublication",
                "summary": "Record a publication of the project's results (a paper accepted, a patent published)",
                "requestBody": _json_body("PublicationInput"),
                "responses": _responses(
                    {"201": _ok(ref("Publication"), "recorded"), "404": _NO_DMP}, write=True, body=True
                ),
            },
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description",
                "security": [],
                "responses": _responses({"200": _ok({"type": "object"})}, public=True),
            }
        },
    }
