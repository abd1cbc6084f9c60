"""gateway.bulk stores exactly what SQLAlchemy's own insert and update store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, text, update

from gateway import compression
from gateway.bulk import insert_many, update_many
from gateway.db import session_factory, transaction
from gateway.models import HarvestRun, Record, Source

_R = Record.__table__


def _record(local: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "source_id": 1,
        "source_identifier": f"oai:x:{local}",
        "local_id": local,
        "raw_format": "jpcoar_2.0",
        "raw_xml": "<jpcoar>データ</jpcoar>".encode(),
        "raw_hash": "ab" * 32,
        "source_datestamp": "2026-10-01T00:00:00Z",
        "source_sets": ["a", "b"],
        "source_deleted": False,
        "harvested_at": datetime(2026, 12, 7, 23, 30, 5),
        "run_id": None,
        "disclosure": "public",
        "private": {"email": "x@example.ac.jp"},
        "canonical_xml": None,
        "status": "published",
        "status_reason": None,
        "findings": [{"severity": "warning", "message": "言語"}],
        "annex3": {"title": [{"value": "題名", "lang": "ja"}]},
        "title": "題名",
        "updated_at": datetime(2026, 12, 7, 23, 30, 5),
    }
    row.update(values)
    return row


def _stored(engine: Engine, local: str) -> dict[str, object]:
    """The row as the database holds it (no type conversion on the way out), compressed columns unpacked."""
    names = [c.name for c in _R.columns if c.name != "id"]
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT * FROM records WHERE local_id = '{local}'")).mappings().one()
    out = {name: row[name] for name in names}
    for name in ("raw_xml", "canonical_xml", "annex3"):
        if out[name] is not None:
            out[name] = compression.CODEC.unpack(bytes(out[name]))
    return out


def test_insert_many_and_update_many_store_what_sqlalchemy_stores(engine: Engine) -> None:
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        session.add(
            Source(id=1, name="s", kind="oai-pmh", metadata_prefix="jpcoar_2.0", created_at=datetime(2026, 1, 1))
        )
    nulls = {"private": None, "findings": None, "status_reason": None, "run_id": None}
    with transaction(sessions) as session:
        session.execute(insert(_R), [_record("orm-1"), _record("orm-2", **nulls)])
        insert_many(session, _R, [_record("bulk-1"), _record("bulk-2", **nulls)])
    for local in ("1", "2"):
        orm, bulk = _stored(engine, f"orm-{local}"), _stored(engine, f"bulk-{local}")
        for name in ("local_id", "source_identifier"):
            orm.pop(name), bulk.pop(name)
        assert bulk == orm

    changes = {"status": "withheld", "findings": [], "harvested_at": datetime(2026, 12, 8, 1, 2, 3), "raw_xml": b"<x/>"}
    with transaction(sessions) as session:
        ids = dict(session.execute(select(_R.c.local_id, _R.c.id)).all())
        session.execute(update(_R).where(_R.c.id == ids["orm-1"]).values(**changes))
        # Rows of two shapes in one call: each is set as given.
        update_many(session, _R, [{"id": ids["bulk-1"], **changes}, {"id": ids["bulk-2"], "title": "二"}])
    orm, bulk = _stored(engine, "orm-1"), _stored(engine, "bulk-1")
    orm.pop("local_id"), bulk.pop("local_id"), orm.pop("source_identifier"), bulk.pop("source_identifier")
    assert bulk == orm and bulk["status"] == "withheld"
    with sessions() as session:
        read = session.scalars(select(Record).order_by(Record.local_id)).all()
        by_local = {r.local_id: r for r in read}
    assert by_local["bulk-2"].title == "二" and by_local["bulk-2"].status == "published"
    assert by_local["bulk-1"].raw_xml == b"<x/>" and by_local["bulk-1"].harvested_at == datetime(2026, 12, 8, 1, 2, 3)
    assert by_local["bulk-2"].annex3 == {"title": [{"value": "題名", "lang": "ja"}]}


def test_nothing_to_write_runs_no_statement(engine: Engine) -> None:
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction(session_factory(engine)) as session:
        insert_many(session, HarvestRun.__table__, [])
        update_many(session, HarvestRun.__table__, [])
    assert not [s for s in statements if "harvest_runs" in s]


def test_many_rows_are_all_stored_in_order_whatever_the_statement_size(engine: Engine, monkeypatch) -> None:
    from gateway import bulk

    monkeypatch.setattr(bulk, "MAX_PARAMETERS", 45)  # two rows per statement on PostgreSQL
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        session.add(
            Source(id=1, name="s", kind="oai-pmh", metadata_prefix="jpcoar_2.0", created_at=datetime(2026, 1, 1))
        )
    rows = [_record(f"r-{i:02d}", title=f"題名 {i}", raw_xml=f"<x>{i}</x>".encode()) for i in range(25)]
    with transaction(sessions) as session:
        insert_many(session, _R, rows)
    with sessions() as session:
        stored = session.execute(select(Record.local_id, Record.title, Record.raw_xml).order_by(Record.id)).all()
    assert [tuple(r) for r in stored] == [(f"r-{i:02d}", f"題名 {i}", f"<x>{i}</x>".encode()) for i in range(25)]
