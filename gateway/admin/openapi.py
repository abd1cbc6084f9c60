"""The OpenAPI 3 description of the management API, and the schemas its request bodies are checked against.

The description is the single source of truth: `spec()` serves it at /api/openapi.json, and `check_body()` validates
every request body against the very component schemas it publishes, so what the document promises and what the API
enforces cannot drift apart. The limits in it come from the code that enforces them again further in (the
configuration's rules, the source store's text limits), for the same reason.

The validator below implements the part of JSON Schema, in OpenAPI 3.0's dialect, that the request schemas use:
`type` (with `nullable`), `enum`, `required`, `properties`, `additionalProperties`, `items`, `minItems`/`maxItems`,
`minimum`/`maximum` (with 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum`), `minLength`/`maxLength`, `pattern`,
`readOnly` and local `$ref`s. A request schema using any other assertion keyword is refused when it is first used
(and by the tests), so that no rule in the document is silently left unchecked.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway import __version__
from gateway import config as gwconfig
from gateway.admin import sourcestore
from gateway.config import DISCLOSURES, METADATA_PREFIXES, PROFILES, SOURCE_KINDS, Config

_JSON = "application/json"

# Limits shared with gateway.admin.api, which checks the query parameters with them.
NAME_PATTERN = gwconfig._SOURCE_NAME.pattern  # the configuration's own rule for a source name
RECORD_STATUSES = ("published", "withheld", "quarantined", "deleted")
MAX_LIMIT = 500
MAX_OFFSET = 10**9
MAX_QUERY_TEXT = 500
MAX_RECORD_ID = 1300
MAX_ROW_ID = 2**31 - 1  # the range of the id columns (runs, records): a larger id cannot exist
MAX_WITHIN_DAYS = 3650
# A request body may be this large. It is well above the largest body the schemas allow, even with every character
# written as a \u escape (tests/test_api_validation.py computes that size), so a valid body is never refused as too
# large; the application-wide limit (64 KiB, for OAI-PMH POSTs) would refuse some.
MAX_BODY_BYTES = 1024 * 1024
MAX_SETS = 100
# What the source store refuses as well (sourcestore._check_values): control characters other than tab, and DEL.
_NO_CONTROL = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"
_READ_ONLY_SOURCE_FIELDS = ("origin", "edited_in_dashboard", "created_at", "updated_at", "edited_at")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref("Error")}}}


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
_TODAY = _query("today", {"type": "string", "format": "date"}, "the day to count from (default: today, UTC)")

_NULLABLE_STRING = {"type": "string", "nullable": True}


# --- source definitions --------------------------------------------------------------------------------------------


def _text(field: str, description: str | None = None) -> dict[str, Any]:
    # The store's own length limit, so that the document and the dashboard's forms refuse the same texts.
    schema: dict[str, Any] = {"type": "string", "maxLength": sourcestore._MAX_TEXT.get(field, 255)}
    schema["pattern"] = _NO_CONTROL
    if description:
        schema["description"] = description
    return schema


def _oai_option(field: str) -> dict[str, Any]:
    # The configuration's own ranges for an oai-pmh source's retry and politeness settings.
    default, low, high = gwconfig._OAI_OPTIONS[field]
    kind = "integer" if isinstance(default, int) else "number"
    return {
        "type": kind,
        "minimum": low,
        "maximum": high,
        "default": default,
        "description": "oai-pmh sources only" + ("" if kind == "integer" else " (seconds)"),
    }


def _source_setting(field: str) -> dict[str, Any]:
    """The input schema of one field of a [[sources]] table, as the configuration's rules accept it."""
    if field == "name":
        # maxLength says what the pattern already does ({0,63}), so that a body's largest size can be read off.
        return {
            "type": "string",
            "maxLength": 64,
            "pattern": NAME_PATTERN,
            "description": "stable: part of the records' identifiers",
        }
    if field == "kind":
        return {"type": "string", "enum": list(SOURCE_KINDS)}
    if field == "url":
        return _text(field, "an oai-pmh source's base URL (http or https), or a grdm/spreadsheet source's file URL")
    if field == "path":
        return _text(field, "a directory, grdm or spreadsheet source's file or folder (absolute)")
    if field == "metadata_prefix":
        return {"type": "string", "enum": list(METADATA_PREFIXES)}
    if field == "sets":
        return {"type": "array", "maxItems": MAX_SETS, "items": _text("sets")}
    if field == "metadata_disclosure":
        # "unknown" (the rows say it, or nobody has said it is public) only for grdm and spreadsheet sources.
        return {"type": "string", "enum": [*DISCLOSURES, "unknown"]}
    if field == "profile":
        return {"type": "string", "enum": list(PROFILES)}
    if field == "schedule":
        return _text(field, "cron: minute hour day month weekday (UTC)")
    if field == "enabled":
        return {"type": "boolean"}
    if field == "timeout":
        return {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 3600, "default": 60}
    if field in gwconfig._OAI_OPTIONS:
        return _oai_option(field)
    if field == "repository_name":
        return _text(field)
    raise ValueError(f"the source field {field!r} has no schema in the API description")


