"""No module too long to take in: every module of gateway/ and every module of tests/ (test modules, conftest.py files
and support modules alike) is at most MAX_LINES lines; a longer one is split by the jobs it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "gateway"
TESTS = ROOT / "tests"

#: the most lines a module of gateway/ or tests/ may have before it is split by the jobs it holds
MAX_LINES = 500
#: modules of gateway/ still over MAX_LINES, each with why it is not split yet; meant to shrink, never to grow
TOO_LONG_FOR_NOW: set[str] = set()


def _test_modules() -> list[Path]:
    """Every Python module under tests/, fixture data left out."""
    return sorted(p for p in TESTS.rglob("*.py") if "fixtures" not in p.relative_to(TESTS).parts)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_is_too_long(path: Path):
    name = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if name in TOO_LONG_FOR_NOW:
        pytest.skip(f"{name}: {lines} lines, a listed exception")
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES}): split it by the jobs it holds"


def test_the_length_exceptions_are_still_needed():
    for name in TOO_LONG_FOR_NOW:
        path = ROOT / name
        assert path.exists(), f"{name} is listed in TOO_LONG_FOR_NOW but does not exist"
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines > MAX_LINES, f"{name} has {lines} lines now: take it off TOO_LONG_FOR_NOW"


@pytest.mark.parametrize("path", _test_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_test_module_is_too_long(path: Path):
    name = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES}): split it by what it tests"
