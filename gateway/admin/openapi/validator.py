"""A validator for the part of JSON Schema, in OpenAPI 3.0's dialect, that the request schemas use.

`type` (with `nullable`), `enum`, `required`, `properties`, `additionalProperties`, `items`, `minItems`/`maxItems`,
`minimum`/`maximum` (with 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum`), `minLength`/`maxLength`, `pattern`,
`readOnly` and local `$ref`s (followed by the `resolve` the caller gives). `ASSERTIONS` lists the keywords it enforces:
the description refuses a request schema using any other assertion keyword, so that no rule in the document is
silently left unchecked.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: a `$ref` resolver: the schema itself, or the one its `$ref` names
Resolve = Callable[[dict[str, Any]], dict[str, Any]]
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
ANNOTATIONS = frozenset({"description", "title", "default", "example", "readOnly"})
ASSERTIONS = frozenset(
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


def violations(value: Any, schema: dict[str, Any], *, resolve: Resolve, limit: int = MAX_VIOLATIONS) -> list[Violation]:
    """Every way (up to `limit`) in which `value`, parsed JSON, breaks `schema`, in document order; `resolve` gives
    the schema a `$ref` names."""
    out: list[Violation] = []
    _validate(value, schema, (), out, limit, resolve)
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


def _validate(
    value: Any, schema: dict[str, Any], path: _Path, out: list[Violation], limit: int, resolve: Resolve
) -> None:
    if len(out) >= limit:
        return
    schema = resolve(schema)

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
                _validate(item, schema["items"], (*path, index), out, limit, resolve)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, out, limit, fail, resolve)


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
    resolve: Resolve,
) -> None:
    properties: dict[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or ():
        # OpenAPI 3.0: a required read-only property is required in answers only.
        if name not in value and not resolve(properties.get(name) or {}).get("readOnly"):
            fail("required", "is required", (*path, name))
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            if resolve(properties[name]).get("readOnly"):
                continue  # sent back from an answer: ignored, so not checked either
            _validate(item, properties[name], (*path, name), out, limit, resolve)
        elif extra is False:
            known = ", ".join(key for key, sub in properties.items() if not resolve(sub).get("readOnly"))
            fail("additionalProperties", f"is not a known field (expected one of: {known})", (*path, name))
        elif isinstance(extra, dict):
            _validate(item, extra, (*path, name), out, limit, resolve)


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
