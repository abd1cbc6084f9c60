"""The quarantine as the dashboard and the API show it: quarantined records grouped by the error that keeps them out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import Record, Source

QUARANTINE_EXAMPLES = 20


def _quarantined(session: Session, source: str | None) -> Iterator[Any]:
    query = (
        select(Record.id, Record.local_id, Record.title, Record.findings, Source.name)
        .join(Source, Source.id == Record.source_id)
        .where(Record.status == "quarantined")
        .order_by(Record.id)
    )
    if source:
        query = query.where(Source.name == source)
    yield from session.execute(query.execution_options(yield_per=500))


def quarantine_groups(session: Session, *, source: str | None = None) -> list[dict[str, Any]]:
    """Quarantined records grouped by the error that keeps them out, largest group first.

    One crosswalk fault gives the same finding on many records: fixing it once releases the whole group.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in _quarantined(session, source):
        seen: set[tuple[Any, ...]] = set()
        for f in row.findings or []:
            if f.get("severity") != "error":
                continue
            key = (f.get("severity"), f.get("rule"), f.get("item"), f.get("message"))
            if key in seen:  # the same error twice in one record counts the record once
                continue
            seen.add(key)
            group = groups.setdefault(
                key,
                {
                    "severity": f.get("severity"),
                    "rule": f.get("rule"),
                    "layer": f.get("layer"),
                    "item": f.get("item"),
                    "message": f.get("message"),
                    "count": 0,
                    "records": [],
                },
            )
            group["count"] += 1
            if len(group["records"]) < QUARANTINE_EXAMPLES:
                group["records"].append(
                    {"id": row.id, "local_id": row.local_id, "title": row.title, "source": row.name}
                )
    return sorted(groups.values(), key=lambda g: (-g["count"], str(g["rule"]), str(g["message"])))
