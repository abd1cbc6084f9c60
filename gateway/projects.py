"""Project periods from a DMP spreadsheet: read, check and store them (`gateway projects import|list`).

Columns are recognised by header, in Japanese or English (mappings/commonitems/projects.toml), never by position.
CSV may be UTF-8 with or without a byte-order mark, or CP932 as Japanese Excel writes it; an .xlsx date cell is a
date. The whole file is read and every row checked before anything is stored, and the good rows are stored in one
transaction. A row that cannot be read (a malformed date or Japan Grant Number, an end before the start, a number
already in an earlier row) is *held*: reported with its file, row, column, value and what is expected, and not stored;
the other rows are imported. A file that cannot be read at all (not a workbook, a broken encoding, no header row, an
unknown or missing column) is a `ProjectImportError` and changes nothing. Re-importing a project (the same Japan Grant
Number) updates it; projects not in the file are kept.

The registration-deadline report (`gateway.reports.deadlines`) uses these periods; a `[[projects]]` entry in the
configuration with the same Japan Grant Number wins.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway import commonitems, crosswalk
from gateway.commonitems.tables import load_table
from gateway.db import transaction, utcnow
from gateway.models import Project

__all__ = [
    "ORIGIN_DMP",
    "HeaderColumn",
    "HeldRow",
    "ImportResult",
    "ProjectImportError",
    "Sheet",
    "import_file",
    "read_file",
    "stored",
]

ORIGIN_DMP = "dmp"
SUFFIXES = (".xlsx", ".csv")
_JGN = re.compile(r"^JP[0-9A-Z]{4,}$")  # JP + the systematic number (as gateway.rules.ids checks it)
_JGN_FOOD_SAFETY = re.compile(r"^JPCACAA\d{8}$")  # the food-safety numbers: JPCACAA + 8 digits
_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")


class ProjectImportError(ValueError):
    """A file that cannot be imported; the message names the file, and the row and column when there is one."""


@dataclass(frozen=True)
class HeaderColumn:
    key: str
    ja: str
    en: str
    kind: str  # jgn | text | bilingual | date
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectRow:
    row: int  # as a spreadsheet shows it (the header is row 1 unless blank rows come first)
    jgn: str
    name_ja: str | None
    name_en: str | None
    funder: str | None
    program: str | None
    start: date
    end: date


@dataclass(frozen=True)
class HeldRow:
    """A row of a DMP sheet that was not imported, and why: `column` is the header as the file writes it."""

    file: str
    row: int
    column: str | None
    value: str
    message: str  # what is wrong with `value` ("is not a date"), or a sentence of its own when `value` is empty
    expected: str

    def __str__(self) -> str:
        where = f"{self.file}: row {self.row}" + (f", column {self.column!r}" if self.column else "")
        said = f"{self.value!r} {self.message}" if self.value else self.message
        return f"{where}: {said}; expected {self.expected}"


@dataclass(frozen=True)
class Sheet:
    """What a DMP sheet gives: the projects of its good rows, and the rows held with errors."""

    rows: list[ProjectRow]
    held: list[HeldRow]


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    held: tuple[HeldRow, ...] = ()

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    @property
    def held_rows(self) -> int:
        """Rows held (a row with several errors counts once)."""
        return len({h.row for h in self.held})


def _table() -> tuple[list[HeaderColumn], list[str]]:
    try:
        data = load_table("projects.toml")
    except crosswalk.CrosswalkError as exc:
        raise ProjectImportError(str(exc)) from None
    columns = [
        HeaderColumn(
            key=entry["key"],
            ja=entry["ja"],
            en=entry["en"],
            kind=entry.get("kind", "text"),
            required=bool(entry.get("required", False)),
            aliases=tuple(entry.get("aliases", ())),
        )
        for entry in data.get("column", [])
    ]
    return columns, list(data.get("ignore", []))


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _header_map(header: list[str], what: str, row: int) -> dict[int, tuple[HeaderColumn, str]]:
    """Column position -> (column, the header as the file writes it)."""
    columns, ignore = _table()
    by_name: dict[str, HeaderColumn] = {}
    for column in columns:
        for name in (column.ja, column.en, *column.aliases):
            by_name.setdefault(_fold(name), column)
    ignored = {_fold(name) for name in ignore}
    found: dict[int, tuple[HeaderColumn, str]] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for position, cell in enumerate(header):
        text = (cell or "").strip()
        if not text or _fold(text) in ignored:
            continue
        column = by_name.get(_fold(text))
        if column is None:
            unknown.append(f"{text!r} (column {_letter(position)})")
            continue
        if column.key in seen:
            raise ProjectImportError(
                f"{what}: row {row}, column {text!r}: appears twice (also as {seen[column.key]!r})"
            )
        seen[column.key] = text
        found[position] = (column, text)
    if unknown:
        raise ProjectImportError(
            f"{what}: row {row}: unknown column(s) {', '.join(unknown)}; known: "
            + ", ".join(f"{c.ja} / {c.en}" for c in columns)
            + " (list other columns under `ignore` in mappings/commonitems/projects.toml)"
        )
    missing = [c for c in columns if c.required and c.key not in seen]
    if missing:
        names = ", ".join(f"{c.ja!r} ({c.en})" for c in missing)
        raise ProjectImportError(f"{what}: row {row}: missing required column(s) {names}")
    return found


def _letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position + 1)


_EXPECTED = {
    "jgn": "a Japan Grant Number: JP + the systematic number (JP22H00001), or JPCACAA + 8 digits",
    "date": "a date that exists, written YYYY-MM-DD (or YYYY/MM/DD), or an Excel date cell",
}


def _jgn(value: str) -> str:
    if not (_JGN.match(value) and (not value.startswith("JPCACAA") or _JGN_FOOD_SAFETY.match(value))):
        raise ValueError("is not a Japan Grant Number")
    return value


def _date(value: str) -> date:
    match = _DATE.match(value)
    if match:
        try:
            return date(int(match[1]), int(match[3]), int(match[4]))
        except ValueError:
            raise ValueError("is not a date: that day does not exist") from None
    raise ValueError("is not a date (YYYY-MM-DD)")


def _rows(data: bytes, what: str) -> list[list[str]]:
    from gateway.harvest.spreadsheet import InputError, sheet_rows

    try:
        return sheet_rows(data, what)
    except InputError as exc:
        raise ProjectImportError(str(exc)) from None


def parse(data: bytes, what: str) -> Sheet:
    """Every project of a DMP sheet, checked; `what` (the file name) starts every message.

    A row with an error is held (in `Sheet.held`, one entry per error); only a file that cannot be read at all raises
    `ProjectImportError`.
    """
    rows = _rows(data, what)
    first = 0
    while first < len(rows) and not any((c or "").strip() for c in rows[first]):
        first += 1
    if first == len(rows):
        raise ProjectImportError(f"{what}: no header row")
    header = _header_map(rows[first], what, first + 1)
    headers = {column.key: text for column, text in header.values()}
    out: list[ProjectRow] = []
    held: list[HeldRow] = []
    where_jgn: dict[str, int] = {}
    for number, row in enumerate(rows[first + 1 :], first + 2):
        if not any((c or "").strip() for c in row):
            continue
        problems: list[HeldRow] = []
        values: dict[str, Any] = {}
        for position, (column, text) in header.items():
            raw = (row[position] if position < len(row) else "").strip()
            if column.kind in ("jgn", "date"):  # full-width digits and letters, as Japanese input often has them
                raw = unicodedata.normalize("NFKC", raw).strip()
            try:
                if not raw:
                    if column.required:
                        raise ValueError("the cell is empty")
                    continue
                if column.kind == "jgn":
                    values[column.key] = _jgn(raw)
                elif column.kind == "date":
                    values[column.key] = _date(raw)
                elif column.kind == "bilingual":
                    values[column.key] = commonitems.split_pair(raw)
                else:
                    values[column.key] = raw
            except ValueError as exc:
                problems.append(
                    HeldRow(
                        what,
                        number,
                        text,
                        raw,
                        str(exc),
                        _EXPECTED.get(column.kind, "a value (the column is required)"),
                    )
                )
        extra = [i for i in range(len(row)) if i >= len(rows[first]) and (row[i] or "").strip()]
        if extra:
            problems.append(
                HeldRow(
                    what,
                    number,
                    _letter(extra[0]),
                    str(row[extra[0]]),
                    "is a value without a header",
                    "no values to the right of the last header",
                )
            )
        start, end = values.get("start"), values.get("end")
        if start is not None and end is not None and end < start:
            problems.append(
                HeldRow(
                    what,
                    number,
                    headers["end"],
                    end.isoformat(),
                    f"is before the start date {start.isoformat()}",
                    "an end date on or after the start date",
                )
            )
        jgn = values.get("jgn")
        if jgn is not None:
            if jgn in where_jgn:
                # which of the two rows is right cannot be told: the first stays as it is, the second is held
                problems.append(
                    HeldRow(
                        what, number, headers["jgn"], jgn, f"is already in row {where_jgn[jgn]}", "a number used once"
                    )
                )
            else:
                where_jgn[jgn] = number
        if problems:
            held.extend(problems)
            continue
        assert jgn is not None and start is not None and end is not None  # required columns, checked above
        name_ja, name_en = values.get("name", ("", ""))
        name_en = values.get("name_en") or name_en
        out.append(
            ProjectRow(
                row=number,
                jgn=jgn,
                name_ja=name_ja or None,
                name_en=name_en or None,
                funder=values.get("funder"),
                program=values.get("program"),
                start=start,
                end=end,
            )
        )
    return Sheet(rows=out, held=held)


def read_file(path: Path) -> Sheet:
    from gateway.harvest.spreadsheet import InputError
    from gateway.harvest.spreadsheet import read_file as read_bytes

    if path.suffix.lower() not in SUFFIXES:
        raise ProjectImportError(f"{path}: not a .xlsx or .csv file")
    try:
        data = read_bytes(path)
    except InputError as exc:
        raise ProjectImportError(str(exc)) from None
    return parse(data, str(path))


def import_file(sessions: sessionmaker[Session], path: Path, *, now: datetime | None = None) -> ImportResult:
    """Read and check the whole file, then add or update the projects of its good rows in one transaction; the rows
    held with errors are in `ImportResult.held`."""
    sheet = read_file(path)
    result = store(sessions, sheet.rows, file_name=path.name, now=now)
    return ImportResult(result.added, result.updated, result.unchanged, tuple(sheet.held))


def store(
    sessions: sessionmaker[Session], rows: list[ProjectRow], *, file_name: str | None, now: datetime | None = None
) -> ImportResult:
    when = now or utcnow()
    added = updated = unchanged = 0
    with transaction(sessions) as session:
        existing = {p.jgn: p for p in session.scalars(select(Project))}  # a few hundred rows at most
        for r in rows:
            fields = {
                "name_ja": r.name_ja,
                "name_en": r.name_en,
                "funder": r.funder,
                "program": r.program,
                "start_date": r.start,
                "end_date": r.end,
            }
            project = existing.get(r.jgn)
            if project is None:
                session.add(Project(jgn=r.jgn, origin=ORIGIN_DMP, file_name=file_name, imported_at=when, **fields))
                added += 1
                continue
            if all(getattr(project, k) == v for k, v in fields.items()):
                unchanged += 1
            else:
                updated += 1
            for key, value in fields.items():
                setattr(project, key, value)
            project.origin = ORIGIN_DMP
            project.file_name = file_name
            project.imported_at = when
    return ImportResult(added=added, updated=updated, unchanged=unchanged)


def stored(session: Session) -> list[dict[str, Any]]:
    """Every stored project, by Japan Grant Number, as plain data."""
    return [
        {
            "jgn": p.jgn,
            "name_ja": p.name_ja,
            "name_en": p.name_en,
            "funder": p.funder,
            "program": p.program,
            "start": p.start_date.isoformat(),
            "end": p.end_date.isoformat(),
            "origin": p.origin,
            "file": p.file_name,
            "imported_at": p.imported_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for p in session.scalars(select(Project).order_by(Project.jgn))
    ]
