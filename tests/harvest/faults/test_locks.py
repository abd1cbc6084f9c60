"""One harvest per source at a time across processes: the database lock, two harvests at once, the scheduler."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from gateway import locks
from gateway.db import make_engine, session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import HarvestRun, Record, Source
from tests.conftest import make_config
from tests.harvest.faults.faulty_source import N, source


def test_the_lock_is_exclusive_refreshed_and_taken_over_when_stale(engine, db_url):
    sessions = session_factory(engine)
    with sessions() as s:
        s.add(
            Source(
                name="x",
                kind="oai-pmh",
                metadata_prefix="jpcoar_2.0",
                created_at=__import__("datetime").datetime(2026, 1, 1),
            )
        )
        s.commit()
        sid = s.scalar(select(Source.id))
    a = locks.acquire(sessions, sid, holder="elsewhere:1:a", ttl=60)
    with pytest.raises(locks.SourceBusy, match="elsewhere:1:a"):
        locks.acquire(sessions, sid, holder="elsewhere:2:b", ttl=60)
    locks.refresh(sessions, a, ttl=-1)  # now expired
    b = locks.acquire(sessions, sid, holder="elsewhere:2:b", ttl=60)
    assert b.took_over == "elsewhere:1:a"
    with pytest.raises(locks.LockLost):
        locks.refresh(sessions, a)
    locks.release(sessions, a)  # releasing a lock no longer held changes nothing
    with pytest.raises(locks.SourceBusy):
        locks.acquire(sessions, sid, holder="elsewhere:3:c")
    locks.release(sessions, b)
    locks.release(sessions, locks.acquire(sessions, sid, holder="elsewhere:3:c"))


def test_two_harvests_of_one_source_at_once_never_overlap(db_url, engine, repo, endpoint, waits):
    repo.delay = 0.05
    cfg = make_config(db_url, [source(endpoint)])
    engines = [make_engine(db_url), make_engine(db_url)]  # two "processes": separate engines and pools
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def harvest(eng) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            run = run_harvest(cfg, session_factory(eng), cfg.source("weko"))
            outcomes.append(run.status)
        except locks.SourceBusy:
            outcomes.append("busy")

    try:
        threads = [threading.Thread(target=harvest, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for e in engines:
            e.dispose()
    assert sorted(outcomes) == ["busy", "succeeded"]
    assert repo.max_active == 1  # never two requests for the source at the same time
    sessions = session_factory(engine)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(HarvestRun)) == 1
        assert s.scalar(select(func.count()).select_from(Record)) == N


def test_the_scheduler_skips_a_source_another_process_is_harvesting(engine, db_url, repo, endpoint):
    import logging

    from gateway.scheduler import _harvest_job

    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]

    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run_harvest(cfg, sessions, cfg.source("weko"))
    with sessions() as s:
        sid = s.scalar(select(Source.id))
    held = locks.acquire(sessions, sid, holder="otherhost:1:x", ttl=60)
    requests_before = len(repo.requests)
    logger = logging.getLogger("gateway.scheduler")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        _harvest_job(cfg, sessions, cfg.source("weko"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len(repo.requests) == requests_before
    assert any("skipped" in line and "otherhost:1:x" in line for line in lines), lines
    locks.release(sessions, held)
