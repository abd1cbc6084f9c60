"""The OpenAPI 3 description of the management API, and the check of request bodies against it.

The description is the single source of truth: `spec()` serves it at /api/openapi.json, and `check_body()` validates
every request body against the very component schemas it publishes, so what the document promises and what the API
enforces cannot drift apart. The document is built from `components` (the schemas) and `paths` (the operations and
their answers), with the numbers of `limits`; `validator` checks a value against a schema.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

from gateway import __version__
from gateway.admin.openapi import validator
from gateway.admin.openapi.components import JSON, schemas
from gateway.admin.openapi.limits import MAX_BODY_BYTES
from gateway.admin.openapi.paths import paths
from gateway.admin.openapi.validator import ANNOTATIONS, ASSERTIONS, MAX_VIOLATIONS, Violation
from gateway.config import Config

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
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "gateway_session"},
            },
            "schemas": schemas(),
        },
    }


def spec(config: Config | None = None) -> dict[str, Any]:
    """The description as /api/openapi.json serves it (a copy: the caller may change it freely)."""
    document = copy.deepcopy(_document())
    if config is not None:
        document["info"]["title"] += f" — {config.repository.name}"
    return document


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
    unknown = set(schema) - ANNOTATIONS - ASSERTIONS
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
            if JSON not in content:
                raise KeyError(f"operation {operation_id!r} takes no JSON body")
            schema = _resolve(content[JSON]["schema"])
            _check_supported(schema, f"the request body of {operation_id}")
            return schema
    raise KeyError(f"no operation {operation_id!r} in the API description")


def body_operations() -> list[str]:
    """The operationIds whose requests carry a JSON body."""
    return [
        operation["operationId"]
        for operations in _document()["paths"].values()
        for method, operation in operations.items()
        if method != "parameters" and JSON in ((operation.get("requestBody") or {}).get("content") or {})
    ]


def check_body(operation_id: str, body: Any) -> None:
    """Raise BodyError when `body` violates the operation's published request schema."""
    found = violations(body, request_schema(operation_id))
    if found:
        raise BodyError(found)


def violations(value: Any, schema: dict[str, Any], *, limit: int = MAX_VIOLATIONS) -> list[Violation]:
    """Every way (up to `limit`) in which `value`, parsed JSON, breaks `schema`, in document order."""
    return validator.violations(value, schema, resolve=_resolve, limit=limit)
