"""The DMP's items and value lists as data (``mappings/dmp/*.toml``), and how a label in a file is recognised.

`items()` are the DMP's items, project-level and per dataset, with their Japanese and English labels and aliases;
`lookup` finds the item a label or header names, compared in one normal form (`label_form`): NFKC, case and spaces
aside, without footnote marks (※2, ＊3, superscript digits, 注1) or a trailing colon, as the guideline's form writes
its headers ("管理対象データ名称²", "研究期間："). The tables are read once per version of ``mappings/`` (the common
items' cache: `gateway remap` reloads them).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from typing import Any

from gateway import crosswalk
from gateway.commonitems.tables import cached, fold, keep, versioned

KINDS = (
    "text", "bilingual", "jgn", "project_name", "period", "date", "disclosure", "access", "sharing", "staff",
    "consent", "status",
)  # fmt: skip
PROJECT, DATASET = "project", "dataset"


class LayoutError(ValueError):
    """A table of ``mappings/dmp`` that cannot be used (unreadable, an unknown kind, a label given to two items)."""


@dataclass(frozen=True)
class Item:
    key: str
    ja: str
    en: str
    kind: str
    level: str  # project | dataset
    required: bool = False
    private: bool = False
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "ja") -> str:
        return self.ja if lang == "ja" else self.en

    def both(self) -> str:
        return f"{self.ja} ({self.en})"


def load(name: str) -> dict[str, Any]:
    """``mappings/dmp/<name>`` as parsed TOML."""
    key = versioned(f"dmp:{name}")
    found = cached(key)
    if found is not None:
        return found
    path = crosswalk.MAPPINGS_DIR / "dmp" / name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LayoutError(f"cannot read {path}: {exc}") from None
    keep(key, data)
    return data


_SUPERSCRIPTS = str.maketrans("", "", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_MARKS = re.compile(r"(?:[※*＊]\s*\d*|\(\s*注\s*\d+\s*\)|注\d+)\s*$")
_COLONS = re.compile(r"[:：]+\s*$")


def label_form(text: str) -> str:
    """The form in which labels are compared (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", (text or "").translate(_SUPERSCRIPTS)).strip()
    for _ in range(3):
        shorter = _COLONS.sub("", _MARKS.sub("", text)).strip()
        if shorter == text:
            break
        text = shorter
    return fold(text)


def items() -> list[Item]:
    """Every item, project-level first, in the table's order."""
    key = versioned("dmp:items")
    found = cached(key)
    if found is not None:
        return found
    data = load("columns.toml")
    out: list[Item] = []
    for level in (PROJECT, DATASET):
        for entry in data.get(level, []):
            kind = entry.get("kind", "text")
            if kind not in KINDS:
                raise LayoutError(f"mappings/dmp/columns.toml: {entry.get('key')!r}: unknown kind {kind!r}")
            out.append(
                Item(
                    key=entry["key"],
                    ja=entry["ja"],
                    en=entry["en"],
                    kind=kind,
                    level=level,
                    required=bool(entry.get("required", False)),
                    private=bool(entry.get("private", False)),
                    aliases=tuple(entry.get("aliases", ())),
                )
            )
    _index(out)  # refuses a label given to two items
    keep(key, out)
    return out


def _index(found: list[Item]) -> dict[str, Item]:
    index: dict[str, Item] = {}
    for item in found:
        for name in (item.ja, item.en, *item.aliases):
            form = label_form(name)
            other = index.get(form)
            if other is not None and other is not item:
                raise LayoutError(
                    f"mappings/dmp/columns.toml: the label {name!r} names both {other.key!r} and {item.key!r}"
                )
            index[form] = item
    return index


def _labels() -> dict[str, Item]:
    key = versioned("dmp:labels")
    found = cached(key)
    if found is None:
        found = _index(items())
        keep(key, found)
    return found


def lookup(label: str) -> Item | None:
    """The item a label names; a label whose footnote number has lost its superscript ("管理対象データ名称2") too."""
    form = label_form(label)
    if not form:
        return None
    labels = _labels()
    found = labels.get(form)
    if found is None and form[-1:].isdigit():
        found = labels.get(form.rstrip("0123456789"))
    return found


def ignored(label: str) -> bool:
    return label_form(label) in {label_form(name) for name in load("columns.toml").get("ignore", [])}


def by_key(level: str) -> dict[str, Item]:
    return {item.key: item for item in items() if item.level == level}


def value_list(kind: str) -> list[dict[str, Any]]:
    """The entries of one list of ``mappings/dmp/values.toml`` (sharing, undecided, consent, registration)."""
    return list(load("values.toml").get(kind, []))


def known_labels(level: str) -> str:
    """The labels of one level, for "expected ..." in a message."""
    return ", ".join(item.both() for item in items() if item.level == level)
