"""The harvest history as the dashboard and the API show it: each run with its counts, warnings and errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.admin.operations.common import stamp
from gateway.models import HarvestRun, Record, Source


def _run_dict(run: HarvestRun, source_name: str) -> dict[str, Any]:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
    return {
        "id": run.id,
        "source": source_name,
        "mode": run.mode,
        "status": run.status,
        "started": stamp(run.started_at),
        "finished": stamp(run.finished_at),
        "seconds": seconds,
        "from": run.from_param,
        "until": run.until_param,
        "pages": run.pages or 0,
        "records": {
            "new": run.records_new or 0,
            "changed": run.records_changed or 0,
            "unchanged": run.records_unchanged or 0,
            "deleted": run.records_deleted or 0,
            "failed": run.records_failed or 0,
            "repeated": run.records_repeated or 0,
            "held": run.records_held or 0,
        },
        "requests": run.requests or 0,
        "retries": run.retries or 0,
        "restarts": run.restarts or 0,
        "repairs": run.repairs or 0,
        "checkpoint": run.checkpoint,
        "message": run.message,
        "warnings": list(run.warnings or []),
        "errors": list(run.errors or []),
    }


def list_runs(session: Session, *, source: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The harvest history, newest first."""
    query = select(HarvestRun, Source.name).join(Source, Source.id == HarvestRun.source_id)
    if source:
        query = query.where(Source.name == source)
    query = (
        query.order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc()).limit(max(limit, 0)).offset(max(offset, 0))
    )
    return [_run_dict(run, name) for run, name in session.execute(query).all()]


def count_runs(session: Session, *, source: str | None = None) -> int:
    query = select(func.count()).select_from(HarvestRun)
    if source:
        query = query.join(Source, Source.id == HarvestRun.source_id).where(Source.name == source)
    return session.scalar(query) or 0


def get_run(session: Session, run_id: int) -> dict[str, Any] | None:
    row = session.execute(
        select(HarvestRun, Source.name).join(Source, Source.id == HarvestRun.source_id).where(HarvestRun.id == run_id)
    ).first()
    if row is None:
        return None
    run, name = row
    out = _run_dict(run, name)
    out["records_stored"] = dict(
        session.execute(
            select(Record.status, func.count()).where(Record.run_id == run_id).group_by(Record.status)
        ).all()
    )
    return out
