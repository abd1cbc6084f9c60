"""Record keys: written with every mapped record by the harvest's bulk path and by `gateway remap`, replaced when the
record changes, removed when it is deleted at its source, and back-filled by migration 0008 — SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter

from alembic import command
from sqlalchemy import select, text

from gateway.db import _alembic_config, make_engine, migrate, session_factory
from gateway.dmp.keys import keys_of_view
from gateway.harvest.runner import remap
from gateway.models import Record, RecordKey
from tests.dmp import gate_support as gs
from tests.reports.test_counts_and_deadlines import CAA, JST, record


def _keys(engine) -> dict[str, Counter[tuple[str, str]]]:
    """Each record's stored keys (a multiset: a key written twice would show), by local id."""
    with session_factory(engine)() as s:
        local = dict(s.execute(select(Record.id, Record.local_id)).all())
        out: dict[str, Counter[tuple[str, str]]] = {}
        for key in s.scalars(select(RecordKey)):
            out.setdefault(local[key.record_id], Counter())[(key.kind, key.value)] += 1
        return out


def _expected(engine) -> dict[str, Counter[tuple[str, str]]]:
    with session_factory(engine)() as s:
        return {
            r.local_id: Counter(keys_of_view(r.annex3))
            for r in s.scalars(select(Record).where(Record.status != "deleted"))
            if keys_of_view(r.annex3)
        }


def test_keys_are_written_replaced_and_removed_with_their_records(engine, db_url, tmp_path):
    gs.write(tmp_path, "a", {"k1": (record("k1", CAA), "public"), "k2": (record("k2", CAA, JST), "private"),
                             "k3": (record("k3", CAA, omit=("description",)), "public")})  # fmt: skip
    cfg = gs.config(db_url, tmp_path)
    gs.harvest(cfg, engine, "repo")
    keys = _keys(engine)
    assert keys == _expected(engine)
    # published, withheld and quarantined records alike; a record of two projects has both grant numbers' keys
    assert set(keys) == {"repo/k1", "repo/k2", "repo/k3"}
    assert keys["repo/k1"] == Counter({
        ("jgn", CAA): 1, ("number", f"{CAA}/d-k1"): 1, ("pid", "doi:10.99999/k1"): 1, ("title", f"{CAA}/データk1"): 1,
        ("title", f"{CAA}/testdataset"): 1,
    })  # fmt: skip
    assert ("number", f"{JST}/d-k2") in keys["repo/k2"] and ("number", f"{CAA}/d-k2") in keys["repo/k2"]

    # changed at the source: the keys are replaced, not added to
    xml = record("k1", CAA).replace("10.99999/k1", "10.99999/k1-v2").replace("D-k1", "D-k1b")
    gs.write(tmp_path, "a", {"k1": (xml, "public"), "k2": (record("k2", CAA, JST), "private")})
    (tmp_path / "a" / "k3.xml").unlink()  # deleted at its source
    gs.harvest(cfg, engine, "repo")
    keys = _keys(engine)
    assert keys == _expected(engine)
    assert ("pid", "doi:10.99999/k1-v2") in keys["repo/k1"] and ("pid", "doi:10.99999/k1") not in keys["repo/k1"]
    assert ("number", f"{CAA}/d-k1b") in keys["repo/k1"]
    assert "repo/k3" not in keys

    # a remap writes them again (no repeats)
    remap(cfg, session_factory(engine))
    assert _keys(engine) == keys


def test_migration_0008_back_fills_the_keys_of_stored_records(db_url):
    engine = make_engine(db_url)
    try:
        command.upgrade(_alembic_config(engine), "0007")
        view = {
            "title": [{"value": "観測データ Ａ", "lang": "ja"}],
            "jgn": [{"value": CAA}],
            "data_number": [{"value": "Ｄ－０００１"}],
            "repository_url": [{"value": "https://doi.org/10.1234/ABC"}],
        }
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO sources (id, name, kind, metadata_prefix, created_at) "
                "VALUES (1, 'old', 'directory', 'jpcoar_2.0', CURRENT_TIMESTAMP)"
            ))  # fmt: skip
            for ident, status in (("a", "published"), ("b", "deleted")):
                conn.execute(
                    text(
                        "INSERT INTO records (source_id, source_identifier, local_id, source_sets, source_deleted,"
                        " harvested_at, disclosure, private, status, findings, annex3, updated_at) VALUES (1, :i,"
                        " :l, '[]', false, CURRENT_TIMESTAMP, 'public', '{}', :s, '[]', :view, CURRENT_TIMESTAMP)"
                    ),
                    {"i": ident, "l": f"old/{ident}", "s": status,
                     "view": json.dumps(view, ensure_ascii=False).encode("utf-8")},
                )  # fmt: skip
        migrate(engine)
        with session_factory(engine)() as s:
            rows = s.execute(select(Record.local_id, RecordKey.kind, RecordKey.value).join(Record)).all()
        # the same keys a harvest writes; a deleted record gets none
        assert sorted(rows) == sorted(("old/a", kind, value) for kind, value in keys_of_view(view))
        assert sorted(rows) == sorted([
            ("old/a", "jgn", CAA), ("old/a", "number", f"{CAA}/d-0001"), ("old/a", "pid", "doi:10.1234/abc"),
            ("old/a", "title", f"{CAA}/観測データa"),
        ])  # fmt: skip
    finally:
        engine.dispose()
