"""The migrations create exactly the schema the models describe, on both engines, and can be run twice."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.db import DatabaseError, check_current, make_engine, migrate
from gateway.models import Base


def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []
    assert migrate(engine) == migrate(engine)  # idempotent
    check_current(engine)


def test_an_empty_database_is_refused_with_advice(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        check_current(engine)
    except DatabaseError as exc:
        assert "gateway init" in str(exc)
    else:
        raise AssertionError("an empty database was accepted")
