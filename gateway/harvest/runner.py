"""A harvest run: pages from a source, applied and committed page by page, recorded in the run history."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from gateway import locks
from gateway.config import Config, SourceConfig
from gateway.db import transaction, utcnow
from gateway.harvest import HarvestedRecord, HarvestError, open_source
from gateway.harvest.mapping import PoolMapper, configured_workers, wants_pool
from gateway.models import HarvestRun, Record, Source
from gateway.pipeline import SourceProcessor, raw_hash

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
    lock_ttl: float | None = None,
) -> HarvestRun:
    """Harvest one source now, holding its database lock (SourceBusy if another run holds it).

    A run interrupted earlier (left `running` by a killed process) is resumed from its checkpoint, the resumption
    token of the page after the last committed one. A failure is recorded on the run; what earlier pages stored stays
    stored.
    """
    source_id = _ensure_source_id(sessions, source)
    if lock_ttl is None:
        lock_ttl = _lock_ttl(source)
    lock = locks.acquire(sessions, source_id, ttl=lock_ttl)
    try:
        with _sigterm_interrupts():
            return _run_locked(config, sessions, source, source_id, lock, full=full, progress=progress, ttl=lock_ttl)
    finally:
        try:
            locks.release(sessions, lock)
        except Exception:  # the lock expires by itself; never hide the run's own outcome
            log.exception("%s: could not release the harvest lock", source.name)


INTERRUPTED = "interrupted"


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops a harvest the way Ctrl-C does (KeyboardInterrupt), so that its run is closed as interrupted.

    Only where nobody else handles SIGTERM (a `gateway harvest` process); the scheduler and servers keep their own.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _lock_ttl(source: SourceConfig) -> float:
    """Long enough for one page with all its retries: the lock is refreshed after each page."""
    attempts = int(source.options.get("max_retries", 5)) + 1
    worst_page = attempts * (source.timeout + float(source.options.get("retry_ceiling", 300)))
    return max(locks.DEFAULT_TTL, worst_page + 300)


def _ensure_source_id(sessions: sessionmaker[Session], source: SourceConfig) -> int:
    for attempt in (1, 2):
        try:
            with transaction(sessions) as session:
                return ensure_source(session, source).id
        except IntegrityError:  # another process created the row at the same moment
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _run_locked(
    config: Config,
    sessions: sessionmaker[Session],
    source: SourceConfig,
    source_id: int,
    lock: locks.HeldLock,
    *,
    full: bool,
    progress: ProgressCallback | None,
    ttl: float,
) -> HarvestRun:
    state = Progress(source=source.name)
    warnings: list[str] = []
    errors: list[str] = []
    with transaction(sessions) as session:
        source_row = ensure_source(session, source)
        # We hold the lock: a run still marked running was left by a process that died (or was stopped).
        stale = session.scalars(
            select(HarvestRun)
            .where(HarvestRun.source_id == source_id, HarvestRun.status == "running")
            .order_by(HarvestRun.id.desc())
        ).all()
        resume = stale[0] if stale and (not full or stale[0].mode == "full") else None
        if not stale:
            # A run stopped by Ctrl-C or SIGTERM was closed as failed ("interrupted") with its checkpoint kept.
            last = session.scalar(
                select(HarvestRun).where(HarvestRun.source_id == source_id).order_by(HarvestRun.id.desc()).limit(1)
            )
            resumable = last is not None and last.status == "failed" and last.message == INTERRUPTED
            if resumable and (not full or last.mode == "full"):
                resume = last
                resume.status, resume.finished_at, resume.message = "running", None, None
        for old in stale:
            if old is not resume:
                old.status, old.finished_at = "failed", utcnow()
                old.message = "interrupted (the process harvesting it ended) and not resumed"
        if resume is not None:
            run = resume
            from_date, until_date, checkpoint = run.from_param, run.until_param, run.checkpoint
            state.pages, state.new, state.changed = run.pages or 0, run.records_new or 0, run.records_changed or 0
            state.unchanged, state.deleted = run.records_unchanged or 0, run.records_deleted or 0
            state.failed = run.records_failed or 0
            state.records = state.new + state.changed + state.unchanged + state.deleted + state.failed
            warnings, errors = list(run.warnings or []), list(run.errors or [])
            where = f"after page {state.pages}" if checkpoint else "from its start"
            holder = f" (stale lock of {lock.took_over} taken over)" if lock.took_over else ""
            _note(warnings, f"resumed {where} on {utcnow():%Y-%m-%d %H:%M:%S} after an interruption{holder}")
            log.warning("%s: resuming interrupted run %d %s", source.name, run.id, where)
        else:
            previous = last_successful_run(session, source_id)
            from_date = None if full or previous is None else previous.response_date
            until_date, checkpoint = None, None
            run = HarvestRun(
                source_id=source_id,
                mode="full" if full or from_date is None else "incremental",
                status="running",
                started_at=utcnow(),
                from_param=from_date,
                warnings=[],
                errors=[],
            )
            session.add(run)
        session.flush()
        run_id, response_date = run.id, run.response_date
        base_requests, base_retries = run.requests or 0, run.retries or 0

    harvester = open_source(source, from_date=from_date, until_date=until_date, full=full, checkpoint=checkpoint)
    counters = _Counters(harvester, base_requests, base_retries)
    processor = SourceProcessor(config, source, source_row, run_id)
    mapper: PoolMapper | None = None
    status, message = "succeeded", None
    interrupted: KeyboardInterrupt | None = None
    last_checkpoint = checkpoint  # where a resume starts: after the last committed page
    try:
        for page in harvester.pages():
            now = utcnow()
            if mapper is None and wants_pool(max(page.complete_list_size or 0, state.records + len(page.records))):
                mapper = PoolMapper(configured_workers())
            with transaction(sessions) as session:
                identifiers = [item.identifier for item in page.records if item.identifier]
                known = _known(session, source_id, page.records)
                # Unchanged records (the bulk of a re-harvest) are told by their hash alone; the rest of the page goes
                # through the pipeline together.
                changed = [item for item in page.records if not _unchanged(item, known, source)]
                outcomes = iter(processor.process_page(session, changed, now, mapper=mapper))
                changed_ids = {id(item) for item in changed}
                for item in page.records:
                    outcome = next(outcomes) if id(item) in changed_ids else "unchanged"
                    if outcome == "failed":
                        _note(errors, f"{item.identifier or '(no identifier)'}: {item.error}")
                    setattr(state, outcome, getattr(state, outcome) + 1)
                    state.records += 1
                if harvester.is_snapshot:
                    _mark_seen(session, source_id, run_id, identifiers)
                state.pages += 1
                state.total = page.complete_list_size or state.total
                for w in [*page.warnings, *_take_warnings(harvester)]:
                    _note(warnings, w)
                response_date = response_date or harvester.response_date
                _save_counts(
                    session,
                    run_id,
                    state,
                    counters,
                    warnings,
                    errors,
                    page.checkpoint or page.resumption_token,
                    response_date,
                )
            last_checkpoint = page.checkpoint or page.resumption_token
            locks.refresh(sessions, lock, ttl=ttl)
            state.retries = counters.retries
            if progress:
                progress(state)
        if harvester.is_snapshot:
            # Only after the COMPLETE list: what the source no longer has is deleted at the source.
            with transaction(sessions) as session:
                state.deleted += _reconcile(session, processor, source_id, run_id, utcnow())
    except locks.LockLost as exc:
        # Another process has taken this run over: it is no longer ours to close.
        log.error("%s: %s; this process stops harvesting", source.name, exc)
        state.status, state.done = "failed", True
        with sessions() as session:
            return session.get(HarvestRun, run_id)  # type: ignore[return-value]
    except HarvestError as exc:
        status, message = "failed", str(exc)
        _note(errors, message)
    except Exception as exc:  # a bug or an unexpected fault must still close the run
        log.exception("harvest of %s failed unexpectedly", source.name)
        status, message = "failed", f"unexpected error: {exc.__class__.__name__}: {exc}"
        _note(errors, message)
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM: closed as failed, resumable from its checkpoint by the next harvest of the source.
        interrupted = exc
        status, message = "failed", INTERRUPTED
        _note(errors, f"interrupted; the next harvest resumes after page {state.pages}")
        log.warning("%s: harvest interrupted after page %d; it resumes from there next time", source.name, state.pages)
    finally:
        if mapper is not None:
            mapper.close()
    for w in _take_warnings(harvester):
        _note(warnings, w)
    with transaction(sessions) as session:
        kept = last_checkpoint if interrupted is not None else None
        _save_counts(session, run_id, state, counters, warnings, errors, kept, response_date)
        session.execute(
            update(HarvestRun)
            .where(HarvestRun.id == run_id)
            .values(
                status=status,
                message=message,
                finished_at=utcnow(),
                response_date=response_date or harvester.response_date or _iso(run_started(session, run_id)),
            )
        )
    state.status, state.done, state.retries = status, True, counters.retries
    if progress:
        progress(state)
    if interrupted is not None:
        raise interrupted
    with sessions() as session:
        return session.get(HarvestRun, run_id)  # type: ignore[return-value]


class _Counters:
    """HTTP requests and retries of a run, including those of the process that started it before a resume."""

    def __init__(self, harvester, base_requests: int, base_retries: int) -> None:  # type: ignore[no-untyped-def]
        self.harvester, self.base_requests, self.base_retries = harvester, base_requests, base_retries

    @property
    def requests(self) -> int:
        return self.base_requests + self.harvester.requests

    @property
    def retries(self) -> int:
        return self.base_retries + self.harvester.retries


def _known(session: Session, source_id: int, items: list[HarvestedRecord]) -> dict[str, tuple[str | None, bool]]:
    """The stored hash and deletion flag of a page's records, in one query instead of one per record."""
    identifiers = [item.identifier for item in items if item.identifier]
    out: dict[str, tuple[str | None, bool]] = {}
    for start in range(0, len(identifiers), 500):
        rows = session.execute(
            select(Record.source_identifier, Record.raw_hash, Record.source_deleted).where(
                Record.source_id == source_id, Record.source_identifier.in_(identifiers[start : start + 500])
            )
        )
        out.update({ident: (digest, bool(deleted)) for ident, digest, deleted in rows})
    return out


