"""Dirty input costs one record, never the run: a source that breaks in every way real repositories do, over HTTP.

Faults are planned per list page (tests/support/faultserver.py `page_faults`), each injected once, so every test is
bounded in requests and time; backoff and Retry-After waits are recorded, not slept (the `waits` fixture of
conftest.py; the timeout fault really waits).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.cli import EXIT_HELD, cli
from gateway.config import load
from gateway.db import session_factory, transaction
from gateway.harvest.oairesponse import MalformedResponse, parse_response, salvage_response
from gateway.models import HarvestRun, Published, Record
from tests.support.faultserver import FaultyRepository, cut_position
from tests.support.oaiserver import FixtureRecord
from tests.support.records import dataset
from tests.support.servers import serve_wsgi

OAI = "{http://www.openarchives.org/OAI/2.0/}"
CUTS = ["cut-tag", "cut-attr", "cut-text", "cut-mb", "cut-boundary"]


def records(n: int) -> list[FixtureRecord]:
    # Datestamps one second apart, in list order: a restarted list starts from the checkpoint's datestamp.
    return [
        FixtureRecord(
            identifier=f"oai:repo.example.ac.jp:{i:05d}",
            datestamp=f"2026-10-{1 + i // 86400:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            metadata=dataset(f"データ {i}", title_en=f"Data {i}", data_no=f"D-{i}", doi=f"10.99999/t.{i}"),
        )
        for i in range(n)
    ]


def write_config(tmp_path: Path, db_url: str, endpoint: str, **source: object) -> Path:
    options = "".join(f"{key} = {json.dumps(value)}\n" for key, value in source.items())
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[repository]\nname = "Test"\nbase_url = "http://127.0.0.1:8080/oai"\nidentifier = "gateway.test.ac.jp"\n'
        'admin_email = ["rdm@test.ac.jp"]\npage_size = 500\n'
        f'[database]\nurl = "{db_url}"\n'
        f'[[sources]]\nname = "weko"\nkind = "oai-pmh"\nurl = "{endpoint}"\nmetadata_prefix = "jpcoar_2.0"\n{options}',
        encoding="utf-8",
    )
    return path


def served_identifiers(config_path: Path, engine) -> list[str]:  # type: ignore[no-untyped-def]
    """Every identifier a full ListIdentifiers walk of the gateway's provider returns, in order, repeats included."""
    client = create_app(load(config_path), engine).test_client()
    out: list[str] = []
    query = "verb=ListIdentifiers&metadataPrefix=jpcoar_2.0"
    while query:
        root = etree.fromstring(client.get(f"/oai?{query}").data)
        out += [h.findtext(f"{OAI}identifier") for h in root.iter(f"{OAI}header") if h.get("status") != "deleted"]
        token = root.findtext(f".//{OAI}resumptionToken")
        query = f"verb=ListIdentifiers&resumptionToken={token}" if token else ""
    return out


def harvest(config_path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_path), "harvest"])
    return result.exit_code, result.stdout, result.stderr


# -- one list with every fault -----------------------------------------------------------------------------------