def _source_input(required: tuple[str, ...], description: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for field in sourcestore.FIELDS:
        schema = _source_setting(field)
        if field not in required:
            schema["nullable"] = True  # null is the same as leaving the setting out: its default
        properties[field] = schema
    for field in _READ_ONLY_SOURCE_FIELDS:
        # What GET answers may be sent back unchanged; the server ignores it.
        properties[field] = {"readOnly": True, "description": "ignored in a request"}
    return {
        "type": "object",
        "required": list(required),
        "properties": properties,
        "additionalProperties": False,
        "description": description,
    }


def _source_output() -> dict[str, Any]:
    # What is stored, described by types and values only: a source from the configuration file was never held to the
    # API's length limits, and an answer must not violate its own description.
    properties: dict[str, Any] = {}
    for field in sourcestore.FIELDS:
        schema = _source_setting(field)
        properties[field] = {key: schema[key] for key in ("type", "enum", "description") if key in schema}
        if field == "sets":
            properties[field]["items"] = {"type": "string"}
    properties.update(
        {
            "origin": {"type": "string", "enum": ["config", "dashboard"]},
            "edited_in_dashboard": {"type": "boolean"},
            "created_at": _NULLABLE_STRING,
            "updated_at": _NULLABLE_STRING,
            "edited_at": _NULLABLE_STRING,
        }
    )
    return {
        "type": "object",
        "required": ["name", "kind", "enabled", "origin", "edited_in_dashboard"],
        "properties": properties,
    }


def _schemas() -> dict[str, Any]:
    obj = {"type": "object"}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "field": {"type": "string", "description": "the parameter or body field at fault, as a dotted path"},
                "pointer": {"type": "string", "description": "the body field at fault, as a JSON pointer"},
                "rule": {"type": "string", "description": "the schema keyword the body violates"},
                "violations": {
                    "type": "array",
                    "description": "every violation of the request body's schema found (at most 20)",
                    "items": {
                        "type": "object",
                        "required": ["pointer", "rule", "error"],
                        "properties": {
                            "pointer": {"type": "string"},
                            "field": {"type": "string"},
                            "rule": {"type": "string"},
                            "error": {"type": "string"},
                        },
                    },
                },
            },
        },
        "SourceInput": _source_input(("name", "kind"), "a new source's settings (a missing setting takes its default)"),
        "SourceUpdate": _source_input(
            ("kind",), "the source's settings, all of them (a missing setting takes its default)"
        ),
        "Source": _source_output(),
        "Me": {
            "type": "object",
            "required": ["username", "role", "via"],
            "properties": {
                "username": {"type": "string"},
                "role": {"type": "string", "enum": ["manager", "viewer"]},
                "via": {"type": "string", "enum": ["session", "token"]},
                "csrf_token": {"type": "string"},
            },
        },
        "Overview": {
            "type": "object",
            "required": ["sources", "latest_errors", "totals"],
            "properties": {
                "sources": {"type": "array", "items": obj},
                "latest_errors": {"type": "array", "items": obj},
                "totals": obj,
            },
        },
        "ConnectionTest": {
            "type": "object",
            "required": ["ok", "identify", "formats", "sets", "error"],
            "properties": {
                "ok": {"type": "boolean"},
                "identify": obj,
                "formats": {"type": "array", "items": obj},
                "sets": {"type": "array", "items": obj},
                "error": _NULLABLE_STRING,
                "problems": {"type": "array", "items": {"type": "string"}},
            },
        },
        "HarvestStart": {
            "type": "object",
            "required": ["started", "run_id", "message"],
            "properties": {
                "started": {"type": "boolean"},
                "run_id": {"type": "integer", "nullable": True},
                "message": {"type": "string"},
            },
        },
        "Run": {
            "type": "object",
            "required": ["id", "source", "mode", "status", "records"],
            "properties": {
                "id": {"type": "integer"},
                "source": {"type": "string"},
                "mode": {"type": "string"},
                "status": {"type": "string"},
                "started": _NULLABLE_STRING,
                "finished": _NULLABLE_STRING,
                "pages": {"type": "integer"},
                "records": {"type": "object", "additionalProperties": {"type": "integer"}},
                "warnings": {"type": "array"},
                "errors": {"type": "array"},
            },
        },
        "RunList": {
            "type": "object",
            "required": ["runs", "total"],
            "properties": {"runs": {"type": "array", "items": _ref("Run")}, "total": {"type": "integer"}},
        },
        "RecordList": {
            "type": "object",
            "required": ["records", "total"],
            "properties": {"records": {"type": "array", "items": obj}, "total": {"type": "integer"}},
        },
        "RecordDetail": obj,
        "QuarantineGroups": {
            "type": "object",
            "required": ["groups"],
            "properties": {"groups": {"type": "array", "items": obj}},
        },
        "Counts": {
            "type": "object",
            "required": ["categories", "rows", "totals"],
            "properties": {
                "categories": {"type": "array", "items": obj},
                "rows": {"type": "array", "items": obj},
                "totals": obj,
            },
        },
        "Embargoes": {
            "type": "object",
            "required": ["today", "embargoes"],
            "properties": {"today": {"type": "string"}, "embargoes": {"type": "array", "items": obj}},
        },
        "Deadlines": {
            "type": "object",
            "required": ["today", "deadlines"],
            "properties": {"today": {"type": "string"}, "deadlines": {"type": "array", "items": obj}},
        },
    }


