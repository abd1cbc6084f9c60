"""The OpenAPI 3 description of the management API, built from the same lists of values the code validates with."""

from __future__ import annotations

from typing import Any

from gateway import __version__
from gateway.config import DISCLOSURES, METADATA_PREFIXES, PROFILES, SOURCE_KINDS, Config

_JSON = "application/json"
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": _ref("Error")}}}


_AUTH_ERRORS = {"401": _err("not authenticated"), "403": _err("the manager role is needed")}
_READ_ERRORS = {"400": _err("a parameter is not valid"), "401": _err("not authenticated")}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size")
_OFFSET = _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "rows to skip")
_SOURCE_FILTER = _query("source", {"type": "string", "maxLength": 500}, "only this source")
_SOURCE_PATH = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": _NAME_PATTERN},
    "description": "the source's name",
}
_TODAY = _query("today", {"type": "string", "format": "date"}, "the day to count from (default: today, UTC)")

_NULLABLE_STRING = {"type": "string", "nullable": True}


def _source_fields() -> dict[str, Any]:
    return {
        "name": {"type": "string", "pattern": _NAME_PATTERN, "description": "stable: part of the records' identifiers"},
        "kind": {"type": "string", "enum": list(SOURCE_KINDS)},
        "url": {"type": "string", "maxLength": 2000, "description": "an oai-pmh source's base URL (http or https)"},
        "path": {"type": "string", "maxLength": 4096, "description": "a directory source's folder (absolute)"},
        "metadata_prefix": {"type": "string", "enum": list(METADATA_PREFIXES)},
        "sets": {"type": "array", "items": {"type": "string", "maxLength": 255}},
        "metadata_disclosure": {"type": "string", "enum": list(DISCLOSURES)},
        "profile": {"type": "string", "enum": list(PROFILES)},
        "schedule": {"type": "string", "maxLength": 200, "description": "cron: minute hour day month weekday (UTC)"},
        "enabled": {"type": "boolean"},
        "timeout": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 3600},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 100},
        "retry_ceiling": {"type": "number", "minimum": 0, "maximum": 86400},
        "min_delay": {"type": "number", "minimum": 0, "maximum": 3600},
        "repository_name": {"type": "string", "maxLength": 1000},
    }


def _schemas() -> dict[str, Any]:
    source_out = dict(_source_fields())
    source_out.update(
        {
            "origin": {"type": "string", "enum": ["config", "dashboard"]},
            "edited_in_dashboard": {"type": "boolean"},
            "created_at": _NULLABLE_STRING,
            "updated_at": _NULLABLE_STRING,
            "edited_at": _NULLABLE_STRING,
        }
    )
    obj = {"type": "object"}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
        },
        "SourceInput": {
            "type": "object",
            "required": ["name", "kind"],
            "properties": _source_fields(),
            "additionalProperties": False,
        },
        "SourceUpdate": {
            "type": "object",
            "required": ["kind"],
            "properties": _source_fields(),
            "additionalProperties": False,
            "description": "the source's settings, all of them (a missing setting takes its default)",
        },
        "Source": {
            "type": "object",
            "required": ["name", "kind", "enabled", "origin", "edited_in_dashboard"],
            "properties": source_out,
        },
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