def test_one_harvest_of_a_source_broken_in_every_way_stores_and_serves_every_record_once(
    engine, db_url, waits, tmp_path
):
    n = 3000
    repo = FaultyRepository(records(n), page_size=100)
    repo.slow = 4.0  # the timeout fault answers after 4 s; the source's timeout is 3 s
    restart_from = repo.records[1999].datestamp  # the last record of the last page stored before the expired token
    faults = [
        *CUTS, "cut", "html", "500", "503", "503-date", "reset", "timeout", "no-token", "short", "illegal", "502",
    ]  # fmt: skip
    repo.page_faults = {(None, 100 * (i + 1)): [fault] for i, fault in enumerate(faults)}
    repo.page_faults[(None, 2000)] = ["bad-token"]  # expired: every earlier token dies with it
    repo.page_faults[(restart_from, 1000)] = ["short"]  # the restarted list's last page, without its last record
    with serve_wsgi(repo) as base:
        config_path = write_config(tmp_path, db_url, base + "/oai", timeout=3, max_retries=5)
        status, out, err = harvest(config_path)
    assert status == 0, out + err
    assert sorted(f for _, f in repo.injected) == sorted([*faults, "bad-token", "short"])

    sessions = session_factory(engine)
    with sessions() as s:
        run = s.scalars(select(HarvestRun)).one()
        assert run.status == "succeeded", run.message
        assert s.scalar(select(func.count()).select_from(Record)) == n
        assert s.scalar(select(func.count()).select_from(Record).where(Record.status == "published")) == n
        stored = set(s.scalars(select(Record.source_identifier)))
    assert stored == {r.identifier for r in repo.records}
    # Each fault but the expired token cost one retry of the same request; the token, one restart of the list from
    # its checkpoint; the characters XML forbids, one repaired page.
    assert (run.retries, run.restarts, run.repairs, run.records_held) == (len(faults) - 1 + 1, 1, 1, 0)
    assert run.records_new == n and run.records_repeated == 1  # the checkpoint's own record came again
    assert 1.0 in waits and any(0 < w <= 2.0 for w in waits if w != 1.0)  # Retry-After as seconds, as an HTTP date
    text = "\n".join(run.warnings)
    for words in (
        "not well-formed XML",
        "HTML page",
        "HTTP 500",
        "HTTP 502",
        "HTTP 503",
        "no answer from",
        "connection to",
        "completeListSize announced",
        "badResumptionToken",
        f"harvested again from {restart_from} (restart 1)",
        "removed 2 character(s) not allowed in XML 1.0 (U+0001, U+000B)",
    ):
        assert words in text, words
    # Every retry names its request: the token that was asked for again.
    assert re.search(r"weko: ListRecords resumptionToken=0~100\|\|\|: not well-formed XML.*retry 1 of 5", text)
    # The one summary line says what was repaired; `gateway runs` and the dashboard show the same counts.
    assert "succeeded — 3000 new" in out and "16 retries, 1 restart, 1 repair" in out
    shown = CliRunner().invoke(cli, ["--config", str(config_path), "runs", "--format", "json"])
    row = json.loads(shown.stdout)[0]
    assert (row["retries"], row["restarts"], row["repairs"], row["records"]["held"]) == (16, 1, 1, 0)
    served = served_identifiers(config_path, engine)
    assert len(served) == n and set(served) == {f"oai:gateway.test.ac.jp:weko/{r.identifier}" for r in repo.records}
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Published).where(Published.deleted.is_(False))) == n
    # What a repository manager sees on the dashboard's run page.
    page = dashboard_page(config_path, engine, f"/admin/runs/{run.id}")
    names, values = page.xpath("//dl[@id='run-figures']/dt/text()"), page.xpath("//dl[@id='run-figures']/dd")
    figures = dict(zip(names, values, strict=True))
    assert figures["Retries"].text_content() == "16" and figures["List restarts"].text_content() == "1"
    assert figures["Repairs"].text_content() == "1" and figures["New"].text_content() == "3000"
    warnings = page.xpath("//ul[@id='run-warnings']/li/text()")
    assert any("badResumptionToken" in w for w in warnings) and any("U+000B" in w for w in warnings)


def dashboard_page(config_path: Path, engine, path: str):  # type: ignore[no-untyped-def]
    """A dashboard page as a logged-in viewer gets it, parsed."""
    from lxml import html

    from gateway.admin import auth

    config = load(config_path)
    with transaction(session_factory(engine)) as session:
        auth.create_user(session, "viewer1", "a long enough password", "viewer")
    client = create_app(config, engine).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login = client.get("/admin/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    answer = client.post(
        "/admin/login",
        data={"username": "viewer1", "password": "a long enough password", "csrf_token": token, "next": "/admin/"},
    )
    assert answer.status_code == 303, answer.text
    page = client.get(path)
    assert page.status_code == 200
    return html.fromstring(page.text)


# -- a record that stays broken ----------------------------------------------------------------------------------


def test_a_record_that_stays_broken_is_held_with_its_reason_and_the_rest_of_its_page_is_stored(
    engine, db_url, waits, tmp_path
):
    repo = FaultyRepository(records(300), page_size=100)
    repo.page_faults = {(None, 100): ["broken-record"] * 10}  # the second page, on every attempt
    broken = repo.records[100].identifier  # the page's first record: its title gets an unescaped "&"
    with serve_wsgi(repo) as base:
        config_path = write_config(tmp_path, db_url, base + "/oai")
        status, out, err = harvest(config_path)
    assert status == EXIT_HELD, out + err
    assert "299 new" in out and "1 failed, 1 held" in out
    sessions = session_factory(engine)
    with sessions() as s:
        run = s.scalars(select(HarvestRun)).one()
        assert run.status == "succeeded", run.message
        # The same broken bytes twice: not a transfer fault; read record by record after one retry.
        assert (run.retries, run.repairs, run.records_held) == (1, 1, 1)
        held = s.scalar(select(Record).where(Record.source_identifier == broken))
        assert held.status == "quarantined"
        assert held.source_datestamp == repo.records[100].datestamp
        reasons = [f["message"] for f in held.findings if f["severity"] == "error"]
        assert any("not well-formed XML" in r and "the rest of its page was read" in r for r in reasons), reasons
        assert b" & more" in held.raw_xml  # kept as received, for the manager to see
        assert s.scalar(select(func.count()).select_from(Record).where(Record.status == "published")) == 299
    served = served_identifiers(config_path, engine)
    assert len(served) == 299 and f"oai:gateway.test.ac.jp:weko/{broken}" not in served
    quarantine = CliRunner().invoke(cli, ["--config", str(config_path), "quarantine", "--format", "json"])
    assert broken in quarantine.stdout and "not well-formed" in quarantine.stdout
    # Mended at the source, it is stored and published by the next harvest.
    repo.page_faults.clear()
    with serve_wsgi(repo) as base:
        config_path = write_config(tmp_path, db_url, base + "/oai")
        status, out, err = harvest_full(config_path)
    assert status == 0, out + err
    with sessions() as s:
        assert s.scalar(select(Record.status).where(Record.source_identifier == broken)) == "published"


