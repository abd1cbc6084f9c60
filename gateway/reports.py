"""The administrators' reports: records per project by data access right, embargoes coming due, registration deadlines.

Every function reads through a SQLAlchemy session and returns plain, JSON-serialisable data, so the command line
(`gateway report ...`) and the web dashboard serve the very same numbers. Writers render any report as an aligned
table, CSV (UTF-8 with a BOM, which Japanese Excel needs to read the file as UTF-8), JSON or an `.xlsx` workbook.

What is counted (DESIGN section 7): every record the gateway *holds* — published, withheld or quarantined. A deleted
record (status "deleted": gone at its source, or withdrawn) is a tombstone kept for aggregators, not a record the
project has, so it is not counted anywhere here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.models import Project, Record, RecordFunding, Source

__all__ = [
    "ACCESS_CATEGORIES",
    "FORMATS",
    "PERIOD_UNKNOWN",
    "REGISTRATION_DAYS",
    "AccessCategory",
    "Column",
    "ProjectCounts",
    "ReportError",
    "counts",
    "counts_columns",
    "deadlines",
    "embargoes",
    "render",
    "totals",
    "write_counts",
    "write_deadlines",
    "write_embargoes",
]

FORMATS = ("table", "csv", "json", "xlsx")
# Researchers must register their data's metadata within 61 days after the project ends.
REGISTRATION_DAYS = 61
NO_PROJECT = "(no project)"
PERIOD_UNKNOWN = "period unknown"  # a deadlines row: the project has records but no known period
TOTAL = "total"
_HELD = Record.status != "deleted"
_CHUNK = 500  # ids per IN (...) list: well under SQLite's bound variables limit


class ReportError(ValueError):
    """A report cannot be made as asked (an unknown source, a format that needs a file, ...)."""


@dataclass(frozen=True)
class AccessCategory:
    key: str
    label_ja: str
    label_en: str
    access_right: str | None  # the value of Record.access_right; None for "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label_ja": self.label_ja, "label_en": self.label_en}


# In the order the funders' databases ask for them; "unknown" holds records without a valid access right (they are
# quarantined by validation, but still held and counted) and is shown only when it is not zero.
ACCESS_CATEGORIES: tuple[AccessCategory, ...] = (
    AccessCategory("open", "公開", "open access", "open"),
    AccessCategory("restricted", "共有", "restricted access", "restricted"),
    AccessCategory("metadata_only", "非公開・非共有", "metadata only access", "metadata-only"),
    AccessCategory("embargoed", "公開猶予", "embargoed access", "embargoed"),
    AccessCategory("unknown", "不明", "unknown", None),
)
_CATEGORY_BY_RIGHT = {c.access_right: c.key for c in ACCESS_CATEGORIES if c.access_right}
_STATUS_KEYS = ("published", "withheld", "quarantined")


def _category(access_right: str | None) -> str:
    return _CATEGORY_BY_RIGHT.get(access_right or "", "unknown")


# ------------------------------------------------------------------------------------------------------------ counts


@dataclass
class ProjectCounts:
    """One row of the counts report: a project (Japan Grant Number), the records without one, or the totals."""

    jgn: str | None
    row: str = "project"  # project | no_project | total
    funder_code: str | None = None
    funder_name_ja: str | None = None
    funder_name_en: str | None = None
    program_code: str | None = None
    program_name_ja: str | None = None
    program_name_en: str | None = None
    project_name_ja: str | None = None
    project_name_en: str | None = None
    by_access: dict[str, int] = field(default_factory=lambda: {c.key: 0 for c in ACCESS_CATEGORIES})
    published: int = 0
    withheld: int = 0
    quarantined: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_access.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "jgn": self.jgn,
            "funder_code": self.funder_code,
            "funder_name_ja": self.funder_name_ja,
            "funder_name_en": self.funder_name_en,
            "program_code": self.program_code,
            "program_name_ja": self.program_name_ja,
            "program_name_en": self.program_name_en,
            "project_name_ja": self.project_name_ja,
            "project_name_en": self.project_name_en,
            **{c.key: self.by_access.get(c.key, 0) for c in ACCESS_CATEGORIES},
            "total": self.total,
            "published": self.published,
            "withheld": self.withheld,
            "quarantined": self.quarantined,
        }

    def _add(self, status: str, access_right: str | None, n: int) -> None:
        self.by_access[_category(access_right)] += n
        if status in _STATUS_KEYS:
            setattr(self, status, getattr(self, status) + n)


def _source_id(session: Session, source: str) -> int:
    source_id = session.scalar(select(Source.id).where(Source.name == source))
    if source_id is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name))) or "none"
        raise ReportError(f"no source named {source!r} in the database (known: {known})")
    return source_id


_NAME_FIELDS = (
    ("funder_code", RecordFunding.funder_code),
    ("funder_name_ja", RecordFunding.funder_name_ja),
    ("funder_name_en", RecordFunding.funder_name_en),
    ("program_code", RecordFunding.funding_stream_code),
    ("program_name_ja", RecordFunding.program_name_ja),
    ("program_name_en", RecordFunding.program_name_en),
    ("project_name_ja", RecordFunding.project_name_ja),
    ("project_name_en", RecordFunding.project_name_en),
)


def counts(session: Session, *, project: str | None = None, source: str | None = None) -> list[ProjectCounts]:
    """Held records per project by data access right and by status; records without a grant number last.

    A record funded by two projects counts once in each of them (and so twice in the sum of the rows); the same grant
    number twice in one record counts once. Funder, program and project names are those most records give.
    """
    source_id = _source_id(session, source) if source else None
    conditions = [_HELD, RecordFunding.jgn.is_not(None)]
    if source_id is not None:
        conditions.append(Record.source_id == source_id)
    if project:
        conditions.append(RecordFunding.jgn == project)

    rows: dict[str, ProjectCounts] = {}
    tallies = session.execute(
        select(RecordFunding.jgn, Record.status, Record.access_right, func.count(distinct(Record.id)))
        .join(Record, Record.id == RecordFunding.record_id)
        .where(*conditions)
        .group_by(RecordFunding.jgn, Record.status, Record.access_right)
    ).all()
    for jgn, status, access_right, n in tallies:
        rows.setdefault(jgn, ProjectCounts(jgn=jgn))._add(status, access_right, n)

    # Names: a vote per field, weighted by records, so one record with a typo does not rename the project.
    votes: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    names = session.execute(
        select(RecordFunding.jgn, *(col for _, col in _NAME_FIELDS), func.count(distinct(Record.id)))
        .join(Record, Record.id == RecordFunding.record_id)
        .where(*conditions)
        .group_by(RecordFunding.jgn, *(col for _, col in _NAME_FIELDS))
    ).all()
    for jgn, *values, n in names:
        for (attr, _), value in zip(_NAME_FIELDS, values, strict=True):
            if value:
                votes[jgn][attr][value] += n
    for jgn, fields in votes.items():
        for attr, counter in fields.items():
            # most records first; equal votes by the value itself, so the answer does not depend on row order
            best = min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            setattr(rows[jgn], attr, best)

    result = [rows[jgn] for jgn in sorted(rows)]
    if not project:
        has_jgn = exists().where(RecordFunding.record_id == Record.id, RecordFunding.jgn.is_not(None))
        query = select(Record.status, Record.access_right, func.count()).where(_HELD, ~has_jgn)
        if source_id is not None:
            query = query.where(Record.source_id == source_id)
        orphan = ProjectCounts(jgn=None, row="no_project")
        for status, access_right, n in session.execute(query.group_by(Record.status, Record.access_right)).all():
            orphan._add(status, access_right, n)
        if orphan.total:
            result.append(orphan)
    return result


def totals(rows: Iterable[ProjectCounts]) -> ProjectCounts:
    """The column sums of the rows (a record in two projects is in two rows, so it is summed twice)."""
    total = ProjectCounts(jgn=None, row="total")
    for r in rows:
        if r.row == "total":
            continue
        for key, n in r.by_access.items():
            total.by_access[key] = total.by_access.get(key, 0) + n
        total.published += r.published
        total.withheld += r.withheld
        total.quarantined += r.quarantined
    return total


# --------------------------------------------------------------------------------------------------------- embargoes

_DATE_PREFIX = re.compile(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _parse_date(value: str | None) -> date | None:
    """The first day a W3CDTF date can mean (2030-04 is 2030-04-01): an embargo is reported early, never late."""
    match = _DATE_PREFIX.match(value or "")
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _first_value(view: dict[str, Any] | None, key: str) -> str | None:
    values = (view or {}).get(key) or []
    for lang in ("ja", "en", ""):
        for entry in values:
            if entry.get("lang", "") == lang and entry.get("value"):
                return entry["value"]
    return values[0].get("value") if values else None


def _jgns_of(session: Session, record_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(record_ids), _CHUNK):
        chunk = record_ids[start : start + _CHUNK]
        query = (
            select(RecordFunding.record_id, RecordFunding.jgn)
            .where(RecordFunding.record_id.in_(chunk), RecordFunding.jgn.is_not(None))
            .order_by(RecordFunding.record_id, RecordFunding.position)
        )
        for record_id, jgn in session.execute(query).all():
            if jgn not in out[record_id]:
                out[record_id].append(jgn)
    return out


def embargoes(session: Session, *, today: date, within_days: int = 30) -> list[dict[str, Any]]:
    """Held embargoed records whose available date has passed ("overdue") or comes within `within_days` ("due").

    On the available date itself the record is "due" with 0 days left; the day after, it is overdue. An embargoed
    record without a readable available date is listed as "no_date": nobody can tell when its data must open.
    """
    if within_days < 0:
        raise ReportError("the number of days ahead cannot be negative")
    horizon = today + timedelta(days=within_days)
    candidates = session.execute(
        select(Record.id, Record.available_date).where(_HELD, Record.access_right == "embargoed").order_by(Record.id)
    ).all()
    wanted: dict[int, date | None] = {}
    for record_id, available in candidates:
        when = _parse_date(available)
        if when is None or when <= horizon:
            wanted[record_id] = when
    ids = list(wanted)
    jgns = _jgns_of(session, ids)
    rows = []
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(
                Record.id,
                Record.local_id,
                Source.name,
                Record.title,
                Record.available_date,
                Record.status,
                Record.annex3,
            )
            .join(Source, Source.id == Record.source_id)
            .where(Record.id.in_(ids[start : start + _CHUNK]))
        )
        for record_id, local_id, source_name, title, available, status, view in session.execute(query).all():
            when = wanted[record_id]
            if when is None:
                state, days_left = "no_date", None
            else:
                days_left = (when - today).days
                state = "overdue" if days_left < 0 else "due"
            rows.append(
                {
                    "state": state,
                    "available_date": available,
                    "days_left": days_left,
                    "record": local_id,
                    "source": source_name,
                    "title": title,
                    "jgn": ", ".join(jgns.get(record_id, [])) or None,
                    "data_number": _first_value(view, "data_number"),
                    "data_manager": _first_value(view, "data_manager"),
                    "contact": _first_value(view, "contact"),
                    "status": status,
                    "_sort": (when is None, when or date.max, local_id),
                }
            )
    rows.sort(key=lambda r: r["_sort"])
    for r in rows:
        del r["_sort"]
    return rows


# --------------------------------------------------------------------------------------------------------- deadlines


def deadlines(session: Session, config: Config, *, today: date) -> list[dict[str, Any]]:
    """Each known project's registration deadline (end + 61 days) and whether its metadata is registered.

    Periods come from `[[projects]]` in the configuration and from the projects imported from a DMP spreadsheet
    (`gateway projects import`); the configuration wins for a Japan Grant Number in both (`origin` says which was
    used). "Registered" means at least one of its records is published. A project not registered is "open" up to and
    including its deadline day and "overdue" from the day after. A project that has held records but no known period
    is listed last with state "period unknown" (no dates), so an administrator sees which periods are missing.
    """
    periods: dict[str, dict[str, Any]] = {}
    for p in config.projects:
        periods[p.jgn] = {
            "name": p.name,
            "funder": p.funder,
            "program": p.program,
            "start": p.start,
            "end": p.end,
            "origin": "config",
        }
    for stored in session.scalars(select(Project)):
        periods.setdefault(
            stored.jgn,
            {
                "name": stored.name_ja or stored.name_en,
                "funder": stored.funder,
                "program": stored.program,
                "start": stored.start_date,
                "end": stored.end_date,
                "origin": stored.origin,
            },
        )
    held = {row.jgn: row for row in counts(session) if row.row == "project"}
    rows = []
    for jgn, p in periods.items():
        deadline = p["end"] + timedelta(days=REGISTRATION_DAYS)
        found = held.get(jgn)
        published = found.published if found else 0
        registered = published > 0
        state = "registered" if registered else ("overdue" if today > deadline else "open")
        rows.append(
            {
                "jgn": jgn,
                "name": p["name"],
                "funder": p["funder"],
                "program": p["program"],
                "start": p["start"].isoformat(),
                "end": p["end"].isoformat(),
                "deadline": deadline.isoformat(),
                "days_left": (deadline - today).days,
                "records_held": found.total if found else 0,
                "records_published": published,
                "registered": registered,
                "state": state,
                "origin": p["origin"],
            }
        )
    for jgn, found in held.items():
        if jgn in periods:
            continue
        rows.append(
            {
                "jgn": jgn,
                "name": found.project_name_ja or found.project_name_en,  # as most of its records name it
                "funder": found.funder_name_ja or found.funder_name_en,
                "program": found.program_name_ja or found.program_name_en,
                "start": None,
                "end": None,
                "deadline": None,
                "days_left": None,
                "records_held": found.total,
                "records_published": found.published,
                "registered": found.published > 0,
                "state": PERIOD_UNKNOWN,
                "origin": None,
            }
        )
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or "", r["jgn"]))
    return rows


# ----------------------------------------------------------------------------------------------------------- writers


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | int | date | bool
    in_table: bool = True  # shown in the terminal table too (wide name columns are left to the files)


_COUNT_NAME_COLUMNS = (
    Column("jgn", "体系的番号 Japan Grant Number"),
    Column("funder_code", "資金配分機関コード funder code", in_table=False),
    Column("funder_name_ja", "資金配分機関 funder (ja)"),
    Column("funder_name_en", "funder (en)", in_table=False),
    Column("program_code", "プログラム情報コード program code", in_table=False),
    Column("program_name_ja", "プログラム名 program (ja)", in_table=False),
    Column("program_name_en", "program (en)", in_table=False),
    Column("project_name_ja", "プロジェクト名 project (ja)"),
    Column("project_name_en", "project (en)", in_table=False),
)
_COUNT_NUMBER_COLUMNS = (
    *(Column(c.key, f"{c.label_ja} {c.key.replace('_', ' ')}", "int") for c in ACCESS_CATEGORIES),
    Column("total", "合計 total", "int"),
    Column("published", "公開中 published", "int"),
    Column("withheld", "非公開 withheld", "int"),
    Column("quarantined", "検証エラー quarantined", "int"),
)
EMBARGO_COLUMNS = (
    Column("state", "state"),
    Column("available_date", "公開予定日 available", "date"),
    Column("days_left", "days left", "int"),
    Column("record", "record"),
    Column("title", "データの名称 title"),
    Column("jgn", "体系的番号 JGN"),
    Column("data_number", "データNo. data number", in_table=False),
    Column("data_manager", "データ管理者 data manager"),
    Column("contact", "連絡先 contact", in_table=False),
    Column("status", "status"),
    Column("source", "source", in_table=False),
)
DEADLINE_COLUMNS = (
    Column("jgn", "体系的番号 JGN"),
    Column("name", "プロジェクト名 project"),
    Column("funder", "資金配分機関 funder", in_table=False),
    Column("program", "プログラム名 program", in_table=False),
    Column("start", "開始 start", "date", in_table=False),
    Column("end", "終了 end", "date"),
    Column("deadline", "登録期限 deadline", "date"),
    Column("days_left", "days left", "int"),
    Column("records_held", "records held", "int"),
    Column("records_published", "records published", "int"),
    Column("registered", "registered", "bool"),
    Column("state", "state"),
    Column("origin", "期間の出典 period from", in_table=False),  # config | dmp | empty (period unknown)
)


def counts_columns(rows: Sequence[dict[str, Any]]) -> list[Column]:
    """The counts report's columns; "unknown" only when some row has a record without a valid access right."""
    show_unknown = any(r.get("unknown") for r in rows)
    return [c for c in (*_COUNT_NAME_COLUMNS, *_COUNT_NUMBER_COLUMNS) if c.key != "unknown" or show_unknown]


