"""The overview: each source with its state and next run, the latest errors, and the provider's totals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gateway.admin.operations.common import effective_sources, stamp
from gateway.admin.operations.harvests import is_harvesting
from gateway.config import Config
from gateway.db import utcnow
from gateway.models import HarvestRun, OaiSet, Published, Record, Source, SourceLock

LATEST_ERRORS = 10


def _next_fire(schedule: str | None, now: datetime) -> str | None:
    if not schedule:
        return None
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(schedule, timezone="UTC")
    except ValueError:
        return None
    fire = trigger.get_next_fire_time(None, now.replace(tzinfo=UTC))
    return fire.strftime("%Y-%m-%d %H:%M:%S") if fire else None


def _status_counts(session: Session) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for source_id, status, count in session.execute(
        select(Record.source_id, Record.status, func.count()).group_by(Record.source_id, Record.status)
    ).all():
        out.setdefault(source_id, {})[status] = count
    return out


def overview(session: Session, config: Config) -> dict[str, Any]:
    """Each source with its state, the latest errors, and the provider's totals."""
    now = utcnow()
    rows = {row.name: row for row in session.scalars(select(Source)).all()}
    counts = _status_counts(session)
    locked = {sid for sid in session.scalars(select(SourceLock.source_id).where(SourceLock.expires_at >= now)).all()}
    sources = []
    for src in effective_sources(session, config):
        row = rows.get(src.name)
        last = None
        if row is not None:
            last = session.scalar(
                select(HarvestRun)
                .where(HarvestRun.source_id == row.id)
                .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc())
                .limit(1)
            )
        by_status = counts.get(row.id, {}) if row is not None else {}
        sources.append(
            {
                "name": src.name,
                "kind": src.kind,
                "location": src.url or (str(src.path) if src.path else None),
                "metadata_prefix": src.metadata_prefix,
                "enabled": src.enabled,
                "schedule": src.schedule,
                "harvesting": bool(row is not None and row.id in locked) or is_harvesting(src.name),
                "last_run": None
                if last is None
                else {
                    "id": last.id,
                    "status": last.status,
                    "mode": last.mode,
                    "started": stamp(last.started_at),
                    "finished": stamp(last.finished_at),
                    "message": last.message,
                },
                "next_run": _next_fire(src.schedule, now) if src.enabled else None,
                "published": by_status.get("published", 0),
                "withheld": by_status.get("withheld", 0),
                "quarantined": by_status.get("quarantined", 0),
                "deleted": by_status.get("deleted", 0),
            }
        )
    errors = []
    failing = session.execute(
        select(HarvestRun, Source.name)
        .join(Source, Source.id == HarvestRun.source_id)
        .where(or_(HarvestRun.status == "failed", HarvestRun.records_failed > 0))
        .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc())
        .limit(LATEST_ERRORS)
    ).all()
    for run, name in failing:
        errors.append(
            {
                "run_id": run.id,
                "source": name,
                "at": stamp(run.started_at),
                "status": run.status,
                "message": run.message or (run.errors[0] if run.errors else None),
                "errors": len(run.errors or []),
            }
        )
    served = dict(session.execute(select(Published.deleted, func.count()).group_by(Published.deleted)).all())
    by_status = dict(session.execute(select(Record.status, func.count()).group_by(Record.status)).all())
    by_access = dict(
        session.execute(
            select(Record.access_right, func.count()).where(Record.status == "published").group_by(Record.access_right)
        ).all()
    )
    return {
        "generated": stamp(now),
        "repository": {"name": config.repository.name, "base_url": config.repository.base_url},
        "sources": sources,
        "latest_errors": errors,
        "totals": {
            "served": served.get(False, 0),
            "served_deleted": served.get(True, 0),
            "sets": session.scalar(select(func.count()).select_from(OaiSet)) or 0,
            "records": sum(by_status.values()),
            "by_status": {s: by_status.get(s, 0) for s in ("published", "withheld", "quarantined", "deleted")},
            "published_by_access": {
                (k or "unknown"): v for k, v in sorted(by_access.items(), key=lambda kv: kv[0] or "")
            },
        },
    }
