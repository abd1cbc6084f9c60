"""Harvests that are killed, interrupted (Ctrl-C, SIGTERM) or stopped mid-page resume from their checkpoint and end
like an uninterrupted one: in process, and as real `gateway harvest` processes killed at random points.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.db import session_factory
from gateway.harvest import applier
from gateway.harvest.runner import run_harvest
from gateway.models import HarvestRun, Record, SourceLock
from tests.conftest import make_config
from tests.harvest.faults.faulty_source import N, fixture_records, reference, snapshot, source
from tests.support.paths import ROOT

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
