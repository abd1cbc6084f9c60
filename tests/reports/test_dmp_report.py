"""`gateway report dmp` and `/api/reports/dmp` over the matching fixture (tests/dmp/test_matching.py), on SQLite and
PostgreSQL: the same rows on every surface, the deadlines and days overdue as of --today, and the DMP's 登録状況
checked against what is held."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from gateway import reports
from gateway.admin import auth
from gateway.app import create_app
from gateway.cli import cli
from gateway.db import session_factory, transaction
from gateway.dmp import versions
from tests.dmp.test_matching import harvest_project
from tests.reports.test_counts_and_deadlines import CAA, JST
from tests.support.dmp_files import write_dmp

# (section, data number or name, record, how, access right, published, deadline, days overdue, status check)
# As of 2025-06-01: the DMP (dated 2022-04-01) declared every dataset before fiscal year 2022 ended, so each dataset
# not registered was due 61 days after 2023-03-31, 732 days before.
EXPECTED = [
    ("registered", "D-m1", "files-a/m1", "data number", "open", True, None, None, None),
    ("registered", "D-X2", "files-a/m2", "doi", "restricted", True, None, None, None),
    ("registered", "別名 3", "files-a/m3", "identifier", "open", True, None, None, None),
    ("registered", "ﾃﾞｰﾀ　M4", "files-a/m4", "title", "metadata-only", True, None, None, "status disagrees"),
    ("not_registered", "D-m5", None, None, None, None, "2023-05-31", 732, "status disagrees"),
    ("registered", "D-m6", "files-b/m6", "data number", "open", False, None, None, "status disagrees"),
    ("registered", "D-a", "files-a/a", "data number", "open", True, None, None, None),
    ("not_registered", "「共通名」", None, None, None, None, "2023-05-31", 732, None),
    ("not_registered", "D-m9", None, None, None, None, "2023-05-31", 732, None),
    ("not_registered", "D-m10", None, None, None, None, "2023-05-31", 732, None),
    ("undeclared", None, "files-a/m7", None, "open", True, None, None, None),
]
SUMMARY = {"jgn": CAA, "declared": 10, "registered": 6, "not_registered": 4, "overdue": 4, "undeclared": 1,
           "published": 5, "status_disagrees": 3}


@pytest.fixture
def project(engine, db_url, tmp_path):
    return harvest_project(engine, db_url, tmp_path)


def write_periods(path):
    text = "Japan Grant Number,Project name,Start date,End date\r\n" + f"{JST},未来研究,2023-04-01,2026-03-31\r\n"
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def shown(rows: list[dict]) -> list[tuple]:
    return [
        (r["section"], r["number"] or r["dataset"], r["record"], r["how"], r["access_right"], r["published"],
         r["deadline"], r["days_overdue"], r["status_check"])
        for r in rows
    ]


def invoke(config, *args: str) -> bytes:
    result = CliRunner().invoke(cli, ["--config", str(config.path), "--database-url", config.database_url, *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_reconciliation_rows_and_summary(project):
    config, engine, _ = project
    with session_factory(engine)() as s:
        rows = reports.reconciliation(s, config, today=date(2025, 6, 1))
    assert shown(rows) == EXPECTED
    summary = reports.dmp_summary(rows)
    assert [{k: s[k] for k in SUMMARY} for s in summary] == [SUMMARY]
    m1 = rows[0]
    assert m1["oai_identifier"] == "oai:gateway.test.ac.jp:files-a/m1" and m1["title"] == "データ m1"
    assert (m1["dmp_status"], m1["dmp_status_state"], m1["gateway_status"]) == ("2024年5月1日登録済み", "registered",
                                                                                "held")
    m5 = rows[4]  # says registered, nothing held
    assert (m5["dmp_status_state"], m5["gateway_status"], m5["state"]) == ("registered", "not held", "overdue")
    assert rows[5]["oai_identifier"] is None and rows[5]["status"] == "withheld"  # m6 is held, not published
    # The day itself is not overdue; nor is anything before the first fiscal year's due date.
    with session_factory(engine)() as s:
        on_the_day = reports.reconciliation(s, config, today=date(2023, 5, 31), project=CAA)
        early = reports.reconciliation(s, config, today=date(2023, 4, 1), project=CAA)
    assert {(r["state"], r["days_overdue"]) for r in on_the_day if r["section"] == "not_registered"} == {("open", 0)}
    assert reports.dmp_summary(early)[0]["overdue"] == 0


def test_a_dataset_declared_later_is_due_later(project):
    config, engine, tmp_path = project
    sessions = session_factory(engine)
    # Version 2, dated in fiscal year 2023, adds D-new: due after fiscal year 2023 (2024-05-31), not 2023.
    # D-private's metadata is 非共有: the guideline says not to register it (§6), so it has no deadline.
    datasets = [{"number": "D-m9", "name": "データ m9"}, {"number": "D-new", "name": "新しいデータ"},
                {"number": "D-private", "name": "非公開データ", "metadata_disclosure": "非共有"}]
    versions.import_file(sessions, write_dmp(tmp_path / "v2.xlsx", CAA, datasets, dmp_date="2023-10-01"),
                         now=datetime(2023, 10, 1, 9))
    with sessions() as s:
        found = reports.reconciliation(s, config, today=date(2024, 6, 1), project=CAA)
    rows = {r["number"]: r for r in found}
    assert (rows["D-m9"]["deadline"], rows["D-m9"]["days_overdue"]) == ("2023-05-31", 367)
    assert (rows["D-new"]["deadline"], rows["D-new"]["days_overdue"], rows["D-new"]["version"]) == (
        "2024-05-31", 1, 2)
    private = rows["D-private"]
    assert (private["section"], private["state"], private["deadline"], private["days_overdue"]) == (
        "not_registered", "not for registration", None, None)
    assert {k: reports.dmp_summary(found)[0][k] for k in ("declared", "not_registered", "overdue")} == {
        "declared": 3, "not_registered": 3, "overdue": 2}


def test_the_same_numbers_on_the_cli_and_the_api(project, tmp_path):
    config, engine, _ = project
    as_json = json.loads(invoke(config, "report", "dmp", "--today", "2025-06-01", "--format", "json"))
    assert shown(as_json) == EXPECTED
    only = json.loads(invoke(config, "report", "dmp", "--project", CAA, "--today", "2025-06-01", "--format", "json"))
    assert only == as_json

    text = invoke(config, "report", "dmp", "--today", "2025-06-01", "--format", "csv").decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [(r["区分 section"], r["照合方法 matched by"], r["超過日数 days overdue"], r["登録状況の照合 status check"])
            for r in parsed][3:5] == [("registered", "title", "", "status disagrees"),
                                      ("not_registered", "", "732", "status disagrees")]
    out = tmp_path / "dmp.xlsx"
    invoke(config, "report", "dmp", "--today", "2025-06-01", "--format", "xlsx", "--output", str(out))
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    second = dict(zip(header, [c.value for c in sheet[3]], strict=True))
    assert (second["照合方法 matched by"], second["レコード record"], sheet.max_row) == ("doi", "files-a/m2", 12)
    table = invoke(config, "report", "dmp", "--today", "2025-06-01").decode("utf-8")
    assert "status disagrees" in table and "DMP未記載 undeclared" in table  # the rows, then the totals

    # A sheet of periods only (no datasets) for JST: not listed among the DMPs, shown when asked for.
    from gateway.projects import import_file as import_periods

    import_periods(session_factory(engine), write_periods(tmp_path / "periods.csv"))
    assert json.loads(invoke(config, "report", "dmp", "--today", "2025-06-01", "--format", "json")) == as_json
    periods_only = json.loads(invoke(config, "report", "dmp", "--project", JST, "--format", "json"))
    assert [(r["section"], r["record"]) for r in periods_only] == [("undeclared", "files-a/m5")]

    no_dmp = CliRunner().invoke(cli, ["--config", str(config.path), "--database-url", config.database_url,
                                      "report", "dmp", "--project", "JPNODMP00001"])
    assert no_dmp.exit_code != 0 and "no DMP imported" in no_dmp.output

    app = create_app(config, engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "view", "correct horse battery", "viewer")
        token = auth.create_token(s, "viewer-token", "view")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.get(f"/api/reports/dmp?project={CAA}&today=2025-06-01", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["today"] == "2025-06-01" and shown(body["rows"]) == EXPECTED and body["rows"] == as_json
    assert [{k: s[k] for k in SUMMARY} for s in body["projects"]] == [SUMMARY]
    refused = client.get("/api/reports/dmp?project=JPNODMP00001", headers=headers)
    assert refused.status_code == 400 and refused.get_json()["field"] == "project"
    bad_day = client.get("/api/reports/dmp?today=2026-W44-7", headers=headers)
    assert bad_day.status_code == 400 and bad_day.get_json()["field"] == "today"
    assert client.get("/api/reports/dmp").status_code == 401  # no token, nothing of the report


def test_the_dashboard_page_shows_the_same_numbers(project):
    import re

    from tests.admin.logins import PASSWORD, login

    config, engine, _ = project
    app = create_app(config, engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "view", PASSWORD, "viewer")
    client = app.test_client()
    assert client.get("/admin/reports/dmp").status_code in (302, 303)  # anonymous: to the login page
    assert login(client, "view").status_code in (302, 303)
    page = client.get("/admin/reports/dmp?today=2025-06-01&lang=en").get_data(as_text=True)
    shown_numbers = dict(re.findall(r'data-key="(\w+)">(\d+)<', page))
    assert {k: int(v) for k, v in shown_numbers.items()} == {
        k: v for k, v in SUMMARY.items() if k not in ("jgn", "published")}
    assert page.count('data-section="not_registered"') == 4 and page.count('data-check="disagrees"') == 3
    assert "DMP against what is registered" in page and "732" in page
    ja = client.get(f"/admin/reports/dmp?project={CAA}&today=2025-06-01&lang=ja").get_data(as_text=True)
    assert "DMPと登録状況の照合" in ja and "その他の識別子" in ja
    download = client.get(f"/admin/reports/dmp.json?project={CAA}&today=2025-06-01")
    assert download.status_code == 200 and shown(json.loads(download.data)) == EXPECTED
    assert client.get("/admin/reports/dmp?project=JPNODMP00001").status_code == 404
    assert client.get("/admin/reports/dmp?today=yesterday").status_code == 400
    assert client.get("/admin/reports/dmp.pdf").status_code == 404
