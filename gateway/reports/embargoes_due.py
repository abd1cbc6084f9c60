"""The embargoes report: held embargoed records whose available date has passed or comes soon.

When an embargo ends the data manager must open the data (DESIGN section 5); this report says which records are
overdue, which are due within a number of days, and which embargoed records have no readable date at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import Record, RecordFunding, Source
from gateway.reports.common import CHUNK, HELD, ReportError, parse_date
from gateway.reports.writers import Column, render


def _first_value(view: dict[str, Any] | None, key: str) -> str | None:
    values = (view or {}).get(key) or []
    for lang in ("ja", "en", ""):
        for entry in values:
            if entry.get("lang", "") == lang and entry.get("value"):
                return entry["value"]
    return values[0].get("value") if values else None


def _jgns_of(session: Session, record_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(record_ids), CHUNK):
        chunk = record_ids[start : start + CHUNK]
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
        select(Record.id, Record.available_date).where(HELD, Record.access_right == "embargoed").order_by(Record.id)
    ).all()
    wanted: dict[int, date | None] = {}
    for record_id, available in candidates:
        when = parse_date(available)
        if when is None or when <= horizon:
            wanted[record_id] = when
    ids = list(wanted)
    jgns = _jgns_of(session, ids)
    rows = []
    for start in range(0, len(ids), CHUNK):
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
            .where(Record.id.in_(ids[start : start + CHUNK]))
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


def write_embargoes(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    render(rows, EMBARGO_COLUMNS, fmt, out, sheet="embargoes")
