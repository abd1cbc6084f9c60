"""The deadlines report: every registration due date of each project, as the food-safety guideline states them, with
what is missing at each.

The guideline (§5 3)-2 ii and 3)-3 ii) sets two duties with different clocks:

- the **metadata** of the data made during the project is due by the day on which 61 days have passed after the
  project ends, and a project over several fiscal years (April to March) registers after each fiscal year too. The
  guideline gives no other allowance for those years, so the same 61 days are counted from each fiscal year's end
  (31 March + 61 days = 31 May);
- the **counts** for the funder's database (厚生労働科学研究成果データベース) are due 61 days after the end of the final
  year only ("研究途中の年度終了後に登録することは求めない").

So a project has one row per fiscal year that ends before the project does (metadata) and one row for its end
(metadata and counts). What is missing: with a DMP, the datasets it declared by then (a dataset is dated by the DMP
version it first appeared in) whose metadata is to be registered (not kept 共有 or 非共有, §6) and that no held record
matches (gateway.dmp.matching); without one, as before, whether
any of its records is published. Periods come from the configuration (`[[projects]]`), which wins, and from DMP
imports (the `projects` table, then the DMP's own period).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.dmp import matching
from gateway.models import DmpDataset, DmpVersion, Project
from gateway.reports.project_counts import counts
from gateway.reports.writers import Column, render

# Researchers must register their data's metadata within 61 days after the project (or a fiscal year) ends.
REGISTRATION_DAYS = 61
PERIOD_UNKNOWN = "period unknown"  # a deadlines row: the project has records but no known period
FISCAL_YEAR, END = "fiscal_year", "end"
WHAT = {FISCAL_YEAR: "metadata", END: "metadata and counts"}


#: a dataset whose metadata the DMP keeps 共有 or 非共有: §6 says to register only what the DMP marks 公開
NOT_FOR_REGISTRATION = "not for registration"


def to_register(dataset: DmpDataset) -> bool:
    """Whether a DMP dataset's metadata is to be registered: not when the DMP keeps it shared or not shared."""
    return dataset.metadata_disclosure not in ("shared", "private")


@dataclass(frozen=True)
class Due:
    """One due date of a project: `covers` is the last day whose data it is for (a fiscal year's end, or the
    project's end)."""

    day: date
    kind: str  # fiscal_year | end
    covers: date
    fiscal_year: int | None = None  # the fiscal year (its April's calendar year), for kind fiscal_year


def fiscal_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def due_dates(start: date, end: date) -> list[Due]:
    """The project's due dates in order: one per fiscal year that ends before the project does, then the end."""
    out = []
    year = fiscal_year_of(start)
    while (closing := date(year + 1, 3, 31)) < end:
        out.append(Due(closing + timedelta(days=REGISTRATION_DAYS), FISCAL_YEAR, closing, year))
        year += 1
    out.append(Due(end + timedelta(days=REGISTRATION_DAYS), END, end))
    return out


def declared_on(session: Session, jgn: str) -> dict[int, date]:
    """The day each DMP version of a project declared what it declares: the DMP's own date, else its import day."""
    return {
        v.version: v.dmp_date or v.imported_at.date()
        for v in session.scalars(select(DmpVersion).where(DmpVersion.jgn == jgn))
    }


def due_of(dataset: DmpDataset, dues: Sequence[Due], declared: dict[int, date]) -> Due:
    """The first due date at which a dataset is due: the first whose period its DMP version had declared it by."""
    when = declared.get(dataset.first_version)
    for due in dues:
        if due.kind == END or (when is not None and when <= due.covers):
            return due
    return dues[-1]


def periods(session: Session, config: Config | None) -> dict[str, dict[str, Any]]:
    """Each known project's period and names: the configuration first, then DMP imports."""
    found: dict[str, dict[str, Any]] = {}
    for p in config.projects if config is not None else ():
        found[p.jgn] = {"name": p.name, "funder": p.funder, "program": p.program, "start": p.start, "end": p.end,
                        "origin": "config"}
    for stored in session.scalars(select(Project)):
        found.setdefault(stored.jgn, {
            "name": stored.name_ja or stored.name_en, "funder": stored.funder, "program": stored.program,
            "start": stored.start_date, "end": stored.end_date, "origin": stored.origin,
        })
    for v in session.scalars(select(DmpVersion).where(DmpVersion.current.is_(True))):
        found.setdefault(v.jgn, {"name": v.name_ja or v.name_en, "funder": v.funder, "program": v.program,
                                 "start": v.start_date, "end": v.end_date, "origin": "dmp"})
    return found


def _label(dataset: DmpDataset) -> str:
    return f"{dataset.number} {dataset.name}" if dataset.number else dataset.name