def _paths() -> dict[str, Any]:
    source_not_found = _err("no such source")
    return {
        "/api/me": {
            "get": {
                "operationId": "me",
                "summary": "Who the request is authenticated as",
                "responses": {"200": _ok(_ref("Me")), **_AUTH_ERRORS},
            }
        },
        "/api/overview": {
            "get": {
                "operationId": "overview",
                "summary": "Each source's state, the latest errors and the provider's totals",
                "responses": {"200": _ok(_ref("Overview")), **_AUTH_ERRORS},
            }
        },
        "/api/sources": {
            "get": {
                "operationId": "listSources",
                "summary": "The sources kept in the database",
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "required": ["sources"],
                            "properties": {"sources": {"type": "array", "items": _ref("Source")}},
                        }
                    ),
                    **_AUTH_ERRORS,
                },
            },
            "post": {
                "operationId": "createSource",
                "summary": "Add a source (validated by the configuration file's rules)",
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("SourceInput")}}},
                "responses": {
                    "201": _ok(_ref("Source"), "created"),
                    "400": _err("a setting is not valid; `field` names it"),
                    "409": _err("a source of that name exists"),
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/sources.toml": {
            "get": {
                "operationId": "exportSources",
                "summary": "The sources as [[sources]] tables of a configuration file",
                "responses": {
                    "200": {"description": "TOML", "content": {"application/toml": {"schema": {"type": "string"}}}},
                    **_AUTH_ERRORS,
                },
            }
        },
        "/api/sources/{name}": {
            "parameters": [_SOURCE_PATH],
            "get": {
                "operationId": "getSource",
                "responses": {"200": _ok(_ref("Source")), "404": source_not_found, **_AUTH_ERRORS},
            },
            "put": {
                "operationId": "updateSource",
                "summary": "Replace a source's settings (a dashboard edit: the file no longer overrides it)",
                "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("SourceUpdate")}}},
                "responses": {
                    "200": _ok(_ref("Source")),
                    "400": _err("a setting is not valid; `field` names it"),
                    "404": source_not_found,
                    **_AUTH_ERRORS,
                },
            },
            "delete": {
                "operationId": "deleteSource",
                "summary": "Stop harvesting a source (its records stay)",
                "responses": {"204": {"description": "deleted"}, "404": source_not_found, **_AUTH_ERRORS},
            },
        },
        "/api/sources/{name}/test": {
            "parameters": [_SOURCE_PATH],
            "post": {
                "operationId": "testSource",
                "summary": "Identify, ListMetadataFormats and ListSets of the source",
                "responses": {"200": _ok(_ref("ConnectionTest")), "404": source_not_found, **_AUTH_ERRORS},
            },
        },
        "/api/sources/{name}/harvest": {
            "parameters": [_SOURCE_PATH],
            "post": {
                "operationId": "harvestSource",
                "summary": "Start a harvest now, in the background",
                "parameters": [_query("full", {"type": "boolean"}, "re-harvest everything")],
                "responses": {
                    "202": _ok(_ref("HarvestStart"), "started"),
                    "409": _ok(_ref("HarvestStart"), "not started (running already, or disabled)"),
                    "400": _err("a parameter is not valid"),
                    "404": source_not_found,
                    **_AUTH_ERRORS,
                },
            },
        },
        "/api/runs": {
            "get": {
                "operationId": "listRuns",
                "summary": "The harvest history, newest first",
                "parameters": [_SOURCE_FILTER, _LIMIT, _OFFSET],
                "responses": {"200": _ok(_ref("RunList")), **_READ_ERRORS},
            }
        },
        "/api/runs/{id}": {
            "get": {
                "operationId": "getRun",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
                ],
                "responses": {"200": _ok(_ref("Run")), "404": _err("no such run"), **_READ_ERRORS},
            }
        },
        "/api/records": {
            "get": {
                "operationId": "searchRecords",
                "summary": "Search by title, identifier, project and status",
                "parameters": [
                    _query("q", {"type": "string", "maxLength": 500}, "title or identifier, partly"),
                    _query("status", {"type": "string", "enum": ["published", "withheld", "quarantined", "deleted"]},
                           "the record's status"),
                    _query("project", {"type": "string", "maxLength": 500}, "Japan Grant Number or project name"),
                    _SOURCE_FILTER,
                    _LIMIT,
                    _OFFSET,
                ],
                "responses": {"200": _ok(_ref("RecordList")), **_READ_ERRORS},
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
                        "schema": {"type": "string", "minLength": 1, "maxLength": 1300},
                        "description": "OAI identifier, local id or numeric id",
                    }
                ],
                "responses": {"200": _ok(_ref("RecordDetail")), "404": _err("no such record"), **_READ_ERRORS},
            }
        },
        "/api/quarantine": {
            "get": {
                "operationId": "quarantine",
                "summary": "Quarantined records grouped by finding",
                "parameters": [_SOURCE_FILTER],
                "responses": {"200": _ok(_ref("QuarantineGroups")), **_READ_ERRORS},
            }
        },
        "/api/reports/counts": {
            "get": {
                "operationId": "reportCounts",
                "summary": "Records per project by access category",
                "parameters": [
                    _query("project", {"type": "string", "maxLength": 500}, "one Japan Grant Number"),
                    _SOURCE_FILTER,
                ],
                "responses": {"200": _ok(_ref("Counts")), **_READ_ERRORS},
            }
        },
        "/api/reports/embargoes": {
            "get": {
                "operationId": "reportEmbargoes",
                "summary": "Embargoes that end soon or have ended",
                "parameters": [
                    _TODAY,
                    _query("within_days", {"type": "integer", "minimum": 0, "maximum": 3650}, "days ahead"),
                ],
                "responses": {"200": _ok(_ref("Embargoes")), **_READ_ERRORS},
            }
        },
        "/api/reports/deadlines": {
            "get": {
                "operationId": "reportDeadlines",
                "summary": "Each configured project's registration deadline",
                "parameters": [_TODAY],
                "responses": {"200": _ok(_ref("Deadlines")), **_READ_ERRORS},
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This description",
                "security": [],
                "responses": {"200": _ok({"type": "object"})},
            }
        },
    }


def _with_bad_request(paths: dict[str, Any]) -> dict[str, Any]:
    # Every operation refuses a URL with control characters, or a malformed parameter, with 400.
    for operations in paths.values():
        for method, operation in operations.items():
            if method != "parameters" and operation.get("operationId") != "openapi":
                operation["responses"].setdefault("400", _err("a parameter or the URL is not valid"))
    return paths


def spec(config: Config | None = None) -> dict[str, Any]:
    title = "Gateway management API"
    if config is not None:
        title += f" — {config.repository.name}"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": __version__,
            "description": (
                "Authenticate with `Authorization: Bearer <token>` (create one with `gateway tokens create`), or with "
                "the dashboard's session cookie plus the `X-CSRF-Token` header on writes. Viewers may read; writes "
                "need the manager role. Errors are `{\"error\": ..., \"field\": ...}`."
            ),
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _with_bad_request(_paths()),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "gateway_session"},
            },
            "schemas": _schemas(),
        },
    }