def harvest_full(config_path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_path), "harvest", "--full"])
    return result.exit_code, result.stdout, result.stderr


def test_a_source_broken_past_every_retry_fails_naming_the_request_and_the_next_harvest_continues(
    engine, db_url, waits, tmp_path
):
    repo = FaultyRepository(records(300), page_size=100)
    repo.page_faults = {(None, 200): ["500"] * 3}
    with serve_wsgi(repo) as base:
        config_path = write_config(tmp_path, db_url, base + "/oai", max_retries=2)
        status, out, err = harvest(config_path)
        assert status == 1
        assert "weko: ListRecords resumptionToken=0~200|||: HTTP 500" in err and "3 attempt(s)" in err, err
        sessions = session_factory(engine)
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Record)) == 200
        asked = len(repo.requests)
        status, out, err = harvest(config_path)
    assert status == 0, out + err
    assert repo.requests[asked].get("resumptionToken") == "0~200|||"  # continued from the checkpoint
    with sessions() as s:
        run = s.scalars(select(HarvestRun)).one()
        assert run.status == "succeeded" and run.records_new == 300 and run.retries == 2
    assert len(served_identifiers(config_path, engine)) == 300


# -- pages cut anywhere ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> bytes:
    repo = FaultyRepository(records(6), page_size=3)
    return repo.respond({"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0"})


def test_a_page_cut_at_any_byte_is_refused_never_read_in_part(page):
    whole = parse_response(page)
    assert len(whole.records) == 3 and whole.resumption_token
    end = len(page.rstrip())
    for position in range(end):
        with pytest.raises(MalformedResponse) as caught:
            parse_response(page[:position])
        assert caught.value.kind == "xml", position
        assert salvage_response(page[:position]) is None, position


@pytest.mark.parametrize("kind", CUTS)
def test_each_kind_of_cut_is_where_it_says(page, kind):
    position = cut_position(page, kind)
    before, after = page[:position], page[position:]
    if kind == "cut-tag":
        assert before.endswith(b"<dc:t")
    elif kind == "cut-attr":
        assert re.search(rb'contributorType="[A-Za-z]{3}$', before)
    elif kind == "cut-text":
        assert re.search(rb'<dc:title xml:lang="en">Da$', before)
    elif kind == "cut-mb":
        assert before[-1] >= 0xC0 and 0x80 <= after[0] < 0xC0  # the lead byte of a character, without the rest
    else:
        assert before.endswith(b"</record>") and after.startswith((b"<record>", b"<resumptionToken"))
    with pytest.raises(MalformedResponse):
        parse_response(before)


@pytest.mark.parametrize("kind", [*CUTS, "cut"])
def test_a_page_cut_once_anywhere_is_asked_for_again_and_the_list_goes_on(engine, db_url, waits, tmp_path, kind):
    repo = FaultyRepository(records(9), page_size=3)
    repo.page_faults = {(None, 3): [kind]}
    with serve_wsgi(repo) as base:
        config_path = write_config(tmp_path, db_url, base + "/oai")
        status, out, err = harvest(config_path)
    assert status == 0, out + err
    asked = [r.get("resumptionToken") for r in repo.requests if r.get("verb") == "ListRecords"]
    assert asked == [None, "0~3|||", "0~3|||", "0~6|||"]  # the same request again, once
    with session_factory(engine)() as s:
        run = s.scalars(select(HarvestRun)).one()
        assert run.status == "succeeded" and run.records_new == 9 and run.retries == 1


def test_a_page_whose_envelope_is_sound_is_read_record_by_record(page):
    broken = page.replace(b"</dc:title>", b" & more</dc:title>", 1)
    with pytest.raises(MalformedResponse):
        parse_response(broken)
    salvaged = salvage_response(broken, what="page")
    assert salvaged is not None
    assert [r.identifier for r in salvaged.records] == [r.identifier for r in parse_response(page).records]
    first, *rest = salvaged.records
    assert first.error and "not well-formed" in first.error and first.raw and first.datestamp
    assert all(r.error is None and r.raw for r in rest)
    assert salvaged.resumption_token == parse_response(page).resumption_token
    assert any("read one by one" in w for w in salvaged.warnings)


def test_a_saved_response_with_a_broken_record_in_a_folder_keeps_the_others(engine, db_url, tmp_path, page):
    from gateway.harvest.runner import run_harvest
    from tests.conftest import make_config

    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "listrecords.xml").write_bytes(page.replace(b"</dc:title>", b" & more</dc:title>", 1))
    cfg = make_config(db_url, [{"name": "files", "kind": "directory", "path": str(folder)}])
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("files"))
    assert run.status == "succeeded", run.message
    assert run.records_held == 1 and run.records_new == 2
    with sessions() as s:
        statuses = dict(s.execute(select(Record.source_identifier, Record.status)).all())
    first = parse_response(page).records[0].identifier
    assert statuses.pop(first) == "quarantined" and set(statuses.values()) == {"published"} and len(statuses) == 2