# --- what each operation can answer ---------------------------------------------------------------------------------

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
    "content": {_JSON: {"schema": _ref("Error")}},
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
    return {"required": True, "content": {_JSON: {"schema": _ref(schema)}}}


def _paths() -> dict[str, Any]:
    source_not_found = _err("no such source")
    created = _ok(_ref("Source"), "created")
    created["headers"] = {"Location": {"schema": {"type": "string"}, "description": "the new source's URL"}}
    return {
        "/api/me": {
            "get": {
                "operationId": "me",
                "summary": "Who the request is authenticated as",
                "responses": _responses({"200": _ok(_ref("Me"))}),
            }
        },
        "/api/overview": {
            "get": {
                "operationId": "overview",
                "summary": "Each source's state, the latest errors and the provider's totals",
                "responses": _responses({"200": _ok(_ref("Overview"))}),
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
                                "properties": {"sources": {"type": "array", "items": _ref("Source")}},
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
                "responses": _responses({"200": _ok(_ref("Source")), "404": source_not_found}),
            },
            "put": {
                "operationId": "updateSource",
                "summary": "Replace a source's settings (a dashboard edit: the file no longer overrides it)",
                "requestBody": _json_body("SourceUpdate"),
                "responses": _responses({"200": _ok(_ref("Source")), "404": source_not_found}, write=True, body=True),
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
                "responses": _responses({"200": _ok(_ref("ConnectionTest")), "404": source_not_found}, write=True),
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
                        "202": _ok(_ref("HarvestStart"), "started"),
                        "404": source_not_found,
                        "409": _ok(_ref("HarvestStart"), "not started (running already, or disabled)"),
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
                "responses": _responses({"200": _ok(_ref("RunList"))}),
            }
        },
        "/api/runs/{id}": {
            "get": {
                "operationId": "getRun",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
                ],
                "responses": _responses({"200": _ok(_ref("Run")), "404": _err("no such run")}),
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
                "responses": _responses({"200": _ok(_ref("RecordList"))}),
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
                "responses": _responses({"200": _ok(_ref("RecordDetail")), "404": _err("no such record")}),
            }
        },
        "/api/quarantine": {
            "get": {
                "operationId": "quarantine",
                "summary": "Quarantined records grouped by finding",
                "parameters": [_SOURCE_FILTER],
                "responses": _responses({"200": _ok(_ref("QuarantineGroups"))}),
            }
        },
        "/api/reports/counts": {
            "get": {
                "operationId": "reportCounts",
                "summary": "Records per project by access category",
                "parameters": [_text_query("project", "one Japan Grant Number"), _SOURCE_FILTER],
                "responses": _responses({"200": _ok(_ref("Counts"))}),
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
                "responses": _responses({"200": _ok(_ref("Embargoes"))}),
            }
        },
        "/api/reports/deadlines": {
            "get": {
                "operationId": "reportDeadlines",
                "summary": "Each configured project's registration deadline",
                "parameters": [_TODAY],
                "responses": _responses({"200": _ok(_ref("Deadlines"))}),
            }
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


_DESCRIPTION = (
    "Authenticate with `Authorization: Bearer <token>` (create one with `gateway tokens create`), or with the "
    "dashboard's session cookie plus the `X-CSRF-Token` header on writes. Viewers may read; writes need the manager "
    'role. Errors are `{"error": ..., "field": ...}`; every invalid request, whether a parameter, the body\'s shape '
    "(checked against the request schemas of this document) or a setting the configuration's rules refuse, is "
    f"answered `400`. Request bodies may be at most {MAX_BODY_BYTES // 1024} KiB (`413`). A path under /api that "
    "is not listed answers `404`, and a method a path does not list `405` with `Allow` (anonymous visitors get "
    "`401` for both)."
)


@functools.cache
def _document() -> dict[str, Any]:
    # Built once per process: `check_body` reads it on every write, and nothing in it depends on the configuration.
    return {
        "openapi": "3.0.3",
        "info": {"title": "Gateway management API", "version": __version__, "description": _DESCRIPTION},
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "gateway_session"},
            },
            "schemas": _schemas(),
        },
    }


