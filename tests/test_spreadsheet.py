"""Metadata spreadsheets: .xlsx / .csv, ja / en headers, encodings, columns by header, AMED levels, bad input."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from gateway.db import session_factory
from gateway.harvest.grdm import read_export
from gateway.harvest.runner import run_harvest
from gateway.harvest.spreadsheet import InputError, SpreadsheetHarvester
from gateway.models import PublishedFormat, Record
from gateway.pipeline import map_record
from tests.conftest import make_config

FIXTURES = Path(__file__).parent / "fixtures" / "grdm"


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


@pytest.mark.parametrize(
    ("header_name", "value", "words"),
    [
        ("アクセス権", "たぶん公開", "たぶん公開"),
        ("掲載日・掲載更新日", "2025-02-30", "not a date"),
        ("データ種別", "spreadsheet of feelings", "data type"),
        ("データの分野", "占星術", "research field"),
        ("データ管理者の所属機関の連絡先メールアドレス", "not-an-address", "e-mail"),
        ("データ作成者の研究者番号", "90002222;90003333;90004444;90005555", "researcher numbers"),
        ("データNo.", "", "data number"),
    ],
)
def test_malformed_value_names_file_row_and_column(tmp_path: Path, header_name: str, value: str, words: str) -> None:
    header, rows = report("ja")
    rows[1][header.index(header_name)] = value
    message = _error(tmp_path, header, rows)
    assert "row 3" in message and header_name in message and words in message, message


def test_duplicate_record_is_an_error(tmp_path: Path) -> None:
    header, rows = report("ja")
    message = _error(tmp_path, header, [*rows, rows[0]])
    assert "appears twice" in message and "row 5" in message and "row 2" in message


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


def test_a_bad_row_loses_nothing_stored(engine, db_url, tmp_path: Path) -> None:
    header, rows = report("ja")
    path = write_csv(tmp_path / "sheet.csv", header, rows)
    cfg = make_config(
        db_url, [{"name": "s", "kind": "spreadsheet", "path": str(path), "metadata_disclosure": "public"}]
    )
    sessions = session_factory(engine)
    run = run_harvest(cfg, sessions, cfg.source("s"))
    assert run.status == "succeeded" and run.records_new == 3
    with sessions() as s:
        before = {r.source_identifier: (r.raw_hash, r.status, r.updated_at) for r in s.scalars(select(Record))}
        served = s.scalar(select(func.count()).select_from(PublishedFormat))
    assert {status for _h, status, _u in before.values()} == {"published"}

    # the next version changes row 2's title and breaks row 4: nothing of it may be applied
    rows[0][header.index("データの名称")] = "改題|Renamed"
    rows[2][header.index("アクセス権")] = "???"
    write_csv(path, header, rows)
    run = run_harvest(cfg, sessions, cfg.source("s"))
    assert run.status == "failed" and "row 4" in run.message and "アクセス権" in run.message
    with sessions() as s:
        assert {r.source_identifier: (r.raw_hash, r.status, r.updated_at) for r in s.scalars(select(Record))} == before
        assert s.scalar(select(func.count()).select_from(PublishedFormat)) == served

    # fixed: applied whole; a row removed from the sheet is a deleted record
    rows[2][header.index("アクセス権")] = "open access"
    write_csv(path, header, rows[:2] + rows[3:])
    run = run_harvest(cfg, sessions, cfg.source("s"))
    assert run.status == "succeeded" and (run.records_changed, run.records_deleted) == (1, 1)
