"""Stored XML is zstd-compressed with a dictionary trained on the database's own records, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest
import zstandard
from sqlalchemy import select, text

from gateway import compression
from gateway.db import make_engine, migrate, session_factory, transaction
from gateway.harvest.runner import run_harvest
from gateway.models import Published, PublishedFormat, Record
from tests.conftest import make_config
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.paths import ROOT
from tests.support.records import dataset
from tests.support.servers import serve_wsgi


def records(n: int, tag: str = "") -> list[FixtureRecord]:
    return [
        FixtureRecord(
            identifier=f"oai:repo.example.ac.jp:{tag}{i:05d}",
            datestamp="2026-10-01T10:00:00Z",
            metadata=dataset(
                f"観測データ {tag}{i}", title_en=f"Observations {i}", data_no=f"D-{i}", doi=f"10.99999/c.{tag}{i}"
            ),
        )
        for i in range(n)
    ]


def stored(engine, table: str, column: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [bytes(v) for (v,) in conn.execute(text(f"SELECT {column} FROM {table} ORDER BY 1"))]


def harvest(engine, db_url: str, repo: FixtureRepository):  # type: ignore[no-untyped-def]
    with serve_wsgi(repo) as base:
        cfg = make_config(db_url, [{"name": "weko", "kind": "oai-pmh", "url": base + "/oai"}])
        return run_harvest(cfg, session_factory(engine), cfg.source("weko"))


def test_values_are_stored_compressed_and_read_plain_and_a_dictionary_is_trained(engine, db_url, monkeypatch):
    monkeypatch.setattr(compression, "TRAIN_SAMPLES", 60)
    repo = FixtureRepository(records(40), page_size=10)
    run = harvest(engine, db_url, repo)
    assert run.status == "succeeded" and run.records_new == 40
    raw = stored(engine, "records", "raw_xml")
    assert all(v.startswith(b"\x28\xb5\x2f\xfd") for v in raw)  # zstd frames, not XML
    with session_factory(engine)() as s:
        plain = {r.source_identifier: r.raw_xml for r in s.scalars(select(Record))}
        assert all(v.startswith(b"<jpcoar:jpcoar") for v in plain.values())
        formats = s.scalars(select(PublishedFormat.xml)).all()
        assert formats and all(v.startswith(b"<") for v in formats)
        dictionaries = s.execute(text("SELECT id FROM compression_dictionaries")).all()
    # 40 records: raw, canonical, three renderings and the provenance each = 240 values; the first 60 trained one.
    assert len(dictionaries) == 1
    dict_id = int(dictionaries[0][0])
    ids = [zstandard.get_frame_parameters(v).dict_id for v in stored(engine, "published_formats", "xml")]
    assert 0 in ids and dict_id in ids  # the first values without, the later ones with the dictionary
    with_dictionary = [v for v in stored(engine, "records", "raw_xml") if zstandard.get_frame_parameters(v).dict_id]
    without = [v for v in stored(engine, "records", "raw_xml") if not zstandard.get_frame_parameters(v).dict_id]
    assert with_dictionary and without
    assert max(map(len, with_dictionary)) < min(map(len, without)) / 2  # what the dictionary is for


def test_another_process_reads_what_was_written_with_a_dictionary(engine, db_url, monkeypatch, tmp_path):
    monkeypatch.setattr(compression, "TRAIN_SAMPLES", 30)
    repo = FixtureRepository(records(30), page_size=10)
    assert harvest(engine, db_url, repo).status == "succeeded"
    with session_factory(engine)() as s:
        expected = sorted((r.source_identifier, r.raw_xml) for r in s.scalars(select(Record)))
    script = (
        "import sys, hashlib\n"
        "from sqlalchemy import select\n"
        "from gateway.db import make_engine, session_factory\n"
        "from gateway.models import Record\n"
        f"engine = make_engine({db_url!r})\n"
        "with session_factory(engine)() as s:\n"
        "    for r in sorted(s.scalars(select(Record)), key=lambda r: r.source_identifier):\n"
        "        print(r.source_identifier, hashlib.sha256(r.raw_xml).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import hashlib

    assert out.stdout.split("\n")[:-1] == [f"{i} {hashlib.sha256(v).hexdigest()}" for i, v in expected]


def test_plain_values_written_before_compression_are_read_as_they_are(engine):
    with transaction(session_factory(engine)) as s:
        s.execute(
            text(
                "INSERT INTO sources (id, name, kind, metadata_prefix, created_at) "
                "VALUES (1, 'old', 'directory', 'jpcoar_2.0', CURRENT_TIMESTAMP)"
            )
        )
        s.execute(
            text(
                "INSERT INTO records (source_id, source_identifier, local_id, raw_xml, source_sets, source_deleted,"
                " harvested_at, disclosure, private, status, findings, annex3, updated_at) VALUES (1, 'a', 'old/a',"
                " :raw, '[]', false, CURRENT_TIMESTAMP, 'public', '{}', 'withheld', '[]', '{}', CURRENT_TIMESTAMP)"
            ),
            {"raw": b"<jpcoar:jpcoar/>"},
        )
    with session_factory(engine)() as s:
        assert s.scalar(select(Record.raw_xml)) == b"<jpcoar:jpcoar/>"


def test_a_database_never_gets_a_value_that_needs_another_databases_dictionary(tmp_path, monkeypatch):
    monkeypatch.setattr(compression, "TRAIN_SAMPLES", 30)
    first, second = (make_engine(f"sqlite:///{tmp_path / name}.db") for name in ("first", "second"))
    for eng in (first, second):
        migrate(eng)
    try:
        assert harvest(first, f"sqlite:///{tmp_path / 'first'}.db", FixtureRepository(records(30), page_size=10))
        # The same process now writes the second database: nothing of it may need the first one's dictionary.
        assert harvest(second, f"sqlite:///{tmp_path / 'second'}.db", FixtureRepository(records(5, "b"), page_size=5))
        with first.connect() as conn:
            first_dicts = {int(i) for (i,) in conn.execute(text("SELECT id FROM compression_dictionaries"))}
        assert first_dicts
        used = {zstandard.get_frame_parameters(v).dict_id for v in stored(second, "records", "raw_xml")}
        assert used == {0}
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.parametrize("size", [0, 1, 5000])
def test_round_trip_of_any_value(size):
    value = ("<a>" + "データ" * size + "</a>").encode()
    from sqlalchemy.dialects import sqlite

    column, dialect = compression.CompressedXML(), sqlite.dialect()
    packed = column.process_bind_param(value, dialect)
    assert packed != value and column.process_result_value(packed, dialect) == value
    assert column.process_bind_param(packed, dialect) == packed  # compressed once, never twice


def test_published_about_is_compressed_too(engine, db_url):
    repo = FixtureRepository(records(3), page_size=3)
    assert harvest(engine, db_url, repo).status == "succeeded"
    assert all(v.startswith(b"\x28\xb5\x2f\xfd") for v in stored(engine, "published", "about_xml"))
    with session_factory(engine)() as s:
        assert all(v.startswith(b"<provenance") for v in s.scalars(select(Published.about_xml)))


def test_the_annex3_view_of_rows_written_before_compression_survives_the_migration(db_url):
    from alembic import command

    from gateway.db import _alembic_config

    engine = make_engine(db_url)
    try:
        command.upgrade(_alembic_config(engine), "0006")
        view = {"title": [{"value": "観測データ", "lang": "ja"}], "access_rights": [{"value": "open access"}]}
        import json

        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sources (id, name, kind, metadata_prefix, created_at) "
                    "VALUES (1, 'old', 'directory', 'jpcoar_2.0', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO records (source_id, source_identifier, local_id, source_sets, source_deleted,"
                    " harvested_at, disclosure, private, status, findings, annex3, updated_at) VALUES (1, 'a', 'old/a',"
                    " '[]', false, CURRENT_TIMESTAMP, 'public', '{}', 'withheld', '[]', :view, CURRENT_TIMESTAMP)"
                ),
                {"view": json.dumps(view, ensure_ascii=False)},
            )
        migrate(engine)
        with session_factory(engine)() as s:
            assert s.scalar(select(Record.annex3)) == view
        with transaction(session_factory(engine)) as s:
            s.scalar(select(Record)).annex3 = {**view, "size": [{"value": "1-10GB"}]}
        with session_factory(engine)() as s:
            assert s.scalar(select(Record.annex3))["size"] == [{"value": "1-10GB"}]
    finally:
        engine.dispose()


@pytest.mark.parametrize("size", [0, 300, 100_000])
@pytest.mark.parametrize("with_dictionary", [False, True])
def test_the_dictionary_of_a_value_is_read_from_its_frame(size, with_dictionary):
    samples = [f"<record n='{i}'><title>観測 {i}</title><id>{i * 7919}</id></record>".encode() for i in range(400)]
    trained = zstandard.train_dictionary(4096, samples)
    compression.CODEC.add(trained.dict_id(), trained.as_bytes())
    value = ("<a>" + "データ" * size + "</a>").encode()
    options = {"dict_data": trained} if with_dictionary else {}
    packed = zstandard.ZstdCompressor(level=3, **options).compress(value)
    assert zstandard.get_frame_parameters(packed).dict_id == (trained.dict_id() if with_dictionary else 0)
    assert compression.CODEC.unpack(packed) == value
