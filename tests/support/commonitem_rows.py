"""A project's rows in the common-item layout, written in every form GakuNin RDM exports and spreadsheets come in.

Six good rows of one project (JGN) in the guideline's, GakuNin RDM's and AMED's wordings of the data access rights
(WORDINGS, one set per form; every set means 2 open / 2 restricted / 1 metadata only / 1 embargoed: EXPECTED), two
rows that cannot be read (`bad_rows`), and writers for the CSV report (ja/en, any encoding), the .xlsx workbook and
the raw bytes of a report.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

from gateway import commonitems
from tests.support.paths import FIXTURES

#: the Japan Grant Number of the project of the report fixture (tests/fixtures/grdm/report_ja.csv)
JGN = "JPNE20240001"

# The six rows' data access rights, one set of wordings per form, each as the guideline (Annex 1/3 and the counting
# instructions), GakuNin RDM (its 公開|open access labels) or AMED's DMP (its six sharing choices) spells it.  Every
# form means the same: open, open, restricted, restricted, metadata only, embargoed.
WORDINGS = {
    "report-ja": ["公開", "非制限公開", "共有", "制限公開", "非共有・非公開", "公開期間猶予"],
    "report-en": [
        "open access",
        "公開 (open access)",
        "restricted access",
        "制限共有（外部関係者と共有）",
        "非公開・非共有",
        "公開猶予",
    ],
    "cp932-crlf": [
        "公開",
        "非制限公開",
        "共有",
        "制限共有（内部関係者と共有）",
        "非公開",
        "公開期間猶予 (embargoed access)",
    ],
    "utf8-bom": [
        "公開|open access",
        "ｵｰﾌﾟﾝｱｸｾｽ",
        "共有|restricted access",
        "【制限共有】",
        "非共有・非公開 (metadata only access)",
        "公開猶予",
    ],
    "xlsx": ["公開", "非制限公開", "共有", "制限公開", "非公開／非共有", "公開期間猶予"],
}
EXPECTED = {"open": 2, "restricted": 2, "metadata_only": 1, "embargoed": 1, "unknown": 0}


def template() -> dict[str, str]:
    """A complete, valid row (column key -> cell): the first row of the GakuNin RDM report fixture."""
    rows = list(csv.reader(io.StringIO((FIXTURES / "grdm" / "report_ja.csv").read_text(encoding="utf-8"), newline="")))
    by_position = commonitems.header_map(rows[0])
    return {column.key: rows[1][i] for i, column in by_position.items()}


def project_rows(wordings: list[str]) -> list[dict[str, str]]:
    out = []
    for number, wording in enumerate(wordings, 1):
        row = template()
        row["data_number"] = f"HR-{number:02d}"
        row["title"] = f"保留試験データ{number}|Held-row test data {number}"
        row["repository_url"] = f"https://doi.org/10.99999/held.{number:02d}"
        row["access_rights"] = wording
        row["available_date"] = "2030-04-01" if number == 6 else ""  # the embargoed row says when it opens
        out.append(row)
    return out


def bad_rows() -> list[dict[str, str]]:
    """Two rows that cannot be read: an access right that is no access right, and a day that does not exist."""
    undecided, bad_date = project_rows(["その他（未定など）", "共有"])
    undecided["data_number"], undecided["title"] = "HR-07", "未定データ|Undecided data"
    bad_date["data_number"], bad_date["title"] = "HR-08", "日付誤りデータ|Wrong date data"
    bad_date["date"] = "2024-02-30"
    return [undecided, bad_date]


def write_report(
    path: Path, rows: list[dict[str, str]], *, lang: str = "ja", encoding: str = "utf-8", newline: str = "\r\n"
) -> Path:
    """A CSV report as GakuNin RDM writes it: the 30 report columns (no metadata access column)."""
    columns = commonitems.columns(include_optional=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator=newline)
    writer.writerow([c.header(lang) for c in columns])
    for row in rows:
        writer.writerow([row.get(c.key, "") for c in columns])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_workbook(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = commonitems.columns(include_optional=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([c.ja for c in columns])
    for row in rows:
        sheet.append([row.get(c.key, "") for c in columns])
    book.save(path)
    return path


def write_form(form: str, folder: Path, rows: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if form == "report-ja":
        return write_report(folder / "report.csv", rows)
    if form == "report-en":
        return write_report(folder / "report.csv", rows, lang="en")
    if form == "cp932-crlf":
        path = write_report(folder / "report.csv", rows, encoding="cp932")
        assert b"\r\n" in path.read_bytes() and b"\xef\xbb\xbf" not in path.read_bytes()
        return path
    if form == "utf8-bom":
        return write_report(folder / "report.csv", rows, encoding="utf-8-sig")
    if form == "xlsx":
        return write_workbook(folder / "sheet.xlsx", rows)
    raise AssertionError(form)


def report_bytes(rows: list[dict[str, str]]) -> bytes:
    """A CSV report in memory: Japanese headers, CRLF, UTF-8."""
    columns = commonitems.columns(include_optional=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.ja for c in columns])
    writer.writerows([row.get(c.key, "") for c in columns] for row in rows)
    return buffer.getvalue().encode("utf-8")
