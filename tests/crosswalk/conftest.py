"""The crosswalk fixtures mapped once per test module: the canonical record and every rendering of each."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import crosswalk
from tests.crosswalk.checks import FIXTURE_FORMATS, OUTPUTS, load


@pytest.fixture(scope="module")
def mapped() -> dict[str, dict[str, etree._Element]]:
    result = {}
    for name in FIXTURE_FORMATS:
        canonical = crosswalk.to_canonical(load(name))
        result[name] = {"canonical": canonical, **{p: crosswalk.render(canonical, p) for p in OUTPUTS}}
    return result
