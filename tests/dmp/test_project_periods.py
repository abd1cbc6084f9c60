"""Project periods imported from a DMP spreadsheet, and the deadlines report using them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from gateway import projects, reports
from gateway.cli import cli
from gateway.config import load
from gateway.db import session_factory
from tests.conftest import make_config
from tests.reports.test_counts_and_deadlines import CAA, JSPS, JST, harvest_all, record, write_config, write_folder

JA = ["体系的番号", "研究課題名", "資金配分機関", "プログラム名", "研究開始日", "研究終了日"]
EN = ["Japan Grant Number", "Project name", "Funder", "Program", "Start date", "End date"]


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def stored(engine) -> list[dict]:
    with session_factory(engine)() as session:
        return projects.stored(session)


def periods(engine) -> dict[str, tuple]:
    return {p["jgn"]: (p["name_ja"], p["name_en"], p["funder"], p["program"], p["start"], p["end"])
            for p in stored(engine)}


def test_import_xlsx_with_japanese_headers_and_date_cells(engine, tmp_path):
    sheet = write_xlsx(tmp_path / "dmp.xlsx", JA, [
        [CAA, "食品リスク研究|Food risk study", "消費者庁", "CA", datetime(2022, 4, 1), date(2025, 3, 31)],
        [JST, "未来研究", "科学技術振興機構", None, "2023-10-01", "2026-03-31"],
        [None, None, None, None, None, None],  # an empty row is skipped
        ["ＪＰ２２Ｈ００００１", "Basic research", None, None, "2022/4/1", "2027/3/31"],  # full width, slashes
    ])
    result = projects.import_file(session_factory(engine), sheet)
    assert (result.added, result.updated, result.unchanged) == (3, 0, 0)
    assert periods(engine) == {
        CAA: ("食品リスク研究", "Food risk study", "消費者庁", "CA", "2022-04-01", "2025-03-31"),
        JST: ("未来研究", None, "科学技術振興機構", None, "2023-10-01", "2026-03-31"),
        JSPS: (None, "Basic research", None, None, "2022-04-01", "2027-03-31"),
    }
    assert {p["origin"] for p in stored(engine)} == {"dmp"} and stored(engine)[0]["file"] == "dmp.xlsx"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932"])
def test_import_csv_in_utf8_with_and_without_bom_and_cp932(engine, tmp_path, encoding):
    header = EN if encoding != "cp932" else JA
    path = write_csv(tmp_path / "dmp.csv", header, [
        [CAA, "食品リスク研究", "消費者庁", "食品健康影響評価技術研究", "2022-04-01", "2025-03-31"],
    ], encoding)
    assert projects.import_file(session_factory(engine), path).added == 1
    assert periods(engine)[CAA] == ("食品リスク研究", None, "消費者庁", "食品健康影響評価技術研究", "2022-04-01",
                                    "2025-03-31")


def test_reimport_updates_and_keeps_the_others(engine, tmp_path):
    sessions = session_factory(engine)
    projects.import_file(sessions, write_csv(tmp_path / "a.csv", EN, [
        [CAA, "Food", "", "", "2022-04-01", "2025-03-31"],
        [JST, "Future", "", "", "2023-04-01", "2026-03-31"],
    ]))
    result = projects.import_file(sessions, write_csv(tmp_path / "b.csv", EN, [
        [CAA, "Food", "", "", "2022-04-01", "2026-03-31"],  # extended by a year
        [JST, "Future", "", "", "2023-04-01", "2026-03-31"],
        [JSPS, "Basic", "", "", "2022-04-01", "2024-03-31"],
    ]))
    assert (result.added, result.updated, result.unchanged) == (1, 1, 1)
    got = periods(engine)
    assert got[CAA][5] == "2026-03-31" and set(got) == {CAA, JST, JSPS}
    projects.import_file(sessions, write_csv(tmp_path / "c.csv", EN, [[JSPS, "Basic", "", "", "2022-04-01",
                                                                        "2024-03-31"]]))
    assert set(periods(engine)) == {CAA, JST, JSPS}  # a project not in the file is kept


GOOD = [JST, "未来研究", "", "", "2023-04-01", "2026-03-31"]


def _cli(tmp_path, db_url, *args):
    config = tmp_path / "gateway.toml"
    config.write_text('[repository]\nname = "T"\nidentifier = "gateway.test.ac.jp"\nadmin_email = ["a@b.jp"]\n',
                      encoding="utf-8")
    return CliRunner().invoke(cli, ["--config", str(config), "--database-url", db_url, "projects", *args])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ([*EN[:-1], "Colour"], ["row 1", "'Colour'", "unknown column"]),
        (EN[:-1], ["row 1", "missing required column", "'研究終了日' (End date)"]),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(engine, db_url, tmp_path, header, expected):
    sessions = session_factory(engine)
    projects.import_file(sessions, write_csv(tmp_path / "before.csv", EN, [
        [CAA, "Food", "", "", "2022-04-01", "2025-03-31"],
    ]))
    before = stored(engine)
    path = write_csv(tmp_path / "bad.csv", header, [GOOD[: len(header)]])  # a new project: it must not be stored
    with pytest.raises(projects.ProjectImportError) as err:
        projects.import_file(sessions, path)
    message = str(err.value)
    assert message.startswith(str(path)), message
    for part in expected:
        assert part in message, message
    assert stored(engine) == before

    # The command line says the same in one line, exits 1 ("failed, nothing changed"), and leaves the table as it was.
    result = _cli(tmp_path, db_url, "import", str(path))
    assert result.exit_code == 1 and expected[0] in result.output and "Traceback" not in result.output
    assert "rows imported" not in result.output
    assert stored(engine) == before


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ([JSPS, "x", "", "", "2022-04-01", "2025-02-30"], ["row 3", "column 'End date'", "'2025-02-30'", "exists"]),
        ([JSPS, "x", "", "", "2022-04-01", "31/03/2025"], ["row 3", "column 'End date'", "not a date"]),
        ([JSPS, "x", "", "", "2025-04-01", "2025-03-31"], ["row 3", "column 'End date'", "before the start"]),
        (["JP 22H00001", "x", "", "", "2022-04-01", "2025-03-31"], ["row 3", "'Japan Grant Number'", "JP 22H"]),
        (["JPCACAA123", "x", "", "", "2022-04-01", "2025-03-31"], ["row 3", "'Japan Grant Number'", "JPCACAA"]),
        (["22H00001", "x", "", "", "2022-04-01", "2025-03-31"], ["row 3", "Japan Grant Number", "'22H00001'"]),
        ([JSPS, "x", "", "", "", "2025-03-31"], ["row 3", "column 'Start date'", "empty"]),
        ([JST, "again", "", "", "2022-04-01", "2025-03-31"], ["row 3", "already in row 2"]),
        ([JSPS, "x", "", "", "2022-04-01", "2025-03-31", "extra"], ["row 3", "column 'G'", "'extra'", "header"]),
    ],
)
def test_a_bad_row_is_held_and_the_others_are_imported(engine, db_url, tmp_path, bad, expected):
    sessions = session_factory(engine)
    projects.import_file(sessions, write_csv(tmp_path / "before.csv", EN, [
        [CAA, "Food", "", "", "2022-04-01", "2025-03-31"],
    ]))
    path = write_csv(tmp_path / "dmp.csv", EN, [GOOD, bad, [JSPS if bad[0] != JSPS else "JP23K00002", "Later", "",
                                                            "", "2023-04-01", "2024-03-31"]])
    result = projects.import_file(sessions, path)
    assert (result.added, result.held_rows) == (2, 1)  # the rows before and after the bad one
    (held,) = result.held
    assert held.row == 3 and held.file == str(path) and held.expected
    message = str(held)
    assert message.startswith(f"{path}: row 3"), message
    for part in expected:
        assert part in message, message
    got = periods(engine)
    assert got[JST][5] == "2026-03-31" and CAA in got and len(got) == 3  # the held row changed nothing

    # The command line: every held row on stderr, the summary line, exit status 3 ("done, but rows were held").
    result = _cli(tmp_path, db_url, "import", str(path))
    assert result.exit_code == 3, result.output
    assert "2 rows imported, 1 held with errors" in result.output
    assert f"held: {message}" in result.output and "Traceback" not in result.output
    assert len(periods(engine)) == 3


def test_a_clean_import_exits_zero_and_says_so(engine, db_url, tmp_path):
    path = write_csv(tmp_path / "dmp.csv", EN, [GOOD])
    result = _cli(tmp_path, db_url, "import", str(path))
    assert result.exit_code == 0 and "1 rows imported, 0 held with errors" in result.output, result.output


def test_a_bad_xlsx_date_cell_names_its_row(engine, tmp_path):
    path = write_xlsx(tmp_path / "dmp.xlsx", JA, [
        [CAA, "食品", None, None, date(2022, 4, 1), date(2025, 3, 31)],
        [JST, "未来", None, None, date(2023, 4, 1), 45000],  # a number, not a date cell
    ])
    result = projects.import_file(session_factory(engine), path)
    assert result.added == 1 and [p["jgn"] for p in stored(engine)] == [CAA]
    (held,) = result.held
    assert "row 3, column '研究終了日': '45000' is not a date" in str(held)


def test_every_error_of_a_row_is_reported(engine, tmp_path):
    path = write_csv(tmp_path / "dmp.csv", EN, [["JPX", "x", "", "", "2022-13-01", "2025-02-30"]])
    result = projects.import_file(session_factory(engine), path)
    assert result.total == 0 and result.held_rows == 1
    assert [h.column for h in result.held] == ["Japan Grant Number", "Start date", "End date"]
    assert stored(engine) == []


def test_other_files_are_refused(engine, tmp_path):
    path = tmp_path / "dmp.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(projects.ProjectImportError, match=r"not a \.xlsx or \.csv"):
        projects.import_file(session_factory(engine), path)


def test_import_and_list_on_the_command_line(engine, db_url, tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[repository]\nname = "T"\nidentifier = "gateway.test.ac.jp"\nadmin_email = ["a@b.jp"]\n'
        f'[[projects]]\njgn = "{JST}"\nname = "設定"\nstart = 2023-04-01\nend = 2026-03-31\n',
        encoding="utf-8",
    )
    path = write_csv(tmp_path / "dmp.csv", JA, [
        [CAA, "食品リスク研究", "消費者庁", "CA", "2022-04-01", "2025-03-31"],
        [JST, "未来研究", "", "", "2023-04-01", "2027-03-31"],
    ], "cp932")
    base = ["--config", str(config), "--database-url", db_url, "projects"]
    result = CliRunner().invoke(cli, [*base, "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 project(s): 2 added" in result.output and f"wins for: {JST}" in result.output
    rows = json.loads(CliRunner().invoke(cli, [*base, "list", "--format", "json"]).output)
    assert [(r["jgn"], r["end"], r["config"]) for r in rows] == [(CAA, "2025-03-31", False),
                                                                 (JST, "2027-03-31", True)]
    table = CliRunner().invoke(cli, [*base, "list"]).output
    assert "食品リスク研究" in table and "2025-03-31" in table


def test_deadlines_from_stored_projects_config_precedence_and_unknown_periods(engine, db_url, tmp_path):
    write_folder(tmp_path / "a", {
        "caa": (record("caa", CAA), "public"),  # published: registered
        "jst": (record("jst", JST), "shared"),  # withheld
        "jsps": (record("jsps", JSPS), "public"),  # no period anywhere
        "other": (record("other", "JPXYZ0001"), "shared"),  # no period anywhere, nothing published
    })
    write_folder(tmp_path / "b", {})
    config_projects = f'[[projects]]\njgn = "{JST}"\nname = "設定の名前"\nstart = 2023-04-01\nend = 2025-03-31\n'
    config = load(write_config(tmp_path, config_projects), database_url=db_url)
    harvest_all(config, engine)
    sessions = session_factory(engine)
    projects.import_file(sessions, write_csv(tmp_path / "dmp.csv", EN, [
        [CAA, "食品リスク研究", "消費者庁", "CA", "2022-04-01", "2025-03-31"],
        [JST, "DMP name", "", "", "2023-04-01", "2027-03-31"],  # the configuration's period wins
        ["JPNOREC0001", "No records", "", "", "2023-04-01", "2024-12-31"],
    ]))

    with sessions() as s:
        rows = reports.deadlines(s, config, today=date(2025, 6, 1))
    by_jgn = {r["jgn"]: r for r in rows}
    caa = by_jgn[CAA]
    assert (caa["origin"], caa["end"], caa["deadline"], caa["state"], caa["records_held"], caa["funder"]) == (
        "dmp", "2025-03-31", "2025-05-31", "registered", 1, "消費者庁")
    jst = by_jgn[JST]
    assert (jst["origin"], jst["name"], jst["end"], jst["days_left"], jst["state"]) == (
        "config", "設定の名前", "2025-03-31", -1, "overdue")
    assert (by_jgn["JPNOREC0001"]["records_held"], by_jgn["JPNOREC0001"]["state"]) == (0, "overdue")
    unknown = [r for r in rows if r["state"] == reports.PERIOD_UNKNOWN]
    assert [r["jgn"] for r in unknown] == sorted([JSPS, "JPXYZ0001"]) and rows[-2:] == unknown  # listed last
    jsps = by_jgn[JSPS]
    assert (jsps["start"], jsps["end"], jsps["deadline"], jsps["days_left"], jsps["origin"]) == (None,) * 5
    assert (jsps["records_held"], jsps["records_published"], jsps["registered"], jsps["name"]) == (
        1, 1, True, "基盤研究")
    assert by_jgn["JPXYZ0001"]["registered"] is False
    # Every key the report had before is still there.
    assert set(caa) == set(jsps) >= {"jgn", "name", "funder", "program", "start", "end", "deadline", "days_left",
                                     "records_held", "records_published", "registered", "state"}

    # Without [[projects]], the stored period is used for JST; the writers cope with the empty dates.
    with sessions() as s:
        plain = {r["jgn"]: r for r in reports.deadlines(s, make_config(db_url), today=date(2025, 6, 1))}
    assert (plain[JST]["origin"], plain[JST]["end"], plain[JST]["state"]) == ("dmp", "2027-03-31", "open")
    for fmt in ("table", "csv", "json", "xlsx"):
        out = tmp_path / f"deadlines.{fmt}"
        with out.open("wb") as fh:
            reports.write_deadlines(rows, fmt, fh)
        assert out.stat().st_size > 0
    assert "period unknown" in (tmp_path / "deadlines.table").read_text(encoding="utf-8")
