"""The common-item layout: its columns, and how a sheet's headers are recognised.

The columns (key, Japanese and English header, aliases, the GakuNin RDM keys each one carries, whether it is required)
are data, in ``mappings/commonitems/columns.toml``; the same layout is read by the `spreadsheet` source and the
GakuNin RDM CSV report, and written by `gateway export spreadsheet`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.commonitems.tables import fold, load_table


class LayoutError(ValueError):
    """The headers of a sheet do not form the common-item layout (unknown, duplicated or missing columns)."""


@dataclass(frozen=True)
class Column:
    key: str
    ja: str
    en: str
    kind: str
    grdm: tuple[str, ...]
    required: bool = False
    aliases: tuple[str, ...] = ()
    optional_in_layout: bool = False

    def header(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


def column_by_key(key: str) -> Column | None:
    return next((c for c in columns() if c.key == key), None)


def columns(*, include_optional: bool = True) -> list[Column]:
    """The columns of the layout in order (the optional metadata-access column last)."""
    out = []
    for entry in load_table("columns.toml").get("column", []):
        column = Column(
            key=entry["key"],
            ja=entry["ja"],
            en=entry["en"],
            kind=entry["kind"],
            grdm=tuple(entry.get("grdm", ())),
            required=bool(entry.get("required", False)),
            aliases=tuple(entry.get("aliases", ())),
            optional_in_layout=bool(entry.get("optional_in_layout", False)),
        )
        if include_optional or not column.optional_in_layout:
            out.append(column)
    return out


def column_of(grdm_key: str) -> str:
    for column in columns():
        if grdm_key in column.grdm:
            return column.key
    return grdm_key


def header_map(headers: list[str]) -> dict[int, Column]:
    """Column position -> column, recognised by header (Japanese, English or an alias), never by position."""
    by_name: dict[str, Column] = {}
    for column in columns():
        for name in (column.ja, column.en, *column.aliases):
            by_name.setdefault(fold(name), column)
    found: dict[int, Column] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for position, header in enumerate(headers):
        text = (header or "").strip()
        if not text:
            continue
        column = by_name.get(fold(text))
        if column is None:
            unknown.append(text)
            continue
        if column.key in seen:
            raise LayoutError(f"column {text!r} appears twice (also as {seen[column.key]!r})")
        seen[column.key] = text
        found[position] = column
    if unknown:
        raise LayoutError(f"unknown column(s): {', '.join(repr(u) for u in unknown)}")
    missing = [c for c in columns() if c.required and c.key not in seen]
    if missing:
        names = ", ".join(f"{c.ja!r} ({c.en})" for c in missing)
        raise LayoutError(f"missing required column(s): {names}")
    return found
