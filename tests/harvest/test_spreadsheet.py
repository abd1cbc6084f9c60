"""Metadata spreadsheets: .xlsx / .csv, ja / en headers, encodings, columns by header, AMED levels, bad input."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from gateway.db import session_factory
from gateway.harvest.grdm import read_export
from gateway.harvest.runner import run_harvest
from gateway.harvest.spreadsheet import InputError, SpreadsheetHarvester
from gateway.models import PublishedFormat, Record
from gateway.pipeline import map_record
from tests.conftest import make_config
from tests.support import paths

FIXTURES = paths.FIXTURES / "grdm"


def report(lang: str = "ja") -> tuple[list[str], list[list[str]]]:
    """Header and rows of the CSV report fixture: a sheet as researchers fill it in is the same layout."""
    rows = list(csv.reader(io.StringIO((FIXTURES / f"report_{lang}.csv").read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def shuffled(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    order = list(reversed(range(len(header))))
    return [header[i] for i in order], [[row[i] for i in order] for row in rows]


def canonical_of(path: Path) -> dict[str, bytes | None]:
    source = make_config("sqlite://", [{"name": "s", "kind": "spreadsheet", "path": str(path)}]).source("s")
    (page,) = list(SpreadsheetHarvester(source).pages())
    return {
        r.identifier: map_record(r.raw, prefix=r.prefix, profile="annex3", repository="R").canonical
        for r in page.records
    }


def expected() -> dict[str, bytes | None]:
    records = read_export("report_ja.csv", (FIXTURES / "report_ja.csv").read_bytes())
    return {
        r.identifier: map_record(r.raw, prefix=r.prefix, profile="annex3", repository="R").canonical for r in records
    }


@pytest.mark.parametrize(
    "kind",
    ["xlsx-ja", "xlsx-en-shuffled", "csv-utf8", "csv-utf8-bom", "csv-cp932", "csv-en-shuffled"],
)
def test_every_sheet_form_gives_the_report_records(tmp_path: Path, kind: str) -> None:
    header, rows = report("en" if "-en" in kind else "ja")
    if "shuffled" in kind:
        header, rows = shuffled(header, rows)
    if kind.startswith("xlsx"):
        path = write_xlsx(tmp_path / "sheet.xlsx", header, rows)
    else:
        encoding = {"csv-utf8-bom": "utf-8-sig", "csv-cp932": "cp932"}.get(kind, "utf-8")
        path = write_csv(tmp_path / "sheet.csv", header, rows, encoding)
    got = canonical_of(path)
    assert len(got) == 3 and all(got.values())
    assert got == expected()


def test_xlsx_date_cells_and_numbers(tmp_path: Path) -> None:
    from datetime import datetime

    header, rows = report("ja")
    date_col = header.index("掲載日・掲載更新日")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        cells: list[object] = list(row)
        cells[date_col] = datetime.fromisoformat(row[date_col])  # Excel stores dates as dates
        sheet.append(cells)
    workbook.save(tmp_path / "dates.xlsx")
    assert canonical_of(tmp_path / "dates.xlsx") == expected()


def test_amed_sharing_levels(tmp_path: Path) -> None:
    header, rows = report("ja")
    column = header.index("アクセス権")
    header[column] = "データの公開レベル"  # a sheet may name the column after AMED's levels
    levels = ["非制限公開", "制限共有", "非公開"]
    for row, level in zip(rows, levels, strict=True):
        row[column] = level
        row[header.index("公開予定日 (公開期間猶予の場合)")] = ""
    source = make_config("sqlite://", [{"name": "s", "kind": "spreadsheet", "path": str(tmp_path / "a.csv")}])
    write_csv(tmp_path / "a.csv", header, rows)
    (page,) = list(SpreadsheetHarvester(source.source("s")).pages())
    rights = [map_record(r.raw, prefix=r.prefix, profile="annex3").summary.access_right for r in page.records]
    assert rights == ["open", "restricted", "metadata-only"]


def _error(tmp_path: Path, header: list[str], rows: list[list[str]], name: str = "bad.csv") -> str:
    path = write_csv(tmp_path / name, header, rows)
    source = make_config("sqlite://", [{"name": "s", "kind": "spreadsheet", "path": str(path)}]).source("s")
    with pytest.raises(InputError) as info:
        list(SpreadsheetHarvester(source).pages())
    message = str(info.value)
    assert name in message
    return message


def test_unknown_column_is_named(tmp_path: Path) -> None:
    header, rows = report("ja")
    header[3] = "助成番号"
    message = _error(tmp_path, header, rows)
    assert "unknown column" in message and "助成番号" in message


def test_missing_required_column_is_named(tmp_path: Path) -> None:
    header, rows = report("en")
    index = header.index("Title")
    message = _error(tmp_path, header[:index] + header[index + 1 :], [r[:index] + r[index + 1 :] for r in rows])
    assert "missing required column" in message and "データの名称" in message and "Title" in message


def reading(path: Path) -> dict[str, list[dict]]:
    """Source identifier -> the findings of reading its row (empty for a good row), through the real pipeline."""
    source = make_config("sqlite://", [{"name": "s", "kind": "spreadsheet", "path": str(path)}]).source("s")
    (page,) = list(SpreadsheetHarvester(source).pages())
    findings = {r.identifier: map_record(r.raw, prefix=r.prefix, profile="annex3").findings for r in page.records}
    return {ident: [f for f in found if f["layer"] == "source"] for ident, found in findings.items()}


@pytest.mark.parametrize(
    ("header_name", "key", "value", "words"),
    [
        ("アクセス権", "access_rights", "たぶん公開", "data access right"),
        ("掲載日・掲載更新日", "date", "2025-02-30", "not a date"),
        ("データ種別", "data_type", "spreadsheet of feelings", "data type"),
        ("データの分野", "research_field", "占星術", "research field"),
        ("データ管理者の所属機関の連絡先メールアドレス", "contact_email", "not-an-address", "e-mail"),
        ("データ作成者の研究者番号", "creator_erad", "90002222;90003333;90004444;90005555", "researcher numbers"),
        ("データNo.", "data_number", "", "data number"),
    ],
)
def test_a_malformed_value_holds_its_row_naming_file_row_column_and_value(
    tmp_path: Path, header_name: str, key: str, value: str, words: str
) -> None:
    header, rows = report("ja")
    rows[1][header.index(header_name)] = value
    got = reading(write_csv(tmp_path / "bad.csv", header, rows))
    good = {ident: found for ident, found in got.items() if not found}
    assert sorted(good) == ["JPNE20240001/NE-0001", "JPNE20240001/NE-0003"]
    # without a data number the row keeps a place-based identity, so it is still held and seen
    ident = "unreadable:bad.csv#row3" if key == "data_number" else "JPNE20240001/NE-0002"
    (problem,) = got[ident]
    message = problem["message"]
    assert problem["severity"] == "error" and problem["path"] == key, problem
    assert message.startswith("bad.csv: row 3, column "), message
    assert header_name in message and words in message and "; expected " in message, message
    assert (repr(value) in message) if value else ("empty" in message), message


def test_a_duplicate_record_is_held_under_its_place(tmp_path: Path) -> None:
    header, rows = report("ja")
    got = reading(write_csv(tmp_path / "bad.csv", header, [*rows, rows[0]]))
    assert sorted(got) == [
        "JPNE20240001/NE-0001",
        "JPNE20240001/NE-0002",
        "JPNE20240001/NE-0003",
        "duplicate:bad.csv#row5",
    ]
    assert all(not found for ident, found in got.items() if ident != "duplicate:bad.csv#row5")
    (problem,) = got["duplicate:bad.csv#row5"]
    message = problem["message"]
    assert "appears twice" in message and "row 5" in message and "row 2" in message, message
    assert problem["path"] == "data_number"


@pytest.mark.parametrize("case", ["not-xlsx", "bomb", "empty", "only-blank"])
def test_broken_workbooks(tmp_path: Path, case: str) -> None:
    path = tmp_path / "sheet.xlsx"
    if case == "not-xlsx":
        path.write_bytes(b"this is a text file called .xlsx")
    elif case == "bomb":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (100 * 1024 * 1024))
        path.write_bytes(buffer.getvalue())
    elif case == "empty":
        path.write_bytes(b"")
    else:
        write_xlsx(path, [], [])
    source = make_config("sqlite://", [{"name": "s", "kind": "spreadsheet", "path": str(path)}]).source("s")
    with pytest.raises(InputError) as info:
        list(SpreadsheetHarvester(source).pages())
    assert "sheet.xlsx" in str(info.value)


def test_a_bad_row_is_held_and_the_rest_applied(engine, db_url, tmp_path: Path) -> None:
    header, rows = report("ja")
    path = write_csv(tmp_path / "sheet.csv", header, rows)
    cfg = make_config(
        db_url, [{"name": "s", "kind": "spreadsheet", "path": str(path), "metadata_disclosure": "public"}]
    )
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("s"))
    assert run.status == "succeeded" and run.records_new == 3
    with sessions() as s:
        assert {r.status for r in s.scalars(select(Record))} == {"published"}

    # the next version changes row 2's title and breaks row 4: row 2 is applied, row 4 held in quarantine
    rows[0][header.index("データの名称")] = "改題|Renamed"
    rows[2][header.index("アクセス権")] = "???"
    write_csv(path, header, rows)
    run = run_harvest(cfg, sessions, cfg.source("s"))
    assert run.status != "failed", run.message
    assert (run.records_changed, run.records_deleted) == (2, 0)
    with sessions() as s:
        records = {r.source_identifier: r for r in s.scalars(select(Record))}
        assert records["JPNE20240001/NE-0001"].title == "改題"
        assert records["JPNE20240001/NE-0001"].status == "published"
        held = records["JPNE20240001/NE-0003"]
        assert held.status == "quarantined" and held.access_right is None
        (problem,) = [f for f in held.findings if f["layer"] == "source"]
        assert "row 4" in problem["message"] and "アクセス権" in problem["message"] and "'???'" in problem["message"]
        served = {x for x in s.scalars(select(PublishedFormat.xml)) if "共同研究先提供データ".encode() in x}
        assert not served  # a held record is withdrawn from the provider until its row is fixed

    # fixed: published again; a row removed from the sheet is a deleted record
    rows[2][header.index("アクセス権")] = "open access"
    write_csv(path, header, [rows[0], rows[2]])
    run = run_harvest(cfg, sessions, cfg.source("s"))
    assert run.status == "succeeded" and (run.records_changed, run.records_deleted) == (1, 1)
    with sessions() as s:
        records = {r.source_identifier: r.status for r in s.scalars(select(Record))}
        assert records == {
            "JPNE20240001/NE-0001": "published",
            "JPNE20240001/NE-0002": "deleted",
            "JPNE20240001/NE-0003": "published",
        }
