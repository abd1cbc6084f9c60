"""The dashboard's pages through Flask's test client, on SQLite and PostgreSQL.

A directory source with records of two projects (all four access rights, a withheld record, two records quarantined
for the same fault) is harvested through the real pipeline; a manager and a viewer log in through the login form.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree, html
from openpyxl import load_workbook
from sqlalchemy import func, select

from gateway import reports
from gateway.admin import auth, charts, operations, sourcestore
from gateway.admin.operations import harvests
from gateway.app import create_app
from gateway.db import session_factory, transaction
from gateway.harvest.runner import run_harvest
from gateway.models import HarvestRun, Record
from tests.conftest import make_config
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.paths import FIXTURES, ROOT
from tests.support.records import dataset
from tests.support.servers import serve_wsgi

P1 = "JPMJPF2301"
P2 = "JP22H00001"
PASSWORD = "correct horse battery"
SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Gateway:
    app: Flask
    engine: Any
    config: Any
    folder: Path

    def sessions(self):  # type: ignore[no-untyped-def]
        return session_factory(self.engine)()

    def client(self, username: str | None = None, *, lang: str = "en") -> FlaskClient:
        client = self.app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        if username:
            page = client.get("/admin/login")
            answer = client.post(
                "/admin/login",
                data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/admin/"},
            )
            assert answer.status_code == 303, answer.text
        return client


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def text_of(page: str) -> str:
    return " ".join(html.fromstring(page).text_content().split())


def write_records(folder: Path) -> None:
    records = {
        "a1": dataset("海洋観測データ", data_no="A-1", jgn=P1, access="open"),
        "a2": dataset("気象観測データ", data_no="A-2", jgn=P1, access="open"),
        "a3": dataset("共有実験データ", data_no="A-3", jgn=P1, access="restricted"),
        "b1": dataset("猶予データ", data_no="B-1", jgn=P2, access="embargoed", available="2030-04-01"),
        "b2": dataset("非公開データ", data_no="B-2", jgn=P2, access="metadata-only"),
        "c1": dataset("管理機関なしデータ一", data_no="C-1", jgn=P2, omit=("hosting",)),
        "c2": dataset("管理機関なしデータ二", data_no="C-2", jgn=P2, omit=("hosting",)),
        "w1": dataset("共有メタデータ", data_no="W-1", jgn=P1),
    }
    for name, text in records.items():
        (folder / f"{name}.xml").write_text(text, encoding="utf-8")
    (folder / "manifest.toml").write_text(
        '[records.w1]\ndisclosure = "shared"\nremarks = "倫理審査待ちの内部メモ"\n', encoding="utf-8"
    )


@pytest.fixture
def gw(engine, db_url: str, tmp_path: Path) -> Iterator[Gateway]:
    folder = tmp_path / "incoming"
    folder.mkdir()
    write_records(folder)
    config = make_config(db_url, [{"name": "files", "kind": "directory", "path": str(folder)}])
    app = create_app(config, engine)
    sessions = session_factory(engine)
    run = run_harvest(config, sessions, config.source("files"))
    assert run.status == "succeeded" and run.records_new == 8
    with transaction(sessions) as session:
        auth.create_user(session, "manager1", PASSWORD, "manager")
        auth.create_user(session, "viewer1", PASSWORD, "viewer")
    yield Gateway(app=app, engine=engine, config=config, folder=folder)
    for name in list(harvests._active):
        operations.wait_for_harvest(name, 30)


def record_id(gw: Gateway, title: str) -> int:
    with gw.sessions() as session:
        return session.scalar(select(Record.id).where(Record.title == title))


def test_every_page_renders_for_a_logged_in_viewer(gw: Gateway):
    client = gw.client("viewer1")
    with gw.sessions() as session:
        run_id = session.scalar(select(func.max(HarvestRun.id)))
    quarantined = record_id(gw, "管理機関なしデータ一")
    pages = {
        "/admin/": ["Overview", "files"],
        "/admin/sources": ["files", "Export as TOML"],
        "/admin/runs": [f"#{run_id}", "succeeded"],
        f"/admin/runs/{run_id}": ["New", "8"],
        "/admin/records": ["海洋観測データ", "8 results"],
        f"/admin/records/{quarantined}": ["管理機関なしデータ一", "Hosting institution"],
        "/admin/quarantine": ["管理機関なしデータ二"],
        "/admin/projects": [P1, P2],
    }
    for url, expected in pages.items():
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code)
        assert answer.mimetype == "text/html"
        shown = text_of(answer.text)
        for text in expected:
            assert text in shown, (url, text)
        assert "Log out" in shown and "viewer1" in shown
        # a viewer sees no write controls
        assert "Harvest now" not in shown and "Add a source" not in shown
    assert client.get("/admin/records/999999").status_code == 404
    assert client.get("/admin/runs/999999").status_code == 404


def test_a_viewer_cannot_write(gw: Gateway):
    client = gw.client("viewer1")
    token = csrf_of(client.get("/admin/").text)
    writes = [
        rule
        for rule in gw.app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and "POST" in (rule.methods or set())
    ]
    assert len(writes) >= 7, [r.rule for r in writes]
    for rule in writes:
        url = rule.rule.replace("<name>", "files")
        answer = client.post(url, data={"csrf_token": token, "name": "x", "kind": "oai-pmh", "enabled": "0"})
        assert answer.status_code == 403, (url, answer.status_code)
    assert client.get("/admin/sources/new").status_code == 403
    assert client.get("/admin/sources/files/edit").status_code == 403
    with gw.sessions() as session:
        source = sourcestore.get_source(session, "files")
        assert source is not None and source["enabled"] and source["edited_at"] is None
        assert session.scalar(select(func.count()).select_from(HarvestRun)) == 1


def test_anonymous_visitors_are_sent_to_the_login_page(gw: Gateway):
    client = gw.client()
    for rule in gw.app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: {"run_id": "1", "ident": "1"}.get(m.group(1), "files"), rule.rule)
        url = url.replace("<report>", "counts").replace("<fmt>", "csv")
        method = "post" if "POST" in (rule.methods or set()) else "get"
        answer = getattr(client, method)(url, data={})
        assert answer.status_code in (302, 303, 400), (url, answer.status_code)
        if answer.status_code != 400:  # a POST without a session has no CSRF token either: refused either way
            assert answer.headers["Location"].startswith("/admin/login")
        assert "海洋観測データ" not in answer.text


def test_overview_shows_each_source_with_its_counts(gw: Gateway):
    page = gw.client("viewer1").get("/admin/").text
    tree = html.fromstring(page)
    row = tree.get_element_by_id("overview-files")
    cells = [" ".join(td.text_content().split()) for td in row.findall("td")]
    with gw.sessions() as session:
        counts = dict(session.execute(select(Record.status, func.count()).group_by(Record.status)).all())
    assert counts == {"published": 5, "quarantined": 2, "withheld": 1}
    assert cells[-4:] == ["5", "1", "2", "0"]
    assert "succeeded" in cells[4]
    assert tree.get_element_by_id("total-served").text_content().strip() == "5"
    assert tree.get_element_by_id("total-quarantined").text_content().strip() == "2"


def test_overview_lists_the_latest_errors(gw: Gateway):
    client = gw.client("manager1")
    token = csrf_of(client.get("/admin/sources/new").text)
    answer = client.post(
        "/admin/sources/new",
        data={"csrf_token": token, "name": "gone", "kind": "directory", "path": str(gw.folder / "missing"),
              "metadata_prefix": "jpcoar_2.0", "metadata_disclosure": "public", "profile": "auto", "enabled": "1"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.text
    answer = client.post("/admin/sources/gone/harvest", data={"csrf_token": token})
    assert answer.status_code == 302
    assert operations.wait_for_harvest("gone", 30)
    tree = html.fromstring(client.get("/admin/").text)
    errors = " ".join(tree.get_element_by_id("latest-errors").text_content().split())
    assert "gone" in errors and "failed" in errors


def test_records_search_by_title_identifier_project_and_status(gw: Gateway):
    client = gw.client("viewer1")

    def found(**args: str) -> tuple[int, set[str]]:
        tree = html.fromstring(client.get("/admin/records", query_string=args).text)
        count = int(tree.get_element_by_id("result-count").text_content().split()[0])
        titles = {a.text_content() for a in tree.find_class("record-link")}
        return count, titles

    assert found(q="観測") == (2, {"海洋観測データ", "気象観測データ"})
    assert found(q="files/b2") == (1, {"非公開データ"})
    assert found(q="oai:gateway.test.ac.jp:files/a3") == (1, {"共有実験データ"})
    assert found(project=P2)[0] == 4
    assert found(project=P2, status="quarantined") == (2, {"管理機関なしデータ一", "管理機関なしデータ二"})
    assert found(status="withheld") == (1, {"共有メタデータ"})
    assert found(q="100%_no_such") == (0, set())
    rows, total = operations.search_records(gw.sessions(), project=P1, limit=2)
    assert total == 4 and len(rows) == 2


def test_record_page_shows_raw_canonical_outputs_findings_and_history(gw: Gateway):
    client = gw.client("manager1")
    page = client.get(f"/admin/records/{record_id(gw, '管理機関なしデータ一')}").text
    tree = html.fromstring(page)
    findings = tree.get_element_by_id("findings").text_content()
    assert "required item missing: Hosting institution" in findings and "annex3.required_missing" in findings
    assert "C-1" in tree.get_element_by_id("raw").text_content()
    assert "jpcoar:jpcoar" in tree.get_element_by_id("canonical").text_content()
    for prefix in ("jpcoar_2.0", "jpcoar_1.0", "oai_dc"):
        assert tree.get_element_by_id(f"output-{prefix}").find("pre").text_content().strip()
    assert "preview (not served)" in page
    history = tree.get_element_by_id("history").text_content()
    assert "quarantined" in history and "Hosting institution" in history
    # a published record shows what is served; the same record is found by its OAI identifier
    published = client.get("/admin/records/oai:gateway.test.ac.jp:files/a1").text
    assert "as served" in published and "海洋観測データ" in published
    # remarks are shown to a logged-in user only (they are never published)
    withheld = client.get(f"/admin/records/{record_id(gw, '共有メタデータ')}").text
    assert "倫理審査待ちの内部メモ" in withheld and "shared" in withheld


def test_quarantine_groups_records_by_finding(gw: Gateway):
    page = gw.client("viewer1").get("/admin/quarantine").text
    tree = html.fromstring(page)
    groups = tree.find_class("group")
    assert len(groups) == 1
    assert groups[0].find_class("count")[0].text_content() == "2"
    assert "Hosting institution" in groups[0].text_content()
    linked = {a.text_content() for a in groups[0].find_class("record-link")}
    assert linked == {"管理機関なしデータ一", "管理機関なしデータ二"}
    with gw.sessions() as session:
        assert operations.quarantine_groups(session, source="nothing-here") == []


def test_projects_chart_bars_are_proportional_to_the_counts(gw: Gateway):
    page = gw.client("viewer1").get("/admin/projects").text
    tree = html.fromstring(page)
    svg = etree.fromstring(etree.tostring(tree.get_element_by_id("chart").find("svg")))
    segments = svg.findall(f".//{SVG}rect[@class='segment']")
    with gw.sessions() as session:
        expected = {
            (row.jgn, key): n for row in reports.counts(session) for key, n in row.by_access.items() if n and row.jgn
        }
    assert expected == {
        (P1, "open"): 3, (P1, "restricted"): 1,
        (P2, "open"): 2, (P2, "embargoed"): 1, (P2, "metadata_only"): 1,
    }  # fmt: skip
    shown = {(s.get("data-bar").split()[0], s.get("data-category")): int(s.get("data-count")) for s in segments}
    assert shown == expected
    ratios = {round(float(s.get("width")) / int(s.get("data-count")), 1) for s in segments}
    assert len(ratios) == 1 and ratios.pop() > 0
    # the longest bars (P1 and P2 both hold 4 records) fill the plotting width; a project's segments are contiguous
    plot_width = float(svg.get("width")) - charts.LABEL_WIDTH - charts.RIGHT_MARGIN
    for jgn in (P1, P2):
        mine = sorted((float(s.get("x")), float(s.get("width"))) for s in segments if s.get("data-bar").startswith(jgn))
        for (x1, w1), (x2, _) in itertools.pairwise(mine):
            assert abs(x1 + w1 - x2) < 0.02
        assert abs(sum(w for _, w in mine) - plot_width) < 0.05
    table = tree.get_element_by_id("counts")
    row = table.xpath(f".//tr[@data-jgn='{P2}']")[0]
    assert row.xpath("td[@data-category='embargoed']")[0].text_content() == "1"


def test_counts_download_in_every_format(gw: Gateway):
    client = gw.client("viewer1")
    data = json.loads(client.get("/admin/projects/counts.json").data)
    by_jgn = {row["jgn"]: row for row in data}
    assert by_jgn[P1]["open"] == 3 and by_jgn[P1]["restricted"] == 1 and by_jgn[P2]["quarantined"] == 2
    answer = client.get("/admin/projects/counts.csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert any(r[0] == P2 for r in rows[1:])
    book = load_workbook(io.BytesIO(client.get("/admin/projects/counts.xlsx").data))
    values = [[c.value for c in r] for r in book.active.iter_rows()]
    assert any(r[0] == P1 for r in values[1:])
    assert client.get("/admin/projects/deadlines.csv").status_code == 200
    assert client.get("/admin/projects/embargoes.json").status_code == 200
    assert client.get("/admin/projects/counts.exe").status_code == 404


def test_language_switch(gw: Gateway):
    client = gw.client("viewer1", lang="en")
    assert "Overview" in text_of(client.get("/admin/").text)
    answer = client.get("/admin/?lang=ja")
    assert "概要" in text_of(answer.text) and "隔離" in text_of(answer.text)
    assert "gateway_lang=ja" in answer.headers["Set-Cookie"]
    # the choice is kept for the next pages, and can be switched back
    assert "収集履歴" in text_of(client.get("/admin/runs").text)
    assert "Harvest runs" in text_of(client.get("/admin/runs?lang=en").text)
    assert "Harvest runs" in text_of(client.get("/admin/runs").text)
    # the login page is switchable too, and a Japanese browser gets Japanese by default
    anonymous = gw.client(lang="ja")
    assert "管理画面へのログイン" in text_of(anonymous.get("/admin/login").text)
    assert "Log in to the administration" in text_of(anonymous.get("/admin/login?lang=en").text)


def test_a_manager_adds_tests_harvests_edits_exports_and_deletes_a_source(gw: Gateway):
    # one DOI each: the files' records have the default DOI, and two sources' records with one DOI are one dataset
    remote = {i: dataset(f"遠隔データ{i}", data_no=f"R-{i}", doi=f"10.99999/remote.{i}") for i in (1, 2, 3)}
    repo = FixtureRepository(
        [FixtureRecord(f"oai:fixture:{i}", f"2026-01-0{i}T00:00:00Z", remote[i]) for i in (1, 2, 3)],
    )  # fmt: skip
    client = gw.client("manager1")
    token = csrf_of(client.get("/admin/sources/new").text)
    form = {"csrf_token": token, "name": "remote", "kind": "oai-pmh", "metadata_prefix": "jpcoar_2.0",
            "metadata_disclosure": "public", "profile": "auto", "enabled": "1", "sets": ""}  # fmt: skip
    bad = client.post("/admin/sources/new", data={**form, "url": "ftp://example"})
    assert bad.status_code == 400 and "url" in text_of(bad.text) and "http(s)" in text_of(bad.text)
    assert client.post("/admin/sources/new", data={**form, "url": "http://x", "timeout": "abc"}).status_code == 400
    with serve_wsgi(repo) as base:
        answer = client.post("/admin/sources/new", data={**form, "url": base + "/oai", "schedule": "0 3 * * *"})
        assert answer.status_code == 302, text_of(answer.text)
        tested = client.post("/admin/sources/remote/test", data={"csrf_token": token})
        shown = text_of(tested.text)
        assert "Connection works" in shown and "Fixture repository" in shown
        answer = client.post("/admin/sources/remote/harvest", data={"csrf_token": token})
        assert answer.status_code == 302 and "/admin/runs/" in answer.headers["Location"]
        assert operations.wait_for_harvest("remote", 60)
        # harvest now is incremental from the last run; a full re-harvest asks for everything again
        for form_full in ("", "1"):
            again = client.post("/admin/sources/remote/harvest", data={"csrf_token": token, "full": form_full})
            assert again.status_code == 302 and "/admin/runs/" in again.headers["Location"]
            assert operations.wait_for_harvest("remote", 60)
        with gw.sessions() as session:
            runs = operations.list_runs(session, source="remote")
        assert [(r["mode"], r["status"]) for r in runs] == [
            ("full", "succeeded"),
            ("incremental", "succeeded"),
            ("full", "succeeded"),
        ]
        listings = [r for r in repo.requests if r.get("verb") == "ListRecords" and "resumptionToken" not in r]
        assert ["from" in r for r in listings] == [False, True, False]
        assert runs[0]["records"]["unchanged"] == 3 and runs[1]["records"]["new"] == 0
    run_page = text_of(client.get(answer.headers["Location"]).text)
    assert "succeeded" in run_page
    overview = html.fromstring(client.get("/admin/").text)
    assert overview.get_element_by_id("overview-remote").findall("td")[-4].text_content().strip() == "3"
    # a connection test of a source that is down is shown, not raised
    down = text_of(client.post("/admin/sources/remote/test", data={"csrf_token": token}).text)
    assert "Connection failed" in down
    # edit: the schedule changes; the name cannot
    answer = client.post(
        "/admin/sources/remote/edit", data={**form, "url": "http://127.0.0.1:9/oai", "schedule": "30 4 * * *"}
    )
    assert answer.status_code == 302
    exported = client.get("/admin/sources.toml")
    assert exported.mimetype == "application/toml"
    assert 'schedule = "30 4 * * *"' in exported.text and 'name = "remote"' in exported.text
    answer = client.post("/admin/sources/remote/enabled", data={"csrf_token": token, "enabled": "0"})
    assert answer.status_code == 302
    with gw.sessions() as session:
        assert sourcestore.get_source(session, "remote")["enabled"] is False
    refused = client.post("/admin/sources/remote/harvest", data={"csrf_token": token}, follow_redirects=True)
    assert "disabled" in text_of(refused.text)
    assert client.post("/admin/sources/remote/delete", data={"csrf_token": token}).status_code == 302
    with gw.sessions() as session:
        assert sourcestore.get_source(session, "remote") is None
    assert "remote" not in text_of(client.get("/admin/sources").text)


def test_forms_without_the_csrf_token_are_refused(gw: Gateway):
    client = gw.client("manager1")
    answer = client.post("/admin/sources/files/enabled", data={"enabled": "0"})
    assert answer.status_code == 400
    with gw.sessions() as session:
        assert sourcestore.get_source(session, "files")["enabled"] is True


def test_a_harvest_is_not_started_while_the_source_is_locked(gw: Gateway):
    from gateway import locks
    from gateway.models import Source

    sessions = session_factory(gw.engine)
    with sessions() as session:
        source_id = session.scalar(select(Source.id).where(Source.name == "files"))
    held = locks.acquire(sessions, source_id)
    try:
        outcome = operations.start_harvest(gw.config, gw.engine, "files")
        assert outcome == {"started": False, "run_id": None, "message": "files is being harvested already"}
    finally:
        locks.release(sessions, held)
    assert operations.start_harvest(gw.config, gw.engine, "nothing")["started"] is False
    outcome = operations.start_harvest(gw.config, gw.engine, "files")
    assert outcome["started"] and outcome["run_id"]
    assert operations.wait_for_harvest("files", 60)
    with sessions() as session:
        run = operations.get_run(session, outcome["run_id"])
    assert run["status"] == "succeeded" and run["records"]["unchanged"] == 8


def test_every_label_of_the_templates_exists_in_both_languages():
    from gateway.admin.i18n import LABELS

    folder = ROOT / "gateway" / "templates" / "admin"
    used: set[str] = set()
    for template in folder.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*'([a-z0-9_]+)'\s*\)""", template.read_text(encoding="utf-8")))
    assert len(used) > 50
    missing = sorted(used - set(LABELS))
    assert missing == []
    assert all(ja and en and ja != key for key, (ja, en) in LABELS.items() if key != "identify")


def test_testing_an_export_source_reads_it_without_storing(tmp_path):
    from gateway.admin import operations

    export = FIXTURES / "grdm" / "report_en.csv"
    good = operations.test_connection({"name": "rdm", "kind": "grdm", "path": str(export)})
    assert good["ok"] and good["error"] is None
    assert int(good["identify"]["records"]) >= 1

    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"")
    bad = operations.test_connection({"name": "rdm", "kind": "grdm", "path": str(broken)})
    assert not bad["ok"] and "broken.csv" in bad["error"]
