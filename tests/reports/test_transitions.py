"""AMED's sharing transitions (gateway.reports.sharing_transitions) on SQLite and PostgreSQL: the issue's figures on
the command line, the API and the report itself, with fixed `--today` dates.

The project (tests.support.amed_dmp) ended on 2024-03-31; D-1 and D-2 are under 制限共有, D-3 is 非制限公開 and D-4
非公開. A paper accepted 14 months after the end (2025-05-31) is recorded for D-1, so D-1 moves to open on
2025-05-31 and D-2 at end + 2 years, 2026-03-31; the DMP reviews are on 2026-03-31 and 2028-03-31.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway import reports
from gateway.admin import auth
from gateway.app import create_app
from gateway.cli import cli
from gateway.db import transaction
from gateway.dmp import publications as pubs
from gateway.dmp.versions import import_file
from gateway.harvest.runner import run_harvest
from gateway.models import DmpPublication
from gateway.reports.sharing_transitions import add_years, transition_date
from tests.support.amed_dmp import END_PLUS_2, END_PLUS_4, JGN, PAPER, harvested_project, write_dmp, write_records


def test_the_rule_takes_the_earlier_of_end_plus_two_years_and_the_publication():
    end = date(2024, 3, 31)
    paper = DmpPublication(kind="paper", published_on=date(2025, 5, 31))
    late = DmpPublication(kind="patent", published_on=date(2026, 4, 1))
    assert transition_date(end, paper) == (date(2025, 5, 31), "paper")
    assert transition_date(end, late) == (date(2026, 3, 31), "end")
    assert transition_date(end, None) == (date(2026, 3, 31), "end")
    # on end + 2 years exactly, the end is the reason (the two agree)
    assert transition_date(end, DmpPublication(kind="paper", published_on=date(2026, 3, 31)))[1] == "end"
    assert add_years(date(2024, 2, 29), 2) == date(2026, 2, 28)


@pytest.fixture
def amed(engine, db_url, tmp_path: Path, monkeypatch):
    """The DMP imported, D-1's paper recorded, records of D-1 (restricted) and D-2 harvested: (config, sessions)."""
    return harvested_project(engine, db_url, tmp_path, monkeypatch)


def _report(sessions, today: str, **kw):
    with sessions() as s:
        return reports.transitions(s, today=date.fromisoformat(today), **kw)


def _moves(found) -> list[tuple[str, str, str, int, str]]:
    return [(r["data_number"], r["state"], r["date"], r["days_left"], r["basis"]) for r in found["transitions"]]


def _reviews(found) -> list[tuple[int, str, str]]:
    return [(r["years_after_end"], r["date"], r["state"]) for r in found["reviews"]]


def test_the_issues_figures_as_the_days_pass(amed):
    _, sessions = amed
    # 91 days before the paper's date: nothing is due yet; both reviews lie ahead
    found = _report(sessions, "2025-03-01")
    assert _moves(found) == []
    assert _reviews(found) == [(2, END_PLUS_2, "upcoming"), (4, END_PLUS_4, "upcoming")]
    assert found["reviews"][0]["datasets_under_restricted_sharing"] == 2
    # 90 days before: D-1 is due, by the paper, well before its end + 2 years
    assert _moves(_report(sessions, "2025-03-02")) == [("D-1", "due", PAPER, 90, "paper")]
    # the day after the paper: D-1 overdue; D-2 still months away
    found = _report(sessions, "2025-06-01")
    assert _moves(found) == [("D-1", "overdue", PAPER, -1, "paper")]
    row = found["transitions"][0]
    assert (row["publication_date"], row["end_plus_2"], row["record_access_right"]) == (PAPER, END_PLUS_2, "restricted")
    assert row["sharing"] == "restricted_sharing_external" and row["basis_ja"] == "論文採択"
    # 2026-01-01: D-2 (end + 2 years) within 90 days, and so is the first review
    found = _report(sessions, "2026-01-01")
    assert _moves(found) == [("D-1", "overdue", PAPER, -215, "paper"), ("D-2", "due", END_PLUS_2, 89, "end")]
    assert _reviews(found)[0] == (2, END_PLUS_2, "due")
    # past end + 2 years: both overdue, the first review too; a shorter --within changes nothing past the dates
    found = _report(sessions, "2026-04-01", within_days=0)
    assert [m[:2] for m in _moves(found)] == [("D-1", "overdue"), ("D-2", "overdue")]
    assert _reviews(found) == [(2, END_PLUS_2, "overdue"), (4, END_PLUS_4, "upcoming")]


