"""Harvesting that survives a faulty repository over real HTTP: transient faults retried and counted, bounded retries,
short pages and lists, expired tokens restarting the list, illegal characters, HTML error pages, politeness.

Every fault is injected a bounded number of times; backoff and Retry-After waits are recorded, not slept.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.db import session_factory
from gateway.harvest.oaipmh import retry_after_seconds
from gateway.harvest.runner import run_harvest
from gateway.models import Record
from tests.conftest import make_config
from tests.harvest.faults.faulty_source import N, fixture_records, reference, snapshot, source
from tests.support.faultserver import FaultyRepository
from tests.support.servers import serve_wsgi


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
