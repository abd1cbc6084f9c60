"""The application for a WSGI server such as gunicorn: `gunicorn 'gateway.provider.wsgi:create()'`.

Configuration comes from the environment, as for the command line: GATEWAY_CONFIG (default config/gateway.toml) and
GATEWAY_DATABASE_URL. Each worker calls create() after the fork, so no database connection is shared between processes.
It only serves: harvests are scheduled by one separate `gateway run --no-serve` process.
"""

from __future__ import annotations

import os

from flask import Flask

from gateway.app import create_app
from gateway.config import load
from gateway.db import check_current, make_engine


def create() -> Flask:
    """The gateway's application, refusing a database that `gateway init` has not brought to the current schema."""
    config = load()
    # Per process: gunicorn's threads share it; workers x this stays under PostgreSQL's max_connections.
    pool = int(os.environ.get("GATEWAY_DB_POOL", "10"))
    engine = make_engine(config.database_url, pool_size=pool)
    check_current(engine)
    return create_app(config, engine)
