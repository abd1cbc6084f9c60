"""A harvest run: pages from a source, applied and committed page by page, recorded in the run history."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway import compression, locks
from gateway.config import Config, SourceConfig
from gateway.db import transaction, utcnow
from gateway.dmp.duplicates import resettle_source
from gateway.harvest import HarvestedRecord, HarvestError, Page, open_source
from gateway.harvest.applier import PageApplier, Progress, note, save_counts
from gateway.harvest.mapping import PoolMapper, configured_workers, wants_pool
from gateway.models import HarvestRun, Record, Source
from gateway.store import SourceProcessor

log = logging.getLogger(__name__)

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
            priority=source.priority,
        )
        session.add(row)
        session.flush()
    else:
        row.kind, row.location, row.metadata_prefix = source.kind, location, source.metadata_prefix
        if row.priority != source.priority:
            # Which record of a dataset held twice is served follows the priority: those datasets are re-decided.
            row.priority = source.priority
            session.flush()
            resettle_source(session, row.id, now=utcnow())
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

    A run interrupted earlier (left `running` by a killed process, or stopped) or failed after some pages is resumed
    from its checkpoint, the resumption token of the page after the last committed one (and, should the token have
    died, the datestamp to restart the list from). A failure is recorded on the run; what earlier pages stored stays
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
        failure: str | None = None
        if not stale:
            # A run stopped by Ctrl-C or SIGTERM, or failed after some pages, was closed as failed with its
            # checkpoint kept: the next harvest continues it rather than listing everything again.
            last = session.scalar(
                select(HarvestRun).where(HarvestRun.source_id == source_id).order_by(HarvestRun.id.desc()).limit(1)
            )
            resumable = (
                last is not None and last.status == "failed" and (last.message == INTERRUPTED or bool(last.checkpoint))
            )
            if resumable and (not full or last.mode == "full"):
                resume = last
                failure = None if last.message == INTERRUPTED else last.message
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
            state.failed, state.repeated = run.records_failed or 0, run.records_repeated or 0
            state.records = state.new + state.changed + state.unchanged + state.deleted + state.failed
            warnings, errors = list(run.warnings or []), list(run.errors or [])
            where = f"after page {state.pages}" if checkpoint else "from its start"
            holder = f" (stale lock of {lock.took_over} taken over)" if lock.took_over else ""
            cause = f"after it failed ({failure})" if failure else "after an interruption"
            note(warnings, f"resumed {where} on {utcnow():%Y-%m-%d %H:%M:%S} {cause}{holder}")
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
        base = {name: getattr(run, name) or 0 for name in _Counters.NAMES}
        compression.activate(session)  # what this run writes is compressed with the database's dictionary

    harvester = open_source(source, from_date=from_date, until_date=until_date, full=full, checkpoint=checkpoint)
    counters = _Counters(harvester, base)
    processor = SourceProcessor(config, source, source_row, run_id)
    status, message = "succeeded", None
    interrupted: KeyboardInterrupt | None = None
    last_checkpoint = checkpoint  # where a resume starts: after the last committed page
    seen = {"response_date": response_date}

    def save(session: Session, page: Page) -> None:
        for w in _take_warnings(harvester):
            note(warnings, w)
        seen["response_date"] = seen["response_date"] or harvester.response_date
        checkpoint = page.checkpoint or page.resumption_token
        save_counts(session, run_id, state, counters, warnings, errors, checkpoint, seen["response_date"])

    def after_page(page: Page) -> None:
        nonlocal last_checkpoint
        last_checkpoint = page.checkpoint or page.resumption_token
        compression.train_between_pages(sessions)
        locks.refresh(sessions, lock, ttl=ttl)
        state.retries, state.restarts, state.repairs = counters.retries, counters.restarts, counters.repairs
        if progress:
            progress(state)

    applier = PageApplier(
        sessions, source, processor, run_id, state, warnings, errors, save=save, after_page=after_page
    )
    try:
        try:
            for page in harvester.pages():
                if applier.mapper is None and wants_pool(
                    max(page.complete_list_size or 0, state.records + len(page.records))
                ):
                    applier.mapper = PoolMapper(configured_workers())
                applier.add(page)
        except HarvestError:
            applier.flush()  # the pages fetched before the fault are sound: they are kept
            raise
        applier.flush()
        if harvester.is_snapshot:
            announced = getattr(harvester, "announced", None)
            if announced and state.records < announced:
                raise _IncompleteList(
                    f"the source announced {announced} records (completeListSize) but its list gave {state.records}: "
                    "the list is incomplete, so nothing is taken as deleted at the source"
                )
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
        note(errors, message)
        if isinstance(exc, _IncompleteList):
            last_checkpoint = None  # the list was walked to its end: continuing it would only end the same way
    except Exception as exc:  # a bug or an unexpected fault must still close the run
        log.exception("harvest of %s failed unexpectedly", source.name)
        status, message = "failed", f"unexpected error: {exc.__class__.__name__}: {exc}"
        note(errors, message)
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM: closed as failed, resumable from its checkpoint by the next harvest of the source.
        interrupted = exc
        status, message = "failed", INTERRUPTED
        note(errors, f"interrupted; the next harvest resumes after page {state.pages}")
        log.warning("%s: harvest interrupted after page %d; it resumes from there next time", source.name, state.pages)
    finally:
        applier.drop()
        if applier.mapper is not None:
            applier.mapper.close()
    response_date = seen["response_date"]
    for w in _take_warnings(harvester):
        note(warnings, w)
    with transaction(sessions) as session:
        # A failed run keeps where it stopped: the next harvest continues from there.
        kept = last_checkpoint if status == "failed" else None
        state.held = _held(session, source_id, run_id)
        save_counts(session, run_id, state, counters, warnings, errors, kept, response_date)
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
    state.status, state.done = status, True
    state.retries, state.restarts, state.repairs = counters.retries, counters.restarts, counters.repairs
    if progress:
        progress(state)
    if interrupted is not None:
        raise interrupted
    with sessions() as session:
        return session.get(HarvestRun, run_id)  # type: ignore[return-value]


class _IncompleteList(HarvestError):
    """A snapshot's list ended with fewer records than the source announced."""


