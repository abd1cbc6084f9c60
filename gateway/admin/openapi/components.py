"""The component schemas of the description: a source's settings as the configuration's rules accept them, what the
API answers, and its errors.

A source's input schema is derived from the configuration's own rules (kinds, prefixes, disclosures, ranges) and the
source store's text limits, so that the API, the dashboard's forms and the configuration file refuse the same values.
"""

from __future__ import annotations

from typing import Any

from gateway import config as gwconfig
from gateway.admin import sourcestore
from gateway.admin.openapi.limits import MAX_SETS, NAME_PATTERN, NO_CONTROL
from gateway.config import DISCLOSURES, METADATA_PREFIXES, PROFILES, SOURCE_KINDS

JSON = "application/json"
_READ_ONLY_SOURCE_FIELDS = ("origin", "edited_in_dashboard", "created_at", "updated_at", "edited_at")
NULLABLE_STRING = {"type": "string", "nullable": True}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(field: str, description: str | None = None) -> dict[str, Any]:
    # The store's own length limit, so that the document and the dashboard's forms refuse the same texts.
    schema: dict[str, Any] = {"type": "string", "maxLength": sourcestore._MAX_TEXT.get(field, 255)}
    schema["pattern"] = NO_CONTROL
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
    if field == "priority":
        return {
            "type": "integer",
            "minimum": -gwconfig.PRIORITY_RANGE,
            "maximum": gwconfig.PRIORITY_RANGE,
            "default": 0,
            "description": "of two records of one dataset from two sources, the higher priority's is served",
        }
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
            "created_at": NULLABLE_STRING,
            "updated_at": NULLABLE_STRING,
            "edited_at": NULLABLE_STRING,
        }
    )
    return {
        "type": "object",
        "required": ["name", "kind", "enabled", "origin", "edited_in_dashboard"],
        "properties": properties,
    }


def schemas() -> dict[str, Any]:
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
                "error": NULLABLE_STRING,
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
                "started": NULLABLE_STRING,
                "finished": NULLABLE_STRING,
                "pages": {"type": "integer"},
                "records": {"type": "object", "additionalProperties": {"type": "integer"}},
                "warnings": {"type": "array"},
                "errors": {"type": "array"},
            },
        },
        "RunList": {
            "type": "object",
            "required": ["runs", "total"],
            "properties": {"runs": {"type": "array", "items": ref("Run")}, "total": {"type": "integer"}},
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
        "Transitions": {
            "type": "object",
            "required": ["today", "within_days", "transitions", "reviews"],
            "properties": {
                "today": {"type": "string"},
                "within_days": {"type": "integer"},
                "transitions": {"type": "array", "items": obj},
                "reviews": {"type": "array", "items": obj},
            },
        },
        "Catalogue": {
            "type": "object",
            "required": ["datasets"],
            "properties": {"datasets": {"type": "array", "items": obj}},
        },
        "PublicationInput": {
            "type": "object",
            "required": ["date", "kind"],
            "properties": {
                "date": {"type": "string", "maxLength": 10, "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                         "description": "the paper's acceptance or the patent application's publication, YYYY-MM-DD"},
                "kind": {"type": "string", "enum": ["paper", "patent"]},
                "dataset": {"type": "string", "nullable": True, "maxLength": 600, "pattern": NO_CONTROL,
                            "description": "the dataset's data number or position in the DMP; none: the project"},
                "note": {"type": "string", "nullable": True, "maxLength": 2000, "pattern": NO_CONTROL},
            },
            "additionalProperties": False,
        },
        "Publication": {
            "type": "object",
            "required": ["id", "jgn", "kind", "date"],
            "properties": {
                "id": {"type": "integer"},
                "jgn": {"type": "string"},
                "dataset_key": NULLABLE_STRING,
                "kind": {"type": "string", "enum": ["paper", "patent"]},
                "date": {"type": "string"},
                "note": NULLABLE_STRING,
                "recorded_by": NULLABLE_STRING,
            },
        },
        "Publications": {
            "type": "object",
            "required": ["project", "publications"],
            "properties": {
                "project": {"type": "string"},
                "publications": {"type": "array", "items": ref("Publication")},
            },
        },
        "Deadlines": {
            "type": "object",
            "required": ["today", "deadlines"],
            "properties": {"today": {"type": "string"}, "deadlines": {"type": "array", "items": obj}},
        },
        "DmpProject": {
            "type": "object",
            "required": ["jgn", "version", "start", "end", "datasets", "imported_at"],
            "properties": {
                "jgn": {"type": "string"},
                "name": NULLABLE_STRING,
                "name_en": NULLABLE_STRING,
                "version": {"type": "integer", "description": "the current version (versions are 1, 2, 3, ...)"},
                "versions": {"type": "integer"},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
                "datasets": {"type": "integer", "description": "datasets of the current version"},
                "dmp_date": NULLABLE_STRING,
                "imported_at": {"type": "string"},
                "file": NULLABLE_STRING,
                "layout": {"type": "string", "enum": ["table", "form", "projects"]},
            },
        },
        "DmpProjects": {
            "type": "object",
            "required": ["projects"],
            "properties": {"projects": {"type": "array", "items": ref("DmpProject")}},
        },
        "DmpVersion": {
            "type": "object",
            "required": ["version", "current", "imported_at", "datasets", "changes", "summary", "summary_ja"],
            "properties": {
                "jgn": {"type": "string"},
                "version": {"type": "integer"},
                "current": {"type": "boolean"},
                "imported_at": {"type": "string"},
                "dmp_date": NULLABLE_STRING,
                "file": NULLABLE_STRING,
                "layout": {"type": "string"},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
                "datasets": {"type": "integer"},
                "changes": {
                    "type": "object",
                    "description": "first (bool), added and removed (datasets by key), changed (per dataset: "
                    "fields sharing / metadata_disclosure / access_right as [old, new]), period ([old, new])",
                },
                "summary": {"type": "string"},
                "summary_ja": {"type": "string"},
            },
        },
        "DmpHistory": {
            "type": "object",
            "required": ["project", "versions"],
            "properties": {"project": {"type": "string"}, "versions": {"type": "array", "items": ref("DmpVersion")}},
        },
        "HeldRow": {
            "type": "object",
            "required": ["file", "row", "value", "message", "expected", "text"],
            "properties": {
                "file": {"type": "string"},
                "row": {"type": "integer"},
                "column": NULLABLE_STRING,
                "value": {"type": "string"},
                "message": {"type": "string"},
                "expected": {"type": "string"},
                "text": {"type": "string", "description": "the whole report in one line, as the CLI prints it"},
            },
        },
        "DmpImport": {
            "type": "object",
            "required": ["files", "rows", "held_rows"],
            "properties": {
                "rows": {"type": "integer"},
                "held_rows": {"type": "integer"},
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["file", "layout", "rows", "held_rows", "projects", "held"],
                        "properties": {
                            "file": {"type": "string"},
                            "layout": {"type": "string"},
                            "rows": {"type": "integer"},
                            "imported": {"type": "integer"},
                            "held_rows": {"type": "integer"},
                            "projects": {"type": "array", "items": obj},
                            "held": {"type": "array", "items": ref("HeldRow")},
                        },
                    },
                },
            },
        },
        "DmpReconciliation": {
            "type": "object",
            "required": ["today", "projects", "rows"],
            "properties": {
                "today": {"type": "string"},
                "projects": {"type": "array", "items": obj},  # per project: declared, registered, ... counts
                "rows": {"type": "array", "items": obj},  # one per dataset, then per undeclared record
            },
        },
    }