def spec(config: Config | None = None) -> dict[str, Any]:
    """The description as /api/openapi.json serves it (a copy: the caller may change it freely)."""
    document = copy.deepcopy(_document())
    if config is not None:
        document["info"]["title"] += f" — {config.repository.name}"
    return document


# --- request bodies --------------------------------------------------------------------------------------------------

MAX_VIOLATIONS = 20
_TYPES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
}
# Keywords that assert nothing, and those the validator enforces; anything else in a request schema is refused.
_ANNOTATIONS = frozenset({"description", "title", "default", "example", "readOnly"})
_ASSERTIONS = frozenset(
    {
        "$ref",
        "type",
        "nullable",
        "enum",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
    }
)


@dataclass(frozen=True)
class Violation:
    """One way a request body breaks its schema: where (a path into the body), which keyword, and what it means."""

    path: tuple[str | int, ...]
    rule: str
    message: str

    @property
    def pointer(self) -> str:
        """RFC 6901: "" for the body itself, "/sets/0" for the first of its sets."""
        return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in self.path)

    @property
    def field(self) -> str:
        """The dotted form the API's other errors use for a field ("timeout", "sets.0"); "" for the body itself."""
        return ".".join(str(part) for part in self.path)

    def as_dict(self) -> dict[str, str]:
        out = {"pointer": self.pointer, "rule": self.rule, "error": self.describe()}
        if self.path:
            out["field"] = self.field
        return out

    def describe(self) -> str:
        return f"{self.field or 'the body'}: {self.message} ({self.rule})"


