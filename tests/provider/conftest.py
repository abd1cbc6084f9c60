"""The provider's fixtures: the seeded publication tables (tests/support/provider_fixtures.py), and the application
serving them with pages of PAGE records."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from gateway.app import create_app
from tests.conftest import make_config
from tests.provider.responses import PAGE
from tests.support.provider_fixtures import Seeded, seed


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed(engine)


@pytest.fixture
def app(engine: Engine, db_url: str, seeded: Seeded) -> Flask:
    return create_app(make_config(db_url, page_size=PAGE), engine)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()
