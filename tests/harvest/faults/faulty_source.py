"""The source the fault tests harvest: ten records in pages of three, and what an uninterrupted harvest of them stores.

`reference()` harvests the same records once, without faults, on SQLite, and remembers the result: a test that
injected faults, killed or resumed its harvest compares its database with it (`snapshot()`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from gateway.db import make_engine, migrate, session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import Published, Record
from tests.conftest import make_config
from tests.support.faultserver import FaultyRepository
from tests.support.oaiserver import FixtureRecord
from tests.support.records import dataset
from tests.support.servers import serve_wsgi

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