class BodyError(ValueError):
    """A request body that violates the request schema the description publishes for its operation."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__(violations[0].describe())


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        prefix = "#/components/schemas/"
        if not isinstance(ref, str) or not ref.startswith(prefix) or seen > 32:
            raise ValueError(f"cannot follow $ref {ref!r} in the API description")
        schema = _document()["components"]["schemas"][ref[len(prefix) :]]
        seen += 1
    return schema


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from (schema.get("properties") or {}).values()
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield schema[key]


def _check_supported(schema: dict[str, Any], where: str, seen: set[int] | None = None) -> None:
    seen = set() if seen is None else seen
    if id(schema) in seen:
        return
    seen.add(id(schema))
    unknown = set(schema) - _ANNOTATIONS - _ASSERTIONS
    if unknown:
        raise ValueError(f"{where} uses {', '.join(sorted(unknown))}, which the request validator does not enforce")
    if "$ref" in schema:
        _check_supported(_resolve(schema), where, seen)
    for sub in _subschemas(schema):
        _check_supported(sub, where, seen)


@functools.cache
def request_schema(operation_id: str) -> dict[str, Any]:
    """The JSON request body schema that the description publishes for an operation (resolved, checked usable)."""
    for operations in _document()["paths"].values():
        for method, operation in operations.items():
            if method == "parameters" or operation.get("operationId") != operation_id:
                continue
            content = (operation.get("requestBody") or {}).get("content") or {}
            if _JSON not in content:
                raise KeyError(f"operation {operation_id!r} takes no JSON body")
            schema = _resolve(content[_JSON]["schema"])
            _check_supported(schema, f"the request body of {operation_id}")
            return schema
    raise KeyError(f"no operation {operation_id!r} in the API description")


def body_operations() -> list[str]:
    """The operationIds whose requests carry a JSON body."""
    return [
        operation["operationId"]
        for operations in _document()["paths"].values()
        for method, operation in operations.items()
        if method != "parameters" and _JSON in ((operation.get("requestBody") or {}).get("content") or {})
    ]


def check_body(operation_id: str, body: Any) -> None:
    """Raise BodyError when `body` violates the operation's published request schema."""
    found = violations(body, request_schema(operation_id))
    if found:
        raise BodyError(found)


def violations(value: Any, schema: dict[str, Any], *, limit: int = MAX_VIOLATIONS) -> list[Violation]:
    """Every way (up to `limit`) in which `value`, parsed JSON, breaks `schema`, in document order."""
    out: list[Violation] = []
    _validate(value, schema, (), out, limit)
    return out


def _is_type(value: Any, expected: str) -> bool:
    # bool is an int in Python but not in JSON; NaN and infinities are no JSON numbers at all.
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if expected == "array":
        return isinstance(value, list)
    if expected == "object":
        return isinstance(value, dict)
    raise ValueError(f"unknown type {expected!r} in the API description")


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _shown(value: Any) -> str:
    # The offending value as JSON, cut short: enough to recognise it, never a copy of a megabyte.
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_Path = tuple[str | int, ...]


