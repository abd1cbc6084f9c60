"""The data files of the common items (``mappings/commonitems/*.toml``), read once per version of ``mappings/``.

The layout's columns and the value lists (and, through gateway.dmp.layout, the DMP's items) are data a repository
manager edits; this module reads them and follows `gateway remap` / crosswalk.reload() when they change, and gives
the one comparison form in which headers and listed values are looked up.
"""

from __future__ import annotations

import re
import threading
import tomllib
import unicodedata
from typing import Any

from gateway import crosswalk

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def load_table(name: str) -> dict[str, Any]:
    """``mappings/commonitems/<name>`` as parsed TOML (a CrosswalkError when it cannot be read)."""
    key = versioned(name)
    found = cached(key)
    if found is not None:
        return found
    path = crosswalk.MAPPINGS_DIR / "commonitems" / name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise crosswalk.CrosswalkError(f"cannot read {path}: {exc}") from None
    keep(key, data)
    return data


def versioned(name: str) -> str:
    """The cache key of `name` for the current version of mappings/ (bumped by `gateway remap` / crosswalk.reload()
    after a manager edits them), so that nothing read from an older version is used again."""
    return f"{name}@{crosswalk._generation}"


def cached(key: str) -> Any:
    """What `keep` stored under `key` (from `versioned`), or None."""
    return _cache.get(key)


def keep(key: str, value: Any) -> None:
    """Store a value read or built from the tables (an index, say) under `key` (from `versioned`)."""
    with _lock:
        _cache[key] = value


def fold(text: str) -> str:
    """Comparison form of a header or a listed value: width-folded, lower case, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()
