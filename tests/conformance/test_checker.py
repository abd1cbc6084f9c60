"""The OAI-PMH conformance checker: proven able to pass and to fail on a small fixture repository, then run against
the gateway's own provider built from the bundled example."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.conformance import Check, Report, check_endpoint, format_report
from tests.conformance.fixture_repository import FixtureOAI
from tests.support.official_schemas import OFFICIAL_FILES, XSD_ROOT, official_validator
from tests.support.paths import ROOT
from tests.support.servers import serve_wsgi

# --------------------------------------------------------------------------------------------------------------------
# Validators


def _reference_present() -> bool:
    return (XSD_ROOT / OFFICIAL_FILES["oai_dc"]).is_file()


def fixture_validator(body: bytes, prefix: str | None) -> list[str]:
    # The official schemas when they are there; otherwise well-formedness is all that can be asked for offline.
    if _reference_present():
        return official_validator(body, prefix)
    try:
        etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [str(exc)]
    return []


def _run(app: Callable[..., Any], **kwargs: Any) -> Report:
    with serve_wsgi(app) as url:
        return check_endpoint(url + "/oai", validate=kwargs.pop("validate", fixture_validator), **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# Tests against the fixture


def test_correct_fixture_passes() -> None:
    report = _run(FixtureOAI())
    assert not report.failures, format_report(report)
    names = {c.name for c in report.checks}
    # The walks really paged, the date and set selections and the error codes were all exercised.
    walk = next(c for c in report.checks if c.name == "ListRecords[oai_dc]: walk")
    assert "11 items in 3 page(s)" in walk.detail
    for expected in (
        "dates[oai_dc]: seconds granularity from+until",
        "dates[oai_dc]: day granularity from+until",
        "sets[oai_dc]: set=physics",
        "badResumptionToken: tampered token",
        "badVerb: repeated verb [request has no attributes]",
        "idDoesNotExist: ListMetadataFormats [schema]",
        "GetRecord[oai_dc] deleted record",
        "POST: ListIdentifiers",
        "HTTP: Content-Type is text/xml",
        "Identify: oai-identifier matches the identifiers",
    ):
        assert expected in names
    tampered = next(c for c in report.checks if c.name == "badResumptionToken: tampered token")
    assert "got error badResumptionToken" in tampered.detail


BROKEN = [
    ("duplicate", ["ListIdentifiers[oai_dc]: duplicates", "ListRecords[oai_dc]: duplicates"]),
    ("cursor", ["ListIdentifiers[oai_dc]: cursor", "ListRecords[oai_dc]: cursor"]),
    ("size", ["ListIdentifiers[oai_dc]: completeListSize", "ListRecords[oai_dc]: completeListSize"]),
    ("badverb-attrs", ["badVerb: unknown verb [request has no attributes]"]),
    ("datestamp-range", ["ListIdentifiers[oai_dc]: datestamps", "ListRecords[oai_dc]: datestamps"]),
    ("no-last-token", ["ListIdentifiers[oai_dc]: last resumptionToken", "ListRecords[oai_dc]: last resumptionToken"]),
    ("bad-date-code", ["badArgument: bad date"]),
    ("until-midnight", ["dates[oai_dc]: day granularity until", "dates[oai_dc]: day granularity from+until"]),
    ("flat-sets", ["sets[oai_dc]: set=physics"]),
]


@pytest.mark.parametrize(("breaks", "expected"), BROKEN, ids=[b for b, _ in BROKEN])
def test_broken_fixture_is_caught(breaks: str, expected: list[str]) -> None:
    report = _run(FixtureOAI(breaks=[breaks]))
    failed = {c.name for c in report.failures}
    for name in expected:
        assert name in failed, format_report(report)


def test_wrong_content_type_and_unreachable_endpoint() -> None:
    inner = FixtureOAI()

    def html(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        def start(status: str, headers: list[tuple[str, str]]) -> Any:
            return start_response(status, [("Content-Type", "text/html")])

        return inner(environ, start)

    report = _run(html)
    assert [c.name for c in report.failures] == ["HTTP: Content-Type is text/xml"]

    report = check_endpoint("http://127.0.0.1:9/oai", validate=lambda body, prefix: [], timeout=2)
    assert report.failures and any(c.name == "Identify" for c in report.failures)


def test_bounded_by_max_pages() -> None:
    report = _run(FixtureOAI(page_size=1), max_pages=3)
    walk = next(c for c in report.checks if c.name == "ListIdentifiers[oai_dc]: walk")
    assert not walk.ok and "max_pages=3" in walk.detail


def test_schema_problems_are_reported() -> None:
    def picky(body: bytes, prefix: str | None) -> list[str]:
        return ["/OAI-PMH/error: not allowed here"] if b"<error" in body else []

    report = _run(FixtureOAI(), validate=picky)
    failed = {c.name for c in report.failures}
    assert "badVerb: no verb [schema]" in failed
    assert "ListRecords[oai_dc]: schema" not in failed


def test_default_validator_is_the_gateways_schemas() -> None:
    report = _run(FixtureOAI(), validate=None)
    assert not report.failures, format_report(report)


def test_format_report_lists_failures_first() -> None:
    report = Report("http://x/oai", [Check("a", True), Check("b", False, "broken"), Check("c", True, "fine")])
    text = format_report(report)
    lines = text.splitlines()
    assert "3 checks, 1 failed" in lines[0]
    assert lines[1] == "FAIL  b: broken"
    assert lines[2:] == ["ok    a", "ok    c (fine)"]


# --------------------------------------------------------------------------------------------------------------------
# The gateway's own provider, built from the bundled example through the CLI


def test_gateway_provider_conforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.official_schemas import require_reference

    require_reference()  # skips loudly, naming the missing folder, when ../shared/reference is absent
    from click.testing import CliRunner

    from gateway import config as gwconfig
    from gateway.app import create_app
    from gateway.cli import EXIT_HELD, cli

    monkeypatch.chdir(ROOT)
    db_url = f"sqlite:///{tmp_path / 'gw.db'}"
    runner = CliRunner()
    for command, expect in (("init", 0), ("harvest", EXIT_HELD)):  # the example holds a record in quarantine
        result = runner.invoke(cli, ["--config", "config/example.toml", "--database-url", db_url, command])
        assert result.exit_code == expect, f"gateway {command} failed:\n{result.output}\n{result.exception!r}"
    config = gwconfig.load(ROOT / "config" / "example.toml", database_url=db_url)
    # A small page size makes every list page, so resumption tokens, cursors and sizes are all exercised.
    config = dataclasses.replace(config, repository=dataclasses.replace(config.repository, page_size=3))
    app = create_app(config)
    with serve_wsgi(app) as url:
        report = check_endpoint(url + "/oai", validate=official_validator, timeout=30, time_limit=120)
    assert not report.failures, format_report(report)
