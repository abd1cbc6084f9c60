"""The deadlines report: each project's registration deadline (end + 61 days) and whether its metadata is registered.

Researchers must register their data's metadata within 61 days after the project ends. Project periods come from the
configuration (`[[projects]]`) and from DMP spreadsheets (`gateway projects import`, gateway.projects); what is
registered comes from the counts report.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.models import Project
from gateway.reports.project_counts import counts
from gateway.reports.writers import Column, render

# Researchers must register their data's metadata within 61 days after the project ends.
REGISTRATION_DAYS = 61
PERIOD_UNKNOWN = "period unknown"  # a deadlines row: the project has records but no known period


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


def write_deadlines(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    render(rows, DEADLINE_COLUMNS, fmt, out, sheet="deadlines")
