"""Shared fixtures: databases on SQLite and PostgreSQL, configurations, running servers."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from gateway import config as gwconfig
from gateway.db import make_engine, migrate

PG_ADMIN_URL = os.environ.get("GATEWAY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_pg_problem: str | None = None
_pg_checked = False


def _postgres_available() -> str | None:
    """None when the server answers; otherwise why not (said loudly by the skip)."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with eng.connect() as conn:
                conn.execute(text("select 1"))
            eng.dispose()
        except Exception as exc:
            _pg_problem = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
            if os.environ.get("CI"):
                warnings.warn(_pg_problem, stacklevel=1)
    return _pg_problem


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    problem = _postgres_available()
    if problem:
        pytest.skip(f"SKIPPED LOUDLY: {problem}")
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


def make_config(db_url: str, sources: list[dict[str, Any]] | None = None, **repository: Any) -> gwconfig.Config:
    """A validated configuration built the same way as from a TOML file."""
    repo = {
        "name": "Test Gateway",
        "base_url": "http://127.0.0.1:8080/oai",
        "identifier": "gateway.test.ac.jp",
        "admin_email": ["rdm@test.ac.jp"],
        "page_size": 5,
    }
    repo.update(repository)
    data: dict[str, Any] = {"repository": repo, "database": {"url": db_url}, "sources": sources or []}
    return gwconfig.from_dict(data, path=None)
