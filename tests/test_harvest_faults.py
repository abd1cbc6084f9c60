"""Harvesting that survives real repositories: faults over real HTTP, kills and resumes, the database lock.

Every fault is injected a bounded number of times; backoff and Retry-After waits are recorded, not slept.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gateway import locks
from gateway.db import make_engine, migrate, session_factory
from gateway.harvest import applier
from gateway.harvest.oaipmh import OAIHarvester, retry_after_seconds
from gateway.harvest.runner import run_harvest
from gateway.models import HarvestRun, Published, Record, Source, SourceLock
from tests.conftest import make_config
from tests.faultserver import FaultyRepository
from tests.oaiserver import FixtureRecord
from tests.records import dataset
from tests.servers import serve_wsgi

ROOT = Path(__file__).resolve().parents[1]
N = 10  # records; pages of 3: 4 pages


def fixture_records(n: int = N) -> list[FixtureRecord]:
    return [
        FixtureRecord(
            identifier=f"oai:repo.example.ac.jp:{i:05d}",
            datestamp=f"2026-10-{i + 1:02d}T10:00:00Z",
            metadata=dataset(f"データ {i}", title_en=f"Data {i}", data_no=f"D-{i}", doi=f"10.99999/t.{i}"),
        )
        for i in range(n)
    ]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff, Retry-After and politeness waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(OAIHarvester, "sleep", staticmethod(recorded.append))
    return recorded


@pytest.fixture
def repo() -> FaultyRepository:
    return FaultyRepository(fixture_records(), page_size=3)


@pytest.fixture
def endpoint(repo: FaultyRepository) -> Iterator[str]:
    with serve_wsgi(repo) as base:
        yield base + "/oai"


def source(url: str, **extra):
    return {"name": "weko", "kind": "oai-pmh", "url": url, "metadata_prefix": "jpcoar_2.0", **extra}


def snapshot(sessions) -> dict:
    """What a harvest leaves in the database, independent of ids and times."""
    with sessions() as s:
        records = sorted(
            s.execute(select(Record.source_identifier, Record.raw_hash, Record.status, Record.source_deleted)).all()
        )
        published = sorted(s.execute(select(Published.oai_identifier, Published.deleted)).all())
        count = s.scalar(select(func.count()).select_from(Record))
    return {"records": records, "published": published, "count": count}


_references: dict[tuple, dict] = {}


def reference(tmp_path: Path, records: list[FixtureRecord]) -> dict:
    """The database content of an uninterrupted harvest of the same records (on SQLite; computed once)."""
    key = tuple((r.identifier, r.datestamp, r.metadata, r.deleted) for r in records)
    if key not in _references:
        _references[key] = _reference(tmp_path, records)
    return _references[key]


def _reference(tmp_path: Path, records: list[FixtureRecord]) -> dict:
    eng = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    migrate(eng)
    try:
        with serve_wsgi(FaultyRepository(records, page_size=3)) as base:
            cfg = make_config(f"sqlite:///{tmp_path / 'reference.db'}", [source(base + "/oai")])
            sessions = session_factory(eng)
            assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
            return snapshot(sessions)
    finally:
        eng.dispose()


# -- faults --------------------------------------------------------------------------------------------------------


def test_transient_faults_are_retried_and_counted(engine, db_url, repo, endpoint, waits, tmp_path):
    repo.slow = 1.0
    # 0: first page; 1: timeout; 2: reset; 3: ok (page 2); 4: transfer cut; 5: 503 (Retry-After 7, ceiling 5);
    # 6: 503 with a date; 7: ok (page 3); 8: 503 without Retry-After; 9: ok (page 4)
    repo.plan = {1: "timeout", 2: "reset", 4: "cut", 5: "503", 6: "503-date", 8: "503-bare"}
    repo.retry_after = "7"
    cfg = make_config(db_url, [source(endpoint, timeout=0.3, retry_ceiling=5.0, max_retries=3)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert [f for _, f in repo.injected] == ["timeout", "reset", "cut", "503", "503-date", "503-bare"]
    assert (run.records_new, run.pages, run.retries, run.requests) == (N, 4, 6, 10)
    assert snapshot(sessions) == reference(tmp_path, fixture_records())
    # Retry-After honoured up to the ceiling; an HTTP date read as a wait; every wait within the ceiling.
    assert 5.0 in waits and all(0 <= w <= 5.0 for w in waits)
    assert any(0.5 < w <= 2.0 for w in waits[4:5]), waits
    text = "\n".join(run.warnings)
    for words in ("within 0.3 s", "connection to", "HTTP 503", "retry 1 of 3"):
        assert words in text, text


def test_retries_are_bounded_and_the_run_fails_in_the_sources_words(engine, db_url, repo, endpoint, waits):
    repo.always = "503"
    cfg = make_config(db_url, [source(endpoint, max_retries=2, retry_ceiling=1.0)])
    run = run_harvest(cfg, session_factory(engine), cfg.source("weko"))
    assert run.status == "failed"
    assert "HTTP 503" in run.message and "busy: try again later" in run.message and "3 attempt(s)" in run.message
    assert (run.retries, run.requests) == (2, 3)
    assert waits == [1.0, 1.0]


def test_retry_after_as_seconds_or_http_date():
    from datetime import UTC, datetime

    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", 5, now=now) == 120
    assert retry_after_seconds("Sat, 21 Nov 2026 12:01:30 GMT", 5, now=now) == 90
    assert retry_after_seconds("Sat, 21 Nov 2026 11:00:00 GMT", 5, now=now) == 0
    assert retry_after_seconds("soon", 5, now=now) == 5 and retry_after_seconds(None, 5) == 5


@pytest.mark.parametrize("fault", ["no-token", "short"])
def test_a_page_short_of_the_announced_list_is_retried_not_taken_for_the_end(
    engine, db_url, repo, endpoint, waits, fault, tmp_path
):
    repo.plan = {1: fault}  # the second page comes without its token (and, for "short", without a record)
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert run.retries == 1 and run.requests == 5
    assert any("completeListSize" in w for w in run.warnings), run.warnings
    assert snapshot(sessions) == reference(tmp_path, fixture_records())


def test_a_list_that_stays_short_fails_and_a_full_harvest_then_deletes_nothing(engine, db_url, repo, endpoint, waits):
    cfg = make_config(db_url, [source(endpoint, max_retries=2)])
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
    before = snapshot(sessions)
    # The last page (request 3 of the full run, and both retries) lacks its last record; then the list is restarted
    # from its checkpoint (request 6 asks Identify for the granularity), and that one-page list, with no
    # completeListSize to tell, comes short as well.
    start = len(repo.requests)
    repo.plan = {start + 3: "short", start + 4: "short", start + 5: "short", start + 7: "short"}
    run = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    assert repo.requests[start + 6] == {"verb": "Identify"}
    assert run.status == "failed"
    assert any("ended after 9 of the 10 records" in w for w in run.warnings), run.warnings
    assert run.restarts == 1 and run.retries == 2
    assert "announced 10 records" in run.message and "gave 9" in run.message, run.message
    assert run.records_deleted == 0 and snapshot(sessions) == before
    # Walked to its end, the run keeps no checkpoint: the next harvest lists again rather than continuing it.
    assert run.checkpoint is None
    again = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    assert again.status == "succeeded" and again.id != run.id and again.records_deleted == 0


def test_full_harvest_deletes_what_the_source_no_longer_has(engine, db_url, repo, endpoint, waits):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
    del repo.records[4]
    run = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    assert run.status == "succeeded" and run.records_deleted == 1 and run.records_unchanged == N - 1
    with sessions() as s:
        gone = s.scalar(select(Record).where(Record.source_identifier.endswith("00004")))
        assert gone.source_deleted and gone.status == "deleted"


def test_bad_resumption_token_restarts_the_list(engine, db_url, repo, endpoint, waits, tmp_path):
    repo.plan = {2: "bad-token"}
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    # The list is restarted from the latest datestamp stored (the source lists in datestamp order), inclusive.
    assert any("badResumptionToken" in w and "again from 2026-10-06T10:00:00Z" in w for w in run.warnings)
    assert run.restarts == 1
    assert run.records_new == N and run.records_unchanged == 0 and run.records_repeated == 1
    assert repo.requests[4] == {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0", "from": "2026-10-06T10:00:00Z"}
    assert snapshot(sessions) == reference(tmp_path, fixture_records())


def test_bad_resumption_token_of_an_unordered_list_restarts_it_from_the_runs_from(
    engine, db_url, waits, tmp_path
):
    records = fixture_records()
    records.reverse()  # datestamps descending: a restart from a datestamp would miss records
    repo = FaultyRepository(records, page_size=3)
    repo.plan = {2: "bad-token"}
    with serve_wsgi(repo) as base:
        cfg = make_config(db_url, [source(base + "/oai")])
        sessions = session_factory(engine)
        run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert any("badResumptionToken" in w and "again from its start" in w for w in run.warnings), run.warnings
    # The first two pages came twice: stored and counted once.
    assert run.records_new == N and run.records_unchanged == 0 and run.records_repeated == 6
    assert repo.requests[3] == {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0"}
    assert snapshot(sessions) == reference(tmp_path, records)


def test_illegal_characters_are_removed_with_a_warning_on_the_record_they_were_in(
    engine, db_url, repo, endpoint, waits
):
    repo.plan = {0: "illegal"}
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded" and run.records_new == N and run.repairs == 1
    first = "oai:repo.example.ac.jp:00000"
    assert any(first in w and "removed 2 character(s)" in w and "U+000B" in w for w in run.warnings), run.warnings
    with sessions() as s:
        records = {r.source_identifier: r for r in s.scalars(select(Record))}
        noted = [f for f in records[first].findings if f["layer"] == "harvest"]
        assert [f["severity"] for f in noted] == ["warning"] and "U+0001, U+000B" in noted[0]["message"]
        assert b"\x0b" not in records[first].raw_xml and records[first].status == "published"
        assert all(not any(f["layer"] == "harvest" for f in r.findings) for k, r in records.items() if k != first)
    # Delivered clean again, the record loses its warning.
    run = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    with sessions() as s:
        record = s.scalar(select(Record).where(Record.source_identifier == first))
        assert not any(f["layer"] == "harvest" for f in record.findings)
    assert run.records_changed == 1


def test_an_html_page_is_retried_and_reported_in_the_sources_words(engine, db_url, repo, endpoint, waits):
    repo.plan = {1: "html"}
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded" and run.retries == 1 and run.records_new == N
    assert any("Service temporarily down for maintenance" in w for w in run.warnings), run.warnings
    # One that stays: the run fails in the source's words, naming the request.
    repo.always = "html"
    run = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    assert run.status == "failed" and "Service temporarily down for maintenance" in run.message
    assert "metadataPrefix=jpcoar_2.0" in run.message and "6 attempt(s)" in run.message


def test_min_delay_spaces_requests(engine, db_url, repo, endpoint, waits):
    cfg = make_config(db_url, [source(endpoint, min_delay=30)])
    run = run_harvest(cfg, session_factory(engine), cfg.source("weko"))
    assert run.status == "succeeded"
    assert len(waits) == 3 and all(25 < w <= 30 for w in waits)  # before each request but the first


def test_day_granularity_harvests_the_same_day_again(engine, db_url, waits):
    repo = FaultyRepository(fixture_records(), page_size=3, granularity="YYYY-MM-DD")
    with serve_wsgi(repo) as base:
        cfg = make_config(db_url, [source(base + "/oai")])
        sessions = session_factory(engine)
        assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
        run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded" and run.from_param == "2026-11-20T00:00:00Z"
    assert repo.requests[-1].get("from") == "2026-11-20"


# -- kills and resumes ---------------------------------------------------------------------------------------------


class Killed(BaseException):
    """Stands for the process being killed: nothing after it runs (no except Exception catches it)."""


def kill_at_record(monkeypatch: pytest.MonkeyPatch, n: int):  # type: ignore[no-untyped-def]
    """Kill the harvest as it handles its n-th record (inside the page's transaction); returns the undo."""
    original = applier._unchanged
    calls = {"n": 0}

    def dying(*args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == n:
            raise Killed()
        return original(*args)

    monkeypatch.setattr(applier, "_unchanged", dying)
    return lambda: monkeypatch.setattr(applier, "_unchanged", original)


@pytest.mark.parametrize("kill_at", [2, 7, 10])  # mid-page, at a page boundary, in the last page (pages of 3)
def test_a_killed_harvest_resumes_from_its_checkpoint(
    engine, db_url, repo, endpoint, waits, monkeypatch, kill_at, tmp_path
):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    undo = kill_at_record(monkeypatch, kill_at)
    with pytest.raises(Killed):
        run_harvest(cfg, sessions, cfg.source("weko"))
    undo()
    with sessions() as s:
        left = s.scalar(select(HarvestRun))
        assert left.status == "running"
        committed = left.pages
    repo.requests.clear()
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(HarvestRun)) == 1  # the same run, resumed
    assert run.records_new == N and run.pages == 4
    if committed:
        assert "resumptionToken" in repo.requests[0]  # continued, not started again
        assert any(w.startswith(f"resumed after page {committed}") for w in run.warnings)
    assert run.checkpoint is None
    assert snapshot(sessions) == reference(tmp_path, fixture_records())


def test_a_resumed_run_whose_token_expired_restarts_from_its_checkpoint(
    engine, db_url, repo, endpoint, waits, monkeypatch, tmp_path
):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
    for rec in repo.records[5:]:
        rec.datestamp = "2026-11-25T00:00:00Z"
        rec.metadata = rec.metadata.replace("データ", "改訂データ")
    undo = kill_at_record(monkeypatch, 4)  # in the second page of the incremental list of 5
    with pytest.raises(Killed):
        run_harvest(cfg, sessions, cfg.source("weko"))
    undo()
    repo.expire_tokens()
    repo.requests.clear()
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert run.mode == "incremental" and run.records_changed == 5
    assert any("badResumptionToken" in w for w in run.warnings)
    # Identify (granularity), the expired checkpoint token, then the list again from the checkpoint: the latest
    # datestamp of the pages stored (inclusive), not the run's own `from` (2026-11-20).
    assert [r["verb"] for r in repo.requests[:2]] == ["Identify", "ListRecords"]
    assert "resumptionToken" in repo.requests[1]
    assert repo.requests[2] == {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0", "from": "2026-11-25T00:00:00Z"}
    assert run.restarts == 1 and run.records_repeated == 3  # the first page, committed before the kill, came again
    assert snapshot(sessions) == reference(tmp_path, repo.records)


def test_a_full_harvest_killed_and_resumed_reconciles_only_what_is_gone(
    engine, db_url, repo, endpoint, waits, monkeypatch
):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
    del repo.records[8]
    undo = kill_at_record(monkeypatch, 5)
    with pytest.raises(Killed):
        run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    undo()
    run = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    assert run.status == "succeeded" and run.records_deleted == 1
    with sessions() as s:
        deleted = s.scalars(select(Record.source_identifier).where(Record.source_deleted.is_(True))).all()
    assert deleted == ["oai:repo.example.ac.jp:00008"]


KILL_SCRIPT = """
import sys
from gateway.db import make_engine, session_factory
from gateway.harvest import applier, runner
from gateway.harvest.runner import run_harvest
from tests.conftest import make_config
src = {"name": "weko", "kind": "oai-pmh", "url": sys.argv[2], "metadata_prefix": "jpcoar_2.0"}
cfg = make_config(sys.argv[1], [src])
run_harvest(cfg, session_factory(make_engine(sys.argv[1])), cfg.source("weko"))
"""


def test_a_process_killed_mid_harvest_is_resumed_and_its_stale_lock_taken_over(
    engine, db_url, repo, endpoint, tmp_path
):
    repo.delay = 0.3  # slow enough to be killed between pages
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, db_url, endpoint], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sessions() as s:
                if (s.scalar(select(func.max(HarvestRun.pages))) or 0) >= 1:
                    break
            assert proc.poll() is None, "the harvest ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("the harvest did not commit a page in time")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SourceLock)) == 1  # left behind by the killed process
    repo.delay = 0.0
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert any("stale lock" in w for w in run.warnings), run.warnings
    assert snapshot(sessions) == reference(tmp_path, fixture_records())
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SourceLock)) == 0


