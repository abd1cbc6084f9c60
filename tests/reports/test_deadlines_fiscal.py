"""The registration due dates as the food-safety guideline states them (§5 3)-2 ii, 3)-3 ii): metadata after each
fiscal year of a multi-year project and 61 days after its end, counts 61 days after the end only; with a DMP, what is
missing at each due date is the datasets declared by then that no held record matches. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from gateway import reports
from gateway.db import session_factory
from gateway.dmp import versions
from gateway.reports.registration_deadlines import due_dates, fiscal_year_of
from tests.dmp.test_matching import harvest_project
from tests.reports.test_counts_and_deadlines import CAA
from tests.reports.test_dmp_report import invoke
from tests.support.dmp_files import write_dmp


@pytest.fixture
def project(engine, db_url, tmp_path):
    return harvest_project(engine, db_url, tmp_path)


def test_due_dates_per_fiscal_year_and_at_the_end():
    def dues(start: str, end: str) -> list[tuple]:
        return [(d.kind, d.fiscal_year, d.covers.isoformat(), d.day.isoformat())
                for d in due_dates(date.fromisoformat(start), date.fromisoformat(end))]

    # Three fiscal years: the first two are due on 31 May (31 March + 61 days), the last one with the end.
    assert dues("2022-04-01", "2025-03-31") == [
        ("fiscal_year", 2022, "2023-03-31", "2023-05-31"),
        ("fiscal_year", 2023, "2024-03-31", "2024-05-31"),
        ("end", None, "2025-03-31", "2025-05-31"),
    ]
    # One fiscal year (however short): only the end.
    assert dues("2024-04-01", "2025-03-31") == [("end", None, "2025-03-31", "2025-05-31")]
    assert dues("2024-06-01", "2024-09-30") == [("end", None, "2024-09-30", "2024-11-30")]
    # A calendar-year project: January to March is a fiscal year of its own.
    assert dues("2023-01-01", "2024-12-31") == [
        ("fiscal_year", 2022, "2023-03-31", "2023-05-31"),
        ("fiscal_year", 2023, "2024-03-31", "2024-05-31"),
        ("end", None, "2024-12-31", "2025-03-02"),
    ]
    # Ending on 1 April: the fiscal year that ended the day before is due on its own date.
    assert [d[3] for d in dues("2024-04-01", "2025-04-01")] == ["2025-05-31", "2025-06-01"]
    assert (fiscal_year_of(date(2024, 3, 31)), fiscal_year_of(date(2024, 4, 1))) == (2023, 2024)


def caa_rows(engine, config, today: date) -> list[dict]:
    with session_factory(engine)() as s:
        return [r for r in reports.deadlines(s, config, today=today) if r["jgn"] == CAA]


def test_missing_datasets_at_each_due_date(project):
    config, engine, tmp_path = project
    rows = caa_rows(engine, config, date(2024, 6, 1))
    missing = "D-m5 別名 5; 「共通名」; D-m9 データ m9; D-m10 データ m10"
    assert [(r["deadline"], r["what"], r["datasets_due"], r["datasets_missing"], r["missing"], r["state"],
             r["days_left"]) for r in rows] == [
        ("2023-05-31", "metadata", 10, 4, missing, "overdue", -367),
        ("2024-05-31", "metadata", 10, 4, missing, "overdue", -1),
        ("2025-05-31", "metadata and counts", 10, 4, missing, "open", 364),
    ]
    assert {r["origin"] for r in rows} == {"dmp"}  # the period the DMP gave

    # Version 2 (dated in fiscal year 2023) keeps D-m9 and adds D-new: D-new is not due for fiscal year 2022.
    # (D-private's metadata is 非共有: never due, §6.)
    datasets = [{"number": "D-m9", "name": "データ m9"}, {"number": "D-new", "name": "新しいデータ"},
                {"number": "D-m1", "name": "データ m1"},
                {"number": "D-private", "name": "非公開データ", "metadata_disclosure": "非共有"}]
    versions.import_file(session_factory(engine), write_dmp(tmp_path / "v2.xlsx", CAA, datasets,
                                                            dmp_date="2023-10-01"), now=datetime(2023, 10, 1, 9))
    rows = caa_rows(engine, config, date(2024, 6, 1))
    assert [(r["deadline"], r["datasets_due"], r["datasets_missing"], r["missing"], r["state"]) for r in rows] == [
        ("2023-05-31", 2, 1, "D-m9 データ m9", "overdue"),
        ("2024-05-31", 3, 2, "D-m9 データ m9; D-new 新しいデータ", "overdue"),
        ("2025-05-31", 3, 2, "D-m9 データ m9; D-new 新しいデータ", "open"),
    ]

    # The command line lists the same rows, overdue first.
    out = json.loads(invoke(config, "report", "deadlines", "--today", "2024-06-01", "--format", "json"))
    assert [(r["deadline"], r["state"]) for r in out if r["jgn"] == CAA] == [
        (r["deadline"], r["state"]) for r in caa_rows(engine, config, date(2024, 6, 1))]
    states = [r["state"] for r in out]
    assert states[:2] == ["overdue", "overdue"] and "overdue" not in states[2:]

    # Once every declared dataset is held, nothing is missing at any date: each row is registered.
    versions.import_file(session_factory(engine), write_dmp(tmp_path / "v3.xlsx", CAA, datasets[2:],
                                                            dmp_date="2024-01-01"), now=datetime(2024, 1, 1, 9))
    rows = caa_rows(engine, config, date(2025, 6, 1))
    assert [(r["datasets_due"], r["datasets_missing"], r["state"], r["registered"]) for r in rows] == [
        (1, 0, "registered", True)] * 3