def test_a_project_wide_publication_counts_for_every_dataset(amed):
    _, sessions = amed
    with transaction(sessions) as s:
        pubs.record(s, JGN, published_on=date(2025, 1, 15), kind="patent")
    assert _moves(_report(sessions, "2025-02-01")) == [
        ("D-1", "overdue", "2025-01-15", -17, "patent"),
        ("D-2", "overdue", "2025-01-15", -17, "patent"),
    ]


def test_a_dataset_leaves_the_list_once_its_record_is_open(amed, tmp_path: Path):
    config, sessions = amed
    write_records(tmp_path / "files", "open")
    assert run_harvest(config, sessions, config.sources[0]).status == "succeeded"
    found = _report(sessions, "2026-04-01")
    assert _moves(found) == [("D-2", "overdue", END_PLUS_2, -1, "end")]
    assert found["reviews"][0]["datasets_under_restricted_sharing"] == 1


def test_a_dmp_dated_after_a_review_marks_it_done(amed, tmp_path: Path):
    _, sessions = amed
    import_file(sessions, write_dmp(tmp_path / "dmp2.csv", dmp_date="2026-04-10"))
    assert _reviews(_report(sessions, "2026-05-01")) == [(2, END_PLUS_2, "done"), (4, END_PLUS_4, "upcoming")]
    # the publication is still counted: it names the dataset by its key, which the new version keeps
    assert _moves(_report(sessions, "2026-05-01"))[0][:3] == ("D-1", "overdue", PAPER)


def _gateway(db_url: str, *args: str):
    return CliRunner().invoke(cli, ["--database-url", db_url, "report", "transitions", *args], catch_exceptions=False)


def test_the_command_line_and_the_api_give_the_same_numbers(amed, db_url, tmp_path: Path):
    config, sessions = amed
    answer = _gateway(db_url, "--today", "2026-01-01", "--format", "json")
    assert answer.exit_code == 0, answer.output
    cli_json = json.loads(answer.output)
    assert _moves(cli_json) == _moves(_report(sessions, "2026-01-01"))
    table = _gateway(db_url, "--today", "2026-01-01", "--project", JGN).output
    assert "期限超過 overdue" in table and "論文採択 paper accepted" in table and "DMPの見直し DMP review" in table
    rows = list(csv.DictReader(io.StringIO(_gateway(db_url, "--today", "2026-01-01", "--format", "csv").output)))
    assert [(r["データNo. data number"], r["状態 state"], r["期日 date"]) for r in rows] == [
        ("D-1", "期限超過 overdue", PAPER),
        ("D-2", "期限間近 due", END_PLUS_2),
        ("", "期限間近 due", END_PLUS_2),
        ("", "予定 upcoming", END_PLUS_4),
    ]
    out = tmp_path / "t.xlsx"
    assert _gateway(db_url, "--today", "2026-01-01", "--format", "xlsx", "--output", str(out)).exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet.max_row == 5 and sheet.cell(2, 3).value.date() == date.fromisoformat(PAPER)
    unknown = CliRunner().invoke(cli, ["--database-url", db_url, "report", "transitions", "--project", "JP00x"])
    assert unknown.exit_code == 1 and "no DMP is imported" in unknown.output

    app = create_app(config, sessions.kw["bind"])
    with transaction(sessions) as s:
        auth.create_user(s, "boss", "a long enough password", "manager")
        token = auth.create_token(s, "t", "boss")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    api = client.get("/api/reports/transitions?today=2026-01-01&within_days=90", headers=headers)
    assert api.status_code == 200
    assert api.get_json() == cli_json
    assert client.get("/api/reports/transitions?project=JP00x", headers=headers).status_code == 400
    # the publications through the API: recorded by the token's user, listed, refused for a project without a DMP
    made = client.post(f"/api/dmp/{JGN}/publications", json={"date": "2025-01-15", "kind": "patent"}, headers=headers)
    assert made.status_code == 201 and made.get_json()["recorded_by"] == "boss"
    listed = client.get(f"/api/dmp/{JGN}/publications", headers=headers).get_json()["publications"]
    assert [(p["kind"], p["date"], p["data_number"]) for p in listed] == [
        ("patent", "2025-01-15", None),
        ("paper", PAPER, "D-1"),
    ]
    bad = client.post(f"/api/dmp/{JGN}/publications", json={"date": "2025-02-30", "kind": "paper"}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["field"] == "date"
    bad = client.post(f"/api/dmp/{JGN}/publications", json={"date": "2025-02-03", "kind": "paper", "dataset": "X"},
                      headers=headers)  # fmt: skip
    assert bad.status_code == 400 and bad.get_json()["field"] == "dataset"
    assert client.get("/api/dmp/JP00x/publications", headers=headers).status_code == 404
    assert _moves(client.get("/api/reports/transitions?today=2025-02-01", headers=headers).get_json())[0][1:3] == (
        "overdue",
        "2025-01-15",
    )
