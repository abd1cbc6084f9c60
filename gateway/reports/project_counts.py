"""The counts report: held records per project (Japan Grant Number) by data access right and by status.

These are the numbers researchers enter in the funders' databases: 公開 open, 共有 restricted, 非公開・非共有 metadata
only and 公開猶予 embargoed, plus what is withheld or quarantined; records without a grant number are counted in a row
of their own, and the totals row sums the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session

from gateway.models import Record, RecordFunding
from gateway.reports.common import ACCESS_CATEGORIES, HELD, category, source_id
from gateway.reports.writers import Column, render

NO_PROJECT = "(no project)"
TOTAL = "total"
_STATUS_KEYS = ("published", "withheld", "quarantined")


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
        self.by_access[category(access_right)] += n
        if status in _STATUS_KEYS:
            setattr(self, status, getattr(self, status) + n)


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
    in_source = source_id(session, source) if source else None
    conditions = [HELD, RecordFunding.jgn.is_not(None)]
    if in_source is not None:
        conditions.append(Record.source_id == in_source)
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
        query = select(Record.status, Record.access_right, func.count()).where(HELD, ~has_jgn)
        if in_source is not None:
            query = query.where(Record.source_id == in_source)
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
