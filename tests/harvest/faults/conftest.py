"""Fixtures of the fault tests: a fault-injecting repository served over HTTP, and waits recorded instead of slept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.harvest.oaipmh import OAIHarvester
from tests.harvest.faults.faulty_source import fixture_records
from tests.support.faultserver import FaultyRepository
from tests.support.servers import serve_wsgi


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff, Retry-After and politeness waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(OAIHarvester, "sleep", staticmethod(recorded.append))
    return recorded


@pytest.fixture
def repo() -> FaultyRepository:
    return FaultyRepository(fixture_records(), page_size=3)


@pytest.fixture
def endpoint(repo: FaultyRepository) -> Iterator[str]:
    with serve_wsgi(repo) as base:
        yield base + "/oai"
