"""Database engines and sessions: SQLite (WAL) by default, PostgreSQL by URL, the same code for both."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway import compression

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(RuntimeError):
    """The database cannot be reached or is not at the schema this code expects."""


def utcnow() -> datetime:
    """Now, in UTC, naive, to the second: OAI-PMH datestamps have second granularity."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def normalise_url(url: str) -> str:
    # Plain postgresql:// URLs would pick psycopg2, which is not a dependency; psycopg 3 is.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            # WAL lets the provider read while a harvest writes; NORMAL is durable enough with WAL.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        compression.register(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    compression.register(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> str:
    """Create the database or bring it to the newest schema; return the revision it is at."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    command.upgrade(_alembic_config(engine), "head")
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or ""


def check_current(engine: Engine) -> None:
    """Refuse to run against a database that `gateway init` has not created or migrated."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # the driver's own exception types vary
        raise DatabaseError(f"cannot connect to the database: {_short(exc)}") from None
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    if current is None:
        raise DatabaseError("the database is empty: run `gateway init` first")
    if current != head:
        raise DatabaseError(f"the database is at revision {current}, this gateway needs {head}: run `gateway init`")


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


_T = TypeVar("_T")
IN_CHUNK = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


def chunks(values: Sequence[_T], size: int = IN_CHUNK) -> Iterator[Sequence[_T]]:
    """`values` in slices of `size`, for the bulk statements that list ids or keys in an IN clause."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