class _Counters:
    """HTTP requests, retries, list restarts and repairs of a run, including those of the process that started it
    before a resume (`base`, by HarvestRun column)."""

    NAMES = ("requests", "retries", "restarts", "repairs")

    def __init__(self, harvester, base: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        self.harvester, self.base = harvester, base

    def _count(self, name: str) -> int:
        return self.base.get(name, 0) + int(getattr(self.harvester, name, 0) or 0)

    @property
    def requests(self) -> int:
        return self._count("requests")

    @property
    def retries(self) -> int:
        return self._count("retries")

    @property
    def restarts(self) -> int:
        return self._count("restarts")

    @property
    def repairs(self) -> int:
        return self._count("repairs")


def _held(session: Session, source_id: int, run_id: int) -> int:
    """Records of this run's list that are held as quarantined."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Record)
            .where(Record.source_id == source_id, Record.run_id == run_id, Record.status == "quarantined")
        )
        or 0
    )


def _take_warnings(harvester) -> list[str]:  # type: ignore[no-untyped-def]
    take = getattr(harvester, "take_warnings", None)
    return take() if take else []


def run_started(session: Session, run_id: int):  # type: ignore[no-untyped-def]
    return session.scalar(select(HarvestRun.started_at).where(HarvestRun.id == run_id))


def _iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _reconcile(session: Session, processor: SourceProcessor, source_id: int, run_id: int, now) -> int:  # type: ignore[no-untyped-def]
    """After a complete snapshot: records the source no longer has (not listed by this run) are deleted."""
    identifiers = session.scalars(
        select(Record.source_identifier).where(
            Record.source_id == source_id,
            Record.source_deleted.is_(False),
            or_(Record.run_id.is_(None), Record.run_id != run_id),
        )
    ).all()
    for start in range(0, len(identifiers), 500):
        chunk = identifiers[start : start + 500]
        processor.process_page(session, [HarvestedRecord(identifier=i, deleted=True) for i in chunk], now)
    return len(identifiers)


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
            compression.activate(session)
            source_row = ensure_source(session, source)
            processor = SourceProcessor(config, source, source_row, None)
            ids = session.scalars(
                select(Record.id).where(Record.source_id == source_row.id, Record.source_deleted.is_(False))
            ).all()
        for start in range(0, len(ids), 200):
            now = utcnow()
            with transaction(sessions) as session:
                for outcome in processor.remap(session, list(ids[start : start + 200]), now):
                    counts[outcome] = counts.get(outcome, 0) + 1
                    done += 1
            compression.train_between_pages(sessions)
            if progress:
                progress(done, total)
    return counts