def deadlines(session: Session, config: Config | None, *, today: date) -> list[dict[str, Any]]:
    """Every due date of each known project, overdue first, then by date; projects with records but no known
    period last, with state "period unknown" and no dates.

    A row is "registered" when nothing is missing at it, else "open" up to and including its due day and "overdue"
    from the day after.
    """
    known = periods(session, config)
    held = {row.jgn: row for row in counts(session) if row.row == "project"}
    with_dmp = set(matching.projects_with_dmp(session))  # one query, not one per project
    rows = []
    for jgn, p in known.items():
        found = held.get(jgn)
        published = found.published if found else 0
        dues = due_dates(p["start"], p["end"])
        reconciled = matching.reconcile(session, jgn) if jgn in with_dmp else None
        missing_at: dict[Due, list[str]] = {}
        due_count: dict[Due, int] = {}
        if reconciled is not None and reconciled.matches:
            declared = declared_on(session, jgn)
            for match in reconciled.matches:
                if not to_register(match.dataset):
                    continue  # never due (§6); counted with the records, not missing
                first = due_of(match.dataset, dues, declared)
                for due in dues[dues.index(first):]:
                    due_count[due] = due_count.get(due, 0) + 1
                    if match.record is None:
                        missing_at.setdefault(due, []).append(_label(match.dataset))
        for due in dues:
            if reconciled is not None and reconciled.matches:
                missing = missing_at.get(due, [])
                registered = not missing
                datasets_due: int | None = due_count.get(due, 0)
                datasets_missing: int | None = len(missing)
            else:
                missing, registered, datasets_due, datasets_missing = [], published > 0, None, None
            state = "registered" if registered else ("overdue" if today > due.day else "open")
            rows.append({
                "jgn": jgn, "name": p["name"], "funder": p["funder"], "program": p["program"],
                "start": p["start"].isoformat(), "end": p["end"].isoformat(),
                "due": due.kind, "fiscal_year": due.fiscal_year, "what": WHAT[due.kind],
                "covers": due.covers.isoformat(), "deadline": due.day.isoformat(), "days_left": (due.day - today).days,
                "records_held": found.total if found else 0, "records_published": published,
                "datasets_due": datasets_due, "datasets_missing": datasets_missing,
                "missing": "; ".join(missing) or None,
                "registered": registered, "state": state, "origin": p["origin"],
            })
    for jgn, found in held.items():
        if jgn in known:
            continue
        rows.append({
            "jgn": jgn,
            "name": found.project_name_ja or found.project_name_en,  # as most of its records name it
            "funder": found.funder_name_ja or found.funder_name_en,
            "program": found.program_name_ja or found.program_name_en,
            "start": None, "end": None, "due": None, "fiscal_year": None, "what": None, "covers": None,
            "deadline": None, "days_left": None, "records_held": found.total, "records_published": found.published,
            "datasets_due": None, "datasets_missing": None, "missing": None,
            "registered": found.published > 0, "state": PERIOD_UNKNOWN, "origin": None,
        })
    rows.sort(key=lambda r: (r["deadline"] is None, r["state"] != "overdue", r["deadline"] or "", r["jgn"]))
    return rows


# The headers the report had before fiscal years were added stay as they were: sheets and scripts read them.
DEADLINE_COLUMNS = (
    Column("jgn", "体系的番号 JGN"),
    Column("name", "プロジェクト名 project"),
    Column("funder", "資金配分機関 funder", in_table=False),
    Column("program", "プログラム名 program", in_table=False),
    Column("start", "開始 start", "date", in_table=False),
    Column("end", "終了 end", "date"),
    Column("due", "期限の種類 due for", in_table=False),  # fiscal_year | end
    Column("fiscal_year", "年度 fiscal year", "int", in_table=False),
    Column("what", "登録するもの what is due"),  # metadata | metadata and counts
    Column("covers", "対象期間の終わり covers until", "date", in_table=False),
    Column("deadline", "登録期限 deadline", "date"),
    Column("days_left", "days left", "int"),
    Column("records_held", "records held", "int"),
    Column("records_published", "records published", "int"),
    Column("datasets_due", "DMP上の対象データ datasets due", "int"),
    Column("datasets_missing", "未登録のデータ datasets missing", "int"),
    Column("missing", "未登録のデータ名 missing", in_table=False),
    Column("registered", "registered", "bool"),
    Column("state", "state"),
    Column("origin", "期間の出典 period from", in_table=False),  # config | dmp | empty (period unknown)
)


def write_deadlines(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    render(rows, DEADLINE_COLUMNS, fmt, out, sheet="deadlines")
