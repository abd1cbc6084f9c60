"""Scheduled harvests with APScheduler: each source by its cron expression, never twice at once.

"Never twice at once" holds in this process (a lock per source name, so that a job never waits for itself) and
across every gateway process sharing the database (the source's row in `source_locks`, taken by `run_harvest`):
a harvest that finds the source busy is skipped, and the next scheduled one catches up incrementally.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Config, SourceConfig
from gateway.db import utcnow

log = logging.getLogger(__name__)


_running: dict[str, threading.Lock] = {}
_running_guard = threading.Lock()


def _source_lock(name: str) -> threading.Lock:
    with _running_guard:
        return _running.setdefault(name, threading.Lock())


def _harvest_job(config: Config, sessions: sessionmaker[Session], source: SourceConfig) -> None:
    lock = _source_lock(source.name)
    if not lock.acquire(blocking=False):
        log.info("%s: a harvest is already running; this one is skipped", source.name)
        return
    try:
        # The dashboard may have edited, disabled or deleted the source since the job was scheduled.
        from gateway.admin.sourcestore import effective_for

        current = {s.name: s for s in effective_for(config, sessions).sources}.get(source.name)
        if current is None or not current.enabled:
            log.info("%s: deleted or disabled in the dashboard; not harvested", source.name)
            return
        _harvest(config, sessions, current)
    finally:
        lock.release()


def _sync_jobs(scheduler: BackgroundScheduler, config: Config, sessions: sessionmaker[Session]) -> None:
    """Follow the dashboard: schedule sources added or re-scheduled there, drop deleted or disabled ones."""
    from gateway.admin.sourcestore import effective_for

    wanted = {f"harvest:{s.name}": s for s in effective_for(config, sessions).sources if s.enabled and s.schedule}
    for job in scheduler.get_jobs():
        if job.id.startswith("harvest:") and not job.id.endswith(":start") and job.id not in wanted:
            job.remove()
    for job_id, source in wanted.items():
        job = scheduler.get_job(job_id)
        if job is None or job.args[2].schedule != source.schedule:
            scheduler.add_job(
                _harvest_job,
                CronTrigger.from_crontab(source.schedule, timezone="UTC"),
                id=job_id,
                args=(config, sessions, source),
                name=f"harvest {source.name}",
                replace_existing=True,
            )


def _harvest(config: Config, sessions: sessionmaker[Session], source: SourceConfig) -> None:
    from gateway.harvest.runner import run_harvest

    def report(p) -> None:  # type: ignore[no-untyped-def]
        if p.done:
            return
        log.info(
            "%s: page %d, %d records (%d new, %d changed, %d failed)",
            p.source,
            p.pages,
            p.records,
            p.new,
            p.changed,
            p.failed,
        )

    from gateway.locks import SourceBusy

    try:
        run = run_harvest(config, sessions, source, progress=report)
    except SourceBusy as exc:
        log.info("%s: skipped: %s", source.name, exc)
        return
    log.info(
        "%s: harvest %s — %d new, %d changed, %d unchanged, %d deleted, %d failed%s",
        source.name,
        run.status,
        run.records_new,
        run.records_changed,
        run.records_unchanged,
        run.records_deleted,
        run.records_failed,
        f": {run.message}" if run.message else "",
    )


def start_scheduler(config: Config, sessions: sessionmaker[Session]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(config.scheduler.max_concurrent)},
        # One run of a source at a time; a run missed while the gateway was down is run once, not repeatedly.
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    from gateway.admin.sourcestore import effective_for

    base_config, config = config, effective_for(config, sessions)  # with the sources kept in the database
    scheduler.add_job(_sync_jobs, "interval", seconds=60, id="sources:sync", args=(scheduler, base_config, sessions))
    for source in config.sources:
        if not source.enabled:
            continue
        job_id = f"harvest:{source.name}"
        if source.schedule:
            scheduler.add_job(
                _harvest_job,
                CronTrigger.from_crontab(source.schedule, timezone="UTC"),
                id=job_id,
                args=(config, sessions, source),
                name=f"harvest {source.name}",
            )
        if config.scheduler.harvest_on_start:
            scheduler.add_job(_harvest_job, "date", id=f"{job_id}:start", args=(config, sessions, source))
    scheduler.start()
    log.info("scheduler started at %s with %d job(s)", utcnow(), len(scheduler.get_jobs()))
    return scheduler
