"""Harvests started from the dashboard: one background thread per source, holding the source's database lock as
every run does, so that a dashboard harvest and a scheduled one never run at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import Engine, func, select

from gateway.admin.operations.common import effective_sources
from gateway.config import Config, SourceConfig
from gateway.db import session_factory, utcnow
from gateway.models import HarvestRun, Source, SourceLock

log = logging.getLogger("gateway.admin.operations")  # the name it has always logged under


class _Harvest:
    """A harvest started from the dashboard: its thread, and why it did not run if another run held the source."""

    def __init__(self) -> None:
        self.thread: threading.Thread = threading.Thread()
        self.busy: str | None = None


_active: dict[str, _Harvest] = {}
_active_guard = threading.Lock()
#: how long start_harvest waits to learn the id of the run it started
RUN_ID_WAIT = 5.0


def is_harvesting(name: str) -> bool:
    with _active_guard:
        job = _active.get(name)
        return bool(job and job.thread.is_alive())


def wait_for_harvest(name: str, timeout: float = 60.0) -> bool:
    """Wait for a harvest started here to end; True when it has (or none was running)."""
    with _active_guard:
        job = _active.get(name)
    if job is None:
        return True
    job.thread.join(timeout)
    return not job.thread.is_alive()


def start_harvest(config: Config, engine: Engine, name: str, *, full: bool = False) -> dict[str, Any]:
    """Harvest one source now, in a background thread; the run holds the source's database lock as any run does."""
    sessions = session_factory(engine)
    with sessions() as session:
        try:
            source = next(s for s in effective_sources(session, config) if s.name == name)
        except StopIteration:
            return {"started": False, "run_id": None, "message": f"no source named {name!r}"}
        if not source.enabled:
            return {"started": False, "run_id": None, "message": f"{name} is disabled"}
        row = session.scalar(select(Source).where(Source.name == name))
        before = 0
        if row is not None:
            holder = session.scalar(
                select(SourceLock.holder).where(SourceLock.source_id == row.id, SourceLock.expires_at >= utcnow())
            )
            if holder is not None:
                return {"started": False, "run_id": None, "message": f"{name} is being harvested already"}
            before = session.scalar(select(func.max(HarvestRun.id)).where(HarvestRun.source_id == row.id)) or 0
    # The effective configuration is passed whole, so the run sees the same sources as the scheduler would.
    effective = _with_sources(config, sessions)
    with _active_guard:
        running = _active.get(name)
        if running is not None and running.thread.is_alive():
            return {"started": False, "run_id": None, "message": f"{name} is being harvested already"}
        job = _Harvest()
        job.thread = threading.Thread(
            target=_harvest_in_background,
            args=(effective, engine, source, full, job),
            name=f"admin-harvest-{name}",
            daemon=True,
        )
        _active[name] = job
        job.thread.start()
    run_id = _wait_for_run(sessions, name, before, job)
    if job.busy:
        return {"started": False, "run_id": None, "message": job.busy}
    mode = "full re-harvest" if full else "harvest"
    return {"started": True, "run_id": run_id, "message": f"{mode} of {name} started"}


def _with_sources(config: Config, sessions: Any) -> Config:
    from gateway.admin.sourcestore import effective_config

    with sessions() as session:
        return effective_config(config, session)


def _wait_for_run(sessions: Any, name: str, before: int, job: _Harvest) -> int | None:
    deadline = time.monotonic() + RUN_ID_WAIT
    while time.monotonic() < deadline:
        with sessions() as session:
            run_id = session.scalar(
                select(func.max(HarvestRun.id))
                .join(Source, Source.id == HarvestRun.source_id)
                .where(Source.name == name, HarvestRun.id > before)
            )
        if run_id is not None or job.busy:
            return run_id
        if not job.thread.is_alive():
            return None
        time.sleep(0.05)
    return None


def _harvest_in_background(config: Config, engine: Engine, source: SourceConfig, full: bool, job: _Harvest) -> None:
    from gateway.harvest.runner import run_harvest
    from gateway.locks import SourceBusy

    try:
        run = run_harvest(config, session_factory(engine), source, full=full)
        log.info("%s: dashboard harvest %s (run %s)", source.name, run.status, run.id)
    except SourceBusy as exc:
        job.busy = str(exc)
        log.info("%s: dashboard harvest skipped: %s", source.name, exc)
    except Exception:
        log.exception("%s: dashboard harvest failed", source.name)