# -- the database lock ---------------------------------------------------------------------------------------------


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


# -- run history -------------------------------------------------------------------------------------------------


def test_runs_command_shows_the_history(engine, db_url, repo, endpoint, waits, tmp_path):
    repo.plan = {1: "503"}
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[repository]\nname = "T"\nbase_url = "http://127.0.0.1:8080/oai"\nidentifier = "gateway.test.ac.jp"\n'
        'admin_email = ["a@test.ac.jp"]\n[database]\nurl = "sqlite:///x.db"\n'
        f'[[sources]]\nname = "weko"\nkind = "oai-pmh"\nurl = "{endpoint}"\nmax_retries = 2\n'
    )
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run_harvest(cfg, sessions, cfg.source("weko"))
    run_harvest(cfg, sessions, cfg.source("weko"))
    from gateway.cli import cli

    base = ["--config", str(config), "--database-url", db_url, "runs"]
    result = CliRunner().invoke(cli, [*base, "--format", "json", "--limit", "1"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 1 and rows[0]["mode"] == "incremental" and rows[0]["source"] == "weko"
    result = CliRunner().invoke(cli, [*base, "--format", "json", "--source", "weko"])
    rows = json.loads(result.output)
    assert [r["status"] for r in rows] == ["succeeded", "succeeded"]
    first = rows[-1]
    assert first["retries"] == 1 and first["records"]["new"] == N and first["pages"] == 4
    assert any("HTTP 503" in w for w in first["warnings"])
    table = CliRunner().invoke(cli, base)
    assert table.exit_code == 0 and "weko" in table.output and "succeeded" in table.output
    bad = CliRunner().invoke(cli, [*base, "--source", "nope"])
    assert bad.exit_code != 0 and "nope" in bad.output


# -- interrupted (Ctrl-C, SIGTERM) and killed `gateway harvest` processes -----------------------------------------


def interrupt_at_record(monkeypatch: pytest.MonkeyPatch, n: int):  # type: ignore[no-untyped-def]
    """Ctrl-C as the harvest handles its n-th record; returns the undo."""
    original = applier._unchanged
    calls = {"n": 0}

    def interrupted(*args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt()
        return original(*args)

    monkeypatch.setattr(applier, "_unchanged", interrupted)
    return lambda: monkeypatch.setattr(applier, "_unchanged", original)


def test_an_interrupted_run_is_failed_as_interrupted_and_resumed(
    engine, db_url, repo, endpoint, waits, monkeypatch, tmp_path
):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    undo = interrupt_at_record(monkeypatch, 8)  # in the third page (pages of 3): two pages committed
    with pytest.raises(KeyboardInterrupt):
        run_harvest(cfg, sessions, cfg.source("weko"))
    undo()
    with sessions() as s:
        left = s.scalar(select(HarvestRun))
        assert (left.status, left.message, left.pages) == ("failed", "interrupted", 2)
        assert left.finished_at is not None
        assert json.loads(left.checkpoint)["received"] == 6  # after the last committed page
        assert s.scalar(select(func.count()).select_from(Record)) == 6
        assert s.scalar(select(func.count()).select_from(SourceLock)) == 0  # released on the way out
    repo.requests.clear()
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert "resumptionToken" in repo.requests[0]  # continued from the checkpoint, not started again
    assert any(w.startswith("resumed after page 2") for w in run.warnings), run.warnings
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(HarvestRun)) == 1  # the same run, resumed
    assert run.records_new == N and run.pages == 4 and run.checkpoint is None
    assert snapshot(sessions) == reference(tmp_path, fixture_records())


def write_config(path: Path, db_url: str, url: str) -> Path:
    path.write_text(
        "[repository]\n"
        'name = "Test Gateway"\nbase_url = "http://127.0.0.1:8080/oai"\nidentifier = "gateway.test.ac.jp"\n'
        'admin_email = ["rdm@test.ac.jp"]\n'
        f'[database]\nurl = "{db_url}"\n'
        f'[[sources]]\nname = "weko"\nkind = "oai-pmh"\nurl = "{url}"\nmetadata_prefix = "jpcoar_2.0"\n',
        encoding="utf-8",
    )
    return path


def gateway_harvest(config: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(config), "harvest", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_pages(sessions, proc: subprocess.Popen, pages: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as s:
            if (s.scalar(select(func.max(HarvestRun.pages))) or 0) >= pages:
                return
        assert proc.poll() is None, f"the harvest ended before page {pages}: {proc.communicate()}"
        time.sleep(0.02)
    pytest.fail(f"the harvest did not commit page {pages} in time")


def test_sigterm_closes_the_run_as_interrupted_and_the_next_harvest_resumes(engine, db_url, repo, endpoint, tmp_path):
    repo.delay = 0.3  # slow enough to be stopped between pages
    config = write_config(tmp_path / "gateway.toml", db_url, endpoint)
    sessions = session_factory(engine)
    proc = gateway_harvest(config)
    try:
        wait_for_pages(sessions, proc, 1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode != 0
    with sessions() as s:
        left = s.scalar(select(HarvestRun))
        assert (left.status, left.message) == ("failed", "interrupted"), (out, err)
        assert left.checkpoint and left.pages >= 1
        assert s.scalar(select(func.count()).select_from(SourceLock)) == 0
    repo.delay = 0.0
    again = gateway_harvest(config)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, (out, err)
    with sessions() as s:
        runs = s.scalars(select(HarvestRun)).all()
        assert [(r.status, r.records_new) for r in runs] == [("succeeded", N)]  # the same run, resumed
    assert snapshot(sessions) == reference(tmp_path, fixture_records())


# Seeded, so that a failure can be replayed: (pages committed before the kill, extra seconds before it).
_kill_rng = random.Random(20261121)
_KILL_POINTS = [(page, round(_kill_rng.uniform(0.0, 0.28), 2)) for page in _kill_rng.sample([1, 2, 3], 3)]


@pytest.mark.parametrize(("pages", "delay"), _KILL_POINTS)
def test_gateway_harvest_killed_at_random_points_ends_like_an_uninterrupted_one(
    engine, db_url, repo, endpoint, tmp_path, pages, delay
):
    repo.delay = 0.3
    config = write_config(tmp_path / "gateway.toml", db_url, endpoint)
    sessions = session_factory(engine)
    proc = gateway_harvest(config)
    try:
        wait_for_pages(sessions, proc, pages)
        time.sleep(delay)  # anywhere in the next page: fetching, mapping or committing it
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    repo.delay = 0.0
    again = gateway_harvest(config)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, (out, err)
    assert snapshot(sessions) == reference(tmp_path, fixture_records())
    with sessions() as s:
        assert s.scalar(select(HarvestRun.status).order_by(HarvestRun.id.desc()).limit(1)) == "succeeded"
        assert s.scalar(select(func.count()).select_from(SourceLock)) == 0


def test_a_non_interactive_harvest_logs_at_most_one_progress_line_per_page(engine, db_url, repo, endpoint, tmp_path):
    config = write_config(tmp_path / "gateway.toml", db_url, endpoint)
    proc = gateway_harvest(config)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (out, err)
    progress = [line for line in err.splitlines() if "weko: " in line and " records, " in line]
    # pages of 3 of 10 records: 4 pages, one line each, the last one with the whole list
    assert len(progress) == 4, err
    assert "10/10 records, 4 pages" in progress[-1] and "retries" in progress[-1]
    assert "\r" not in err  # no live-line redrawing when stderr is not a terminal
    assert "weko: succeeded — 10 new" in out