def _unchanged(item: HarvestedRecord, known: dict[str, tuple[str | None, bool]], source: SourceConfig) -> bool:
    """What SourceProcessor.process would call unchanged, decided without loading the record (the common case of
    a re-harvest); anything else goes through the pipeline."""
    stored = known.get(item.identifier) if item.identifier and not item.error else None
    if stored is None:
        return False
    digest, deleted = stored
    if item.deleted:
        return deleted
    return not deleted and digest == raw_hash(item, item.disclosure or source.metadata_disclosure)


def _take_warnings(harvester) -> list[str]:  # type: ignore[no-untyped-def]
    take = getattr(harvester, "take_warnings", None)
    return take() if take else []


def _mark_seen(session: Session, source_id: int, run_id: int, identifiers: list[str]) -> None:
    """Mark records listed by this (snapshot) run, so that reconciling works across a resume too."""
    for start in range(0, len(identifiers), 500):
        session.execute(
            update(Record)
            .where(Record.source_id == source_id, Record.source_identifier.in_(identifiers[start : start + 500]))
            .values(run_id=run_id)
            .execution_options(synchronize_session=False)
        )


def run_started(session: Session, run_id: int):  # type: ignore[no-untyped-def]
    return session.scalar(select(HarvestRun.started_at).where(HarvestRun.id == run_id))


