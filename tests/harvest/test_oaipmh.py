"""Harvesting over real HTTP from a real OAI-PMH repository on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from gateway.db import session_factory
from gateway.harvest.oaipmh import OAIHarvester
from gateway.harvest.runner import run_harvest
from gateway.models import HarvestRun, Published, Record
from tests.conftest import make_config
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.records import dataset
from tests.support.servers import serve_wsgi


def fixture_records(n: int = 7) -> list[FixtureRecord]:
    return [
        FixtureRecord(
            identifier=f"oai:repo.example.ac.jp:{i:05d}",
            datestamp=f"2026-10-{i + 1:02d}T10:00:00Z",
            metadata=dataset(f"データ {i}", title_en=f"Data {i}", data_no=f"D-{i}", doi=f"10.99999/t.{i}"),
            sets=["even" if i % 2 == 0 else "odd"],
        )
        for i in range(n)
    ]


@pytest.fixture
def repo() -> FixtureRepository:
    return FixtureRepository(fixture_records(), page_size=3)


@pytest.fixture
def endpoint(repo: FixtureRepository) -> Iterator[str]:
    with serve_wsgi(repo) as base:
        yield base + "/oai"


def source(url: str, **extra):
    return {"name": "weko", "kind": "oai-pmh", "url": url, "metadata_prefix": "jpcoar_2.0", **extra}


def counts(sessions, model=Record):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_full_then_incremental_harvest(engine, db_url, repo, endpoint):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert (run.records_new, run.pages, run.requests) == (7, 3, 3)
    assert counts(sessions) == 7
    with sessions() as s:
        rec = s.scalar(select(Record).where(Record.source_identifier == "oai:repo.example.ac.jp:00003"))
        assert rec.source_datestamp == "2026-10-04T10:00:00Z"
        assert "データ 3".encode() in rec.raw_xml
        assert rec.run_id == run.id
        assert rec.status == "published", rec.findings
        pub = s.scalar(select(Published).where(Published.record_id == rec.id))
        assert pub.oai_identifier == "oai:gateway.test.ac.jp:weko/oai:repo.example.ac.jp:00003"
        assert b"<provenance" in pub.about_xml and endpoint.encode() in pub.about_xml
        stamps_before = dict(s.execute(select(Published.id, Published.datestamp)).all())
    first_requests = list(repo.requests)
    assert first_requests[0] == {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0"}
    assert "resumptionToken" in first_requests[1]

    # The next run asks only for what changed since the source's own clock at the start of the last run.
    repo.requests.clear()
    run2 = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run2.status == "succeeded"
    assert run2.mode == "incremental" and run2.from_param == "2026-11-20T00:00:00Z"
    assert any(r.get("from") == "2026-11-20T00:00:00Z" for r in repo.requests if r.get("verb") == "ListRecords")
    assert run2.records_new == 0
    with sessions() as s:
        assert dict(s.execute(select(Published.id, Published.datestamp)).all()) == stamps_before


def test_changes_and_deletions_reach_the_provider(engine, db_url, repo, endpoint):
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("weko")).status == "succeeded"
    with sessions() as s:
        before = {p.oai_identifier: p.datestamp for p in s.scalars(select(Published))}
    repo.records[0].deleted = True
    repo.records[1].metadata = dataset("改訂版", data_no="D-1", doi="10.99999/t.1")
    repo.records[2].metadata = dataset("壊れた", data_no="D-2", doi="10.99999/t.2", omit=("description",))
    run = run_harvest(cfg, sessions, cfg.source("weko"), full=True)
    assert run.status == "succeeded"
    assert run.records_deleted == 1 and run.records_changed == 2 and run.records_unchanged == 4
    with sessions() as s:
        pubs = {p.oai_identifier.rsplit(":", 1)[-1]: p for p in s.scalars(select(Published))}
        assert pubs["00000"].deleted and pubs["00000"].datestamp >= before[pubs["00000"].oai_identifier]
        # Quarantined after being published: served as deleted, never as the invalid version.
        assert pubs["00002"].deleted
        rec2 = s.scalar(select(Record).where(Record.source_identifier.endswith("00002")))
        assert rec2.status == "quarantined"
        assert any(f["item"] == 7 for f in rec2.findings), rec2.findings
        assert not pubs["00001"].deleted
        from gateway.models import PublishedFormat

        xml = s.scalar(
            select(PublishedFormat.xml).where(
                PublishedFormat.published_id == pubs["00001"].id, PublishedFormat.prefix == "jpcoar_2.0"
            )
        )
        assert "改訂版".encode() in xml


def test_selective_harvest_by_set(engine, db_url, repo, endpoint):
    cfg = make_config(db_url, [source(endpoint, sets=["even"])])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded" and run.records_new == 4
    assert all(r.get("set") == "even" for r in repo.requests if "metadataPrefix" in r)
    with sessions() as s:
        assert [v for v in s.scalars(select(Record.source_sets))] == [["even"]] * 4


def test_no_records_match_is_a_successful_empty_harvest(engine, db_url, endpoint, repo):
    repo.records.clear()
    cfg = make_config(db_url, [source(endpoint)])
    run = run_harvest(cfg, session_factory(engine), cfg.source("weko"))
    assert run.status == "succeeded" and run.records_new == 0 and run.pages == 0


BROKEN_ANSWERS = [
    (("200 OK", "text/html", b"<html><body>Maintenance</body></html>"), "HTML page"),
    (("500 Internal Server Error", "text/plain", b"database is down"), "HTTP 500"),
    (
        ("200 OK", "text/xml", b"<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><ListRecords><record>"),
        "well-formed",
    ),
]


@pytest.mark.parametrize(("answer", "words"), BROKEN_ANSWERS)
def test_a_page_broken_once_is_asked_for_again(engine, db_url, repo, endpoint, answer, words, monkeypatch):
    monkeypatch.setattr(OAIHarvester, "sleep", staticmethod(lambda seconds: None))
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    repo.override = lambda args, n: answer if n == 1 else None
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded", run.message
    assert (run.records_new, run.retries, run.requests) == (7, 1, 4)
    assert any(words in w and "resumptionToken=3" in w for w in run.warnings), run.warnings
    assert counts(sessions) == 7 and counts(sessions, Published) == 7


@pytest.mark.parametrize(("answer", "words"), BROKEN_ANSWERS)
def test_a_page_that_stays_broken_fails_the_run_naming_the_request_and_keeps_what_was_stored(
    engine, db_url, repo, endpoint, answer, words, monkeypatch
):
    monkeypatch.setattr(OAIHarvester, "sleep", staticmethod(lambda seconds: None))
    cfg = make_config(db_url, [source(endpoint, max_retries=2)])
    sessions = session_factory(engine)
    # From the second request on the page is broken: the first page's records stay stored and published.
    repo.override = lambda args, n: answer if n >= 1 else None
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "failed"
    assert words in run.message
    assert "ListRecords resumptionToken=3|||" in run.message and "3 attempt(s)" in run.message
    assert run.retries == 2 and run.checkpoint
    assert counts(sessions) == 3 and counts(sessions, Published) == 3
    # The next harvest continues from the checkpoint, once the source is well again.
    repo.override = None
    requests_before = len(repo.requests)
    again = run_harvest(cfg, sessions, cfg.source("weko"))
    assert again.status == "succeeded", again.message
    assert repo.requests[requests_before].get("resumptionToken") == "3|||"
    assert counts(sessions) == 7 and counts(sessions, Published) == 7
    # It is the failed run, continued: its history says so, and its first page is not counted twice.
    assert again.id == run.id and again.records_new == 7 and again.records_unchanged == 0
    assert any("resumed after page 1" in w and "after it failed" in w and words in w for w in again.warnings)
    # Once it has succeeded, the next run is incremental from the source's clock at its start.
    run2 = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run2.status == "succeeded" and run2.from_param == "2026-11-20T00:00:00Z"
    assert counts(sessions) == 7


def test_oai_error_is_reported_in_the_sources_words(engine, db_url, endpoint):
    cfg = make_config(db_url, [source(endpoint, metadata_prefix="oai_dc")])
    run = run_harvest(cfg, session_factory(engine), cfg.source("weko"))
    assert run.status == "failed"
    assert "cannotDisseminateFormat" in run.message and "only jpcoar_2.0" in run.message


def test_a_record_that_cannot_be_read_does_not_stop_its_page(engine, db_url, repo, endpoint):
    repo.records[1].metadata = ""  # a record with an empty <metadata>
    repo.records[4].metadata = "<nonsense xmlns='urn:x'>?</nonsense>"
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("weko"))
    assert run.status == "succeeded"
    assert run.records_failed == 1 and run.records_new == 6
    assert any("00001" in e for e in run.errors)
    with sessions() as s:
        odd = s.scalar(select(Record).where(Record.source_identifier.endswith("00004")))
        assert odd.status == "quarantined"
        assert "unrecognised metadata format" in odd.findings[0]["message"]
        runs = s.scalars(select(HarvestRun)).all()
        assert len(runs) == 1
