"""A harvest run: pages from a source, applied and committed page by page, recorded in the run history."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Config, SourceConfig
from gateway.db import transaction, utcnow
from gateway.harvest import HarvestError, open_source
from gateway.models import HarvestRun, Record, Source
from gateway.pipeline import SourceProcessor

log = logging.getLogger(__name__)

MAX_LOGGED_PROBLEMS = 200


@dataclass
class Progress:
    source: str
    pages: int = 0
    records: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    retries: int = 0
    total: int | None = None
    done: bool = False
    status: str = "running"


ProgressCallback = Callable[[Progress], None]


def ensure_source(session: Session, source: SourceConfig) -> Source:
    row = session.scalar(select(Source).where(Source.name == source.name))
    location = source.url or (str(source.path) if source.path else None)
    if row is None:
        row = Source(
            name=source.name,
            kind=source.kind,
            location=location,
            metadata_prefix=source.metadata_prefix,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
    else:
        row.kind, row.location, row.metadata_prefix = source.kind, location, source.metadata_prefix
    return row


def last_successful_run(session: Session, source_id: int) -> HarvestRun | None:
    return session.scalar(
        select(HarvestRun)
        .where(HarvestRun.source_id == source_id, HarvestRun.status == "succeeded")
        .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc())
        .limit(1)
    )


def run_harvest(
    config: Config,
    sessions: sessionmaker[Session],
    source: SourceConfig,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
) -> HarvestRun:
    """Harvest one source now. A failure is recorded on the run; what earlier pages stored stays stored."""
    with transaction(sessions) as session:
        source_row = ensure_source(session, source)
        previous = last_successful_run(session, source_row.id)
        from_date = None if full or previous is None else previous.response_date
        run = HarvestRun(
            source_id=source_row.id,
            mode="full" if full or from_date is None else "incremental",
            status="running",
            started_at=utcnow(),
            from_param=from_date,
            warnings=[],
            errors=[],
        )
        session.add(run)
        session.flush()
        run_id, source_id = run.id, source_row.id
    session_source = source_row

    harvester = open_source(source, from_date=from_date, full=full)
    processor = SourceProcessor(config, source, session_source, run_id)
    state = Progress(source=source.name)
    warnings: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()
    status, message = "succeeded", None
    try:
        for page in harvester.pages():
            now = utcnow()
            with transaction(sessions) as session:
                for item in page.records:
                    outcome = processor.process(session, item, now)
                    if item.identifier:
                        seen.add(item.identifier)
                    if outcome == "failed":
                        _note(errors, f"{item.identifier or '(no identifier)'}: {item.error}")
                    setattr(state, outcome, getattr(state, outcome) + 1)
                    state.records += 1
                state.pages += 1
                state.total = page.complete_list_size or state.total
                for w in page.warnings:
                    _note(warnings, w)
                _save_counts(session, run_id, state, harvester, warnings, errors, page.resumption_token)
            state.retries = harvester.retries
            if progress:
                progress(state)
        if harvester.is_snapshot:
            with transaction(sessions) as session:
                state.deleted += _reconcile(session, processor, source_id, seen, utcnow())
    except HarvestError as exc:
        status, message = "failed", str(exc)
        _note(errors, message)
    except Exception as exc:  # a bug or an unexpected fault must still close the run
        log.exception("harvest of %s failed unexpectedly", source.name)
        status, message = "failed", f"unexpected error: {exc.__class__.__name__}: {exc}"
        _note(errors, message)
    with transaction(sessions) as session:
        _save_counts(session, run_id, state, harvester, warnings, errors, None)
        session.execute(
            update(HarvestRun)
            .where(HarvestRun.id == run_id)
            .values(
                status=status,
                message=message,
                finished_at=utcnow(),
                response_date=harvester.response_date or _iso(run_started(session, run_id)),
            )
        )
    state.status, state.done = status, True
    if progress:
        progress(state)
    with sessions() as session:
        return session.get(HarvestRun, run_id)  # type: ignore[return-value]


def run_started(session: Session, run_id: int):  # type: ignore[no-untyped-def]
    return session.scalar(select(HarvestRun.started_at).where(HarvestRun.id == run_id))


def _iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _save_counts(session, run_id, state, harvester, warnings, errors, checkpoint) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(HarvestRun)
        .where(HarvestRun.id == run_id)
        .values(
            pages=state.pages,
            records_new=state.new,
            records_changed=state.changed,
            records_unchanged=state.unchanged,
            records_deleted=state.deleted,
            records_failed=state.failed,
            requests=harvester.requests,
            retries=harvester.retries,
            warnings=list(warnings),
            errors=list(errors),
            checkpoint=checkpoint,
        )
    )


def _note(bucket: list[str], text: str) -> None:
    if len(bucket) < MAX_LOGGED_PROBLEMS:
        bucket.append(text)
    elif len(bucket) == MAX_LOGGED_PROBLEMS:
        bucket.append("… further problems not recorded")


def _reconcile(session: Session, processor: SourceProcessor, source_id: int, seen: set[str], now) -> int:  # type: ignore[no-untyped-def]
    """After a complete snapshot: records the source no longer has are deleted at the source."""
    gone = 0
    rows = session.scalars(select(Record).where(Record.source_id == source_id, Record.source_deleted.is_(False))).all()
    from gateway.harvest import HarvestedRecord

    for record in rows:
        if record.source_identifier not in seen:
            processor.process(session, HarvestedRecord(identifier=record.source_identifier, deleted=True), now)
            gone += 1
    return gone


def remap(
    config: Config, sessions: sessionmaker[Session], *, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Re-map every stored raw record through the current crosswalks, and publish or withdraw accordingly."""
    from gateway import crosswalk

    crosswalk.reload()
    counts: dict[str, int] = {}
    with sessions() as session:
        total = session.query(Record).filter(Record.source_deleted.is_(False)).count()
    done = 0
    for source in config.sources:
        with transaction(sessions) as session:
            source_row = ensure_source(session, source)
            processor = SourceProcessor(config, source, source_row, None)
            ids = session.scalars(
                select(Record.id).where(Record.source_id == source_row.id, Record.source_deleted.is_(False))
            ).all()
        for start in range(0, len(ids), 200):
            now = utcnow()
            with transaction(sessions) as session:
                for record in session.scalars(select(Record).where(Record.id.in_(ids[start : start + 200]))):
                    mapped = processor.map(record)
                    outcome = processor.apply(session, record, mapped, now)
                    counts[outcome] = counts.get(outcome, 0) + 1
                    done += 1
            if progress:
                progress(done, total)
    return counts
