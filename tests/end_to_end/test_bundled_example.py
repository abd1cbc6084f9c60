"""The bundled example end to end, as a repository manager runs it: CLI in, OAI-PMH out over real HTTP.

A second gateway then harvests the first one over OAI-PMH, so both sides of the protocol are exercised together.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from gateway.app import create_app
from gateway.cli import EXIT_HELD, cli
from gateway.config import load
from gateway.db import make_engine, session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import Record
from tests.conftest import make_config
from tests.support.paths import ROOT
from tests.support.servers import serve_wsgi

EXAMPLE = ROOT / "config" / "example.toml"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
PREFIXES = ("jpcoar_2.0", "jpcoar_1.0", "oai_dc")


def gateway_cli(db_url: str, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--config", str(EXAMPLE), "--database-url", db_url, *args])
    assert result.exit_code == expect, result.output
    return result.output


@pytest.fixture
def example(db_url: str) -> Iterator[tuple[str, str]]:
    """The bundled example harvested into a fresh database and served over HTTP: (base URL, database URL)."""
    gateway_cli(db_url, "init")
    # The example holds a record in quarantine on purpose: `gateway harvest` says so with exit status 3.
    gateway_cli(db_url, "harvest", expect=EXIT_HELD)
    config = load(EXAMPLE, database_url=db_url)
    engine = make_engine(db_url)
    with serve_wsgi(create_app(config, engine)) as base:
        yield base + "/oai", db_url
    engine.dispose()


def get(url: str, **args: str) -> bytes:
    with urlopen(f"{url}?{urlencode(args)}", timeout=30) as resp:
        return resp.read()


def walk(url: str, verb: str, **args: str) -> Iterator[bytes]:
    body = get(url, verb=verb, **args)
    while True:
        yield body
        token = etree.fromstring(body).find(f".//{OAI}resumptionToken")
        if token is None or not (token.text or "").strip():
            return
        body = get(url, verb=verb, resumptionToken=token.text.strip())


def non_public_strings(db_url: str) -> list[bytes]:
    """Titles of records that must never be served, and every remark."""
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        records = s.scalars(select(Record)).all()
        hidden = [r.title.encode() for r in records if r.title and r.status in ("withheld", "quarantined")]
        remarks = [str(v).encode() for r in records for v in (r.private or {}).values()]
    engine.dispose()
    assert hidden and remarks, "the example must contain withheld/quarantined records and remarks"
    return hidden + remarks


def test_example_is_served_valid_and_leaks_nothing(example):
    from tests.support.official_schemas import assert_valid_response, require_reference

    url, db_url = example
    secrets = non_public_strings(db_url)
    bodies: list[tuple[bytes, str | None]] = [
        (get(url, verb="Identify"), None),
        (get(url, verb="ListMetadataFormats"), None),
    ]
    bodies += [(b, None) for b in walk(url, "ListSets")]
    set_specs = [s.text for b, _ in bodies for s in etree.fromstring(b).iter(f"{OAI}setSpec")]
    assert {"source:repository", "access:embargoed", "project:JPCACAA25001234", "funder:1020"} <= set(set_specs)
    identifiers: dict[str, set[str]] = {}
    for prefix in PREFIXES:
        for body in walk(url, "ListRecords", metadataPrefix=prefix):
            bodies.append((body, prefix))
            ids = {h.text for h in etree.fromstring(body).iter(f"{OAI}identifier")}
            identifiers.setdefault(prefix, set()).update(ids)
        for body in walk(url, "ListIdentifiers", metadataPrefix=prefix):
            bodies.append((body, None))
        for spec in set_specs:
            for body in walk(url, "ListIdentifiers", metadataPrefix=prefix, set=spec):
                bodies.append((body, None))
    for ident in sorted(identifiers["jpcoar_2.0"]):
        for prefix in PREFIXES:
            bodies.append((get(url, verb="GetRecord", identifier=ident, metadataPrefix=prefix), prefix))
    # 5 published in the repository folder, 1 from DSpace, 1 thesis; plus the DSpace record deleted at its source is
    # not there, because it was never published here.
    assert len(identifiers["jpcoar_2.0"]) == 7
    assert identifiers["jpcoar_2.0"] == identifiers["oai_dc"] == identifiers["jpcoar_1.0"]
    for body, _ in bodies:
        for secret in secrets:
            assert secret not in body, f"non-public text {secret.decode()!r} was served"
    require_reference()
    for body, prefix in bodies:
        if b"<error" in body:
            continue
        assert_valid_response(body, prefix)


def test_compressed_and_post_answers(example):
    url, _ = example
    req = Request(f"{url}?verb=Identify", headers={"Accept-Encoding": "gzip"})
    with urlopen(req, timeout=30) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert b"<repositoryName>" in gzip.decompress(resp.read())
    post = Request(url, data=b"verb=ListIdentifiers&metadataPrefix=oai_dc", method="POST")
    post.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urlopen(post, timeout=30) as resp:
        assert len(re.findall(rb"<identifier>", resp.read())) == 7


def test_a_second_gateway_harvests_the_first(example, tmp_path):
    url, _ = example
    downstream_url = f"sqlite:///{tmp_path / 'downstream.db'}"
    engine = make_engine(downstream_url)
    from gateway.db import migrate

    migrate(engine)
    cfg = make_config(
        downstream_url, [{"name": "upstream", "kind": "oai-pmh", "url": url, "metadata_prefix": "jpcoar_2.0"}]
    )
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("upstream"))
    assert run.status == "succeeded", run.message
    assert run.records_new == 7
    with sessions() as s:
        statuses = {r.title: r.status for r in s.scalars(select(Record))}
    # What the upstream gateway published is valid here too (the embargoed record keeps its access right)...
    assert statuses["イネ品種の発現プロファイル"] == "published"
    assert all(v == "published" for v in statuses.values()), statuses
    # ...and an incremental re-harvest finds nothing new.
    again = run_harvest(cfg, sessions, cfg.source("upstream"))
    assert again.status == "succeeded" and again.mode == "incremental" and again.records_new == 0
    engine.dispose()


def test_provider_conforms_after_withdrawals(db_url, tmp_path):
    """The conformance check on a gateway whose records changed, were withdrawn and deleted over two harvests."""
    import shutil
    import time

    from gateway.conformance import check_endpoint, format_report
    from gateway.db import migrate
    from tests.support.official_schemas import official_validator, require_reference

    require_reference()
    sources = []
    for name in ("repository-jpcoar2", "dspace-oai_dc", "weko-jpcoar1"):
        shutil.copytree(ROOT / "examples" / name, tmp_path / name)
        sources.append({"name": name, "kind": "directory", "path": str(tmp_path / name)})
    cfg = make_config(db_url, sources, page_size=2)
    engine = make_engine(db_url)
    migrate(engine)
    sessions = session_factory(engine)
    for src in cfg.sources:
        assert run_harvest(cfg, sessions, src).status == "succeeded"
    time.sleep(1.1)  # so that the second harvest's datestamps differ from the first's
    folder = tmp_path / "repository-jpcoar2"
    (folder / "genome-expression.xml").unlink()  # deleted at the source
    (folder / "manifest.toml").write_text('[records.food-survey-2025]\ndisclosure = "private"\n', encoding="utf-8")
    text = (folder / "food-survey-lab-notes.xml").read_text(encoding="utf-8")
    (folder / "food-survey-lab-notes.xml").write_text(text.replace("実験記録", "実験記録（改訂）"), encoding="utf-8")
    run = run_harvest(cfg, sessions, cfg.source("repository-jpcoar2"))
    assert run.status == "succeeded" and run.records_deleted == 1 and run.records_changed >= 2
    with serve_wsgi(create_app(cfg, engine)) as base:
        body = get(base + "/oai", verb="ListIdentifiers", metadataPrefix="jpcoar_2.0", set="source:repository-jpcoar2")
        assert body.count(b'status="deleted"') >= 1
        report = check_endpoint(base + "/oai", validate=official_validator, timeout=30, time_limit=180)
    assert not report.failures, format_report(report)
    # Headers are stored at publish time: each is what the provider would assemble from the row and its sets,
    # deleted ones included.
    from gateway.models import Published, PublishedSet
    from gateway.provider.response import header

    with sessions() as session:
        rows = session.scalars(select(Published)).all()
        assert any(pub.deleted for pub in rows)
        for pub in rows:
            specs = session.scalars(
                select(PublishedSet.set_spec).where(PublishedSet.published_id == pub.id).order_by(PublishedSet.set_spec)
            ).all()
            assert specs
            assert pub.header_xml == header(pub.oai_identifier, pub.datestamp, pub.deleted, specs).encode()
    engine.dispose()