def write_counts(rows: Sequence[ProjectCounts], fmt: str, out: IO[bytes], *, with_totals: bool = True) -> None:
    """The counts report with its totals row last. JSON keeps `jgn` null and says what each row is in `row`."""
    dicts = [r.to_dict() for r in rows]
    if with_totals:
        dicts.append(totals(rows).to_dict())
    if fmt == "json":
        render(dicts, counts_columns(dicts), fmt, out)
        return
    shown = []
    for d in dicts:
        d = dict(d)
        if d["row"] == "no_project":
            d["jgn"] = NO_PROJECT
        elif d["row"] == "total":
            d["jgn"] = TOTAL
        shown.append(d)
    render(shown, counts_columns(dicts), fmt, out, sheet="counts", bold_last=with_totals)


def write_embargoes(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    render(rows, EMBARGO_COLUMNS, fmt, out, sheet="embargoes")


def write_deadlines(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    render(rows, DEADLINE_COLUMNS, fmt, out, sheet="deadlines")


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: str,
    out: IO[bytes],
    *,
    sheet: str = "report",
    bold_last: bool = False,
) -> None:
    """Write rows in one of FORMATS to a binary stream (a file, sys.stdout.buffer or a BytesIO)."""
    if fmt == "json":
        out.write(json.dumps(list(rows), ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    elif fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow([c.header for c in columns])
        for r in rows:
            writer.writerow([_plain(r.get(c.key), c) for c in columns])
        out.write(text.getvalue().encode("utf-8-sig"))
    elif fmt == "table":
        out.write(_table([c for c in columns if c.in_table], rows).encode("utf-8"))
    elif fmt == "xlsx":
        _xlsx(rows, columns, out, sheet=sheet, bold_last=bold_last)
    else:
        raise ReportError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")


def _plain(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "bool":
        return "yes" if value else "no"
    return str(value)


def _width(text: str) -> int:
    # East Asian wide characters take two terminal cells, so Japanese names would otherwise break the alignment.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _table(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing to report)\n"
    cells = [[_plain(r.get(c.key), c) for c in columns] for r in rows]
    widths = [max([_width(c.header)] + [_width(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [c.kind == "int" for c in columns]
    lines = [
        "  ".join(_pad(c.header, w, n) for c, w, n in zip(columns, widths, numeric, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append("  ".join(_pad(v, w, n) for v, w, n in zip(row, widths, numeric, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _xlsx(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], out: IO[bytes], *, sheet: str, bold_last: bool
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([c.header for c in columns])
    for r in rows:
        ws.append([_cell(r.get(c.key), c) for c in columns])
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    if bold_last and rows:
        for cell in ws[ws.max_row]:
            cell.font = bold
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.kind == "date":
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd"
        longest = max([_width(column.header)] + [_width(_plain(r.get(column.key), column)) for r in rows])
        ws.column_dimensions[letter].width = min(max(longest + 2, 8), 60)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{ws.max_row}"
    book.save(out)


def _cell(value: Any, column: Column) -> Any:
    """Numbers stay numbers and ISO dates become date cells, so the sheet sums and sorts as people expect."""
    if value is None:
        return None
    if column.kind == "date" and isinstance(value, str):
        parsed = _parse_date(value)
        return parsed if parsed is not None and len(value.strip()) == 10 else value
    if column.kind == "bool":
        return "yes" if value else "no"
    return value
