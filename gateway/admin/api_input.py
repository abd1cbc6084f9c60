"""What a management API request sends, read and checked: query parameters, path names and JSON bodies.

Every check answers the same way, an `ApiError` (400, or 404 for a name no source can have) naming the `field` at
fault; a body is parsed as strict JSON and checked against the request schema the description publishes
(gateway.admin.openapi.check_body). `error_response` is the JSON error every answer of the API uses.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, jsonify, request

from gateway.admin.openapi import check_body
from gateway.admin.openapi.limits import MAX_QUERY_TEXT, NAME_PATTERN

_SOURCE_NAME = re.compile(NAME_PATTERN)
# Matched whole (fullmatch): "$" would let a final newline through.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER = re.compile(r"-?[0-9]{1,30}")  # a longer number is out of every range, and int() refuses 4,300 digits


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status: int, message: str, field: str | None = None, **more: Any) -> Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    body.update(more)
    response = jsonify(body)
    response.status_code = status
    return response


def int_arg(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # int() alone would also take " 5", "+5", "5_000" and "٥", none of which the description's integer is.
    if not _INTEGER.fullmatch(raw):
        raise ApiError(400, f"{name} must be a whole number", name)
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ApiError(400, f"{name} must be between {minimum} and {maximum}", name)
    return value


def text_arg(name: str) -> str | None:
    raw = request.args.get(name) or ""
    if len(raw) > MAX_QUERY_TEXT:  # as sent, before stripping: that is what the description's maxLength limits
        raise ApiError(400, f"{name} is longer than {MAX_QUERY_TEXT} characters", name)
    return raw.strip() or None


def bool_arg(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    raw = raw.strip().lower()
    if raw in ("false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise ApiError(400, f"{name} must be true or false", name)


def date_arg(name: str) -> date:
    raw = request.args.get(name)
    if raw is None:
        return datetime.now(UTC).date()
    try:
        # The description says format: date (RFC 3339, YYYY-MM-DD); fromisoformat alone also takes 20261101 and
        # 2026-W44-7.
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date (YYYY-MM-DD)", name) from None


def source_name(name: str) -> str:
    if not _SOURCE_NAME.match(name):
        raise ApiError(404, f"no source named {name!r}", "name")
    return name


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_body(operation_id: str) -> dict[str, Any]:
    """The request body, parsed as strict JSON and checked against the operation's schema in the description."""
    if not request.is_json:
        raise ApiError(400, "the body must be a JSON object (Content-Type: application/json)")
    raw = request.get_data(cache=True)  # 413 (a JSON error, by _unexpected) when larger than MAX_BODY_BYTES
    try:
        # Python's json reads NaN and Infinity, which JSON does not have, and nesting deep enough exhausts the stack.
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = exc if isinstance(exc, ValueError) else "nested too deeply"
        raise ApiError(400, f"the body is not valid JSON: {reason}") from None
    try:
        # "\ud800" is valid JSON but no text: no database column or JSON answer could hold it.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "the body holds a lone surrogate (\\ud800-\\udfff), which is not text") from None
    check_body(operation_id, data)
    if not isinstance(data, dict):  # pragma: no cover - every request schema says type: object
        raise ApiError(400, "the body must be a JSON object (Content-Type: application/json)")
    return data