def _validate(value: Any, schema: dict[str, Any], path: _Path, out: list[Violation], limit: int) -> None:
    if len(out) >= limit:
        return
    schema = _resolve(schema)

    def fail(rule: str, message: str, where: tuple[str | int, ...] = path) -> None:
        if len(out) < limit:
            out.append(Violation(where, rule, message))

    if value is None and schema.get("nullable"):
        return
    expected = schema.get("type")
    if expected is not None and not _is_type(value, expected):
        alternatives = f"{_TYPES[expected]}, or null" if schema.get("nullable") else _TYPES[expected]
        fail("type", f"must be {alternatives}, not {_shown(value)}")
        return  # the other keywords say nothing useful about a value of the wrong type
    if "enum" in schema and not any(_same(value, allowed) for allowed in schema["enum"]):
        fail("enum", f"must be one of: {', '.join(str(allowed) for allowed in schema['enum'])}; not {_shown(value)}")
        return
    if isinstance(value, str):
        _validate_string(value, schema, fail)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(value, schema, fail)
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            fail("minItems", f"must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            fail("maxItems", f"must have at most {schema['maxItems']} items")
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                _validate(item, schema["items"], (*path, index), out, limit)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, out, limit, fail)


def _validate_string(value: str, schema: dict[str, Any], fail: Any) -> None:
    # Lengths count characters (code points), as JSON Schema does, not bytes or UTF-16 units.
    if "minLength" in schema and len(value) < schema["minLength"]:
        fail("minLength", f"must have at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        fail("maxLength", f"must have at most {schema['maxLength']} characters, not {len(value)}")
    if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        fail("pattern", f"must match {schema['pattern']}")


def _validate_number(value: float, schema: dict[str, Any], fail: Any) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    # OpenAPI 3.0 writes exclusiveness as a boolean beside minimum/maximum; JSON Schema 2019+ as a number of its own.
    if low is not None and (value <= low if exclusive_low is True else value < low):
        fail(
            "exclusiveMinimum" if exclusive_low is True else "minimum",
            f"must be {'more than' if exclusive_low is True else 'at least'} {_number(low)}",
        )
    elif not isinstance(exclusive_low, bool) and exclusive_low is not None and value <= exclusive_low:
        fail("exclusiveMinimum", f"must be more than {_number(exclusive_low)}")
    if high is not None and (value >= high if exclusive_high is True else value > high):
        fail(
            "exclusiveMaximum" if exclusive_high is True else "maximum",
            f"must be {'less than' if exclusive_high is True else 'at most'} {_number(high)}",
        )
    elif not isinstance(exclusive_high, bool) and exclusive_high is not None and value >= exclusive_high:
        fail("exclusiveMaximum", f"must be less than {_number(exclusive_high)}")


def _validate_object(
    value: dict[str, Any],
    schema: dict[str, Any],
    path: tuple[str | int, ...],
    out: list[Violation],
    limit: int,
    fail: Any,
) -> None:
    properties: dict[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or ():
        # OpenAPI 3.0: a required read-only property is required in answers only.
        if name not in value and not _resolve(properties.get(name) or {}).get("readOnly"):
            fail("required", "is required", (*path, name))
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            if _resolve(properties[name]).get("readOnly"):
                continue  # sent back from an answer: ignored, so not checked either
            _validate(item, properties[name], (*path, name), out, limit)
        elif extra is False:
            known = ", ".join(key for key, sub in properties.items() if not _resolve(sub).get("readOnly"))
            fail("additionalProperties", f"is not a known field (expected one of: {known})", (*path, name))
        elif isinstance(extra, dict):
            _validate(item, extra, (*path, name), out, limit)


@functools.lru_cache(maxsize=64)
def _pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema (ECMA-262) pattern as a Python regular expression.

    The one difference that matters here: ECMA-262's `$` matches only at the very end, Python's also before a final
    newline, which would let "name\\n" pass a pattern meant to forbid it. `\\d`, `\\w` and `\\s` are ASCII in ECMA-262
    (without the u flag), hence re.ASCII.
    """
    out: list[str] = []
    in_class = escaped = False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == "$":
            out.append(r"\Z")
        else:
            out.append(ch)
    return re.compile("".join(out), re.ASCII)