def _iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _save_counts(session, run_id, state, harvester, warnings, errors, checkpoint, response_date=None) -> None:  # type: ignore[no-untyped-def]
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
            response_date=response_date,
        )
    )


def _note(bucket: list[str], text: str) -> None:
    if len(bucket) < MAX_LOGGED_PROBLEMS:
        bucket.append(text)
    elif len(bucket) == MAX_LOGGED_PROBLEMS:
        bucket.append("… further problems not recorded")


def _reconcile(session: Session, processor: SourceProcessor, source_id: int, run_id: int, now) -> int:  # type: ignore[no-untyped-def]
    """After a complete snapshot: records the source no longer has (not listed by this run) are deleted."""
    gone = 0
    rows = session.scalars(
        select(Record).where(
            Record.source_id == source_id,
            Record.source_deleted.is_(False),
            or_(Record.run_id.is_(None), Record.run_id != run_id),
        )
    ).all()
    for record in rows:
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
                records = session.scalars(
                    select(Record).where(Record.id.in_(ids[start : start + 200])).options(selectinload(Record.fundings))
                ).all()
                work = [(record, processor.map(record)) for record in records]
                for outcome in processor.apply_many(session, work, now):
                    counts[outcome] = counts.get(outcome, 0) + 1
                    done += 1
            if progress:
                progress(done, total)
    return counts
