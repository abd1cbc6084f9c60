"""Writing any report's rows: an aligned terminal table, CSV, JSON or an `.xlsx` workbook.

A report gives plain rows (dicts) and its `Column`s; `render` does the rest, so every report is written the same way
by the command line (`gateway report ...`) and the dashboard's downloads. CSV is UTF-8 with a BOM, which Japanese
Excel needs to read the file as UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from gateway.reports.common import ReportError, parse_date

FORMATS = ("table", "csv", "json", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | int | date | bool
    in_table: bool = True  # shown in the terminal table too (wide name columns are left to the files)


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: str,
    out: IO[bytes],
    *,
    sheet: str = "report",
    bold_last: bool = False,
) -> None:
    """Write rows in one of FORMATS to a binary stream (a file, sys.stdout.buffer or a BytesIO)."""
    if fmt == "json":
        out.write(json.dumps(list(rows), ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    elif fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow([c.header for c in columns])
        for r in rows:
            writer.writerow([_plain(r.get(c.key), c) for c in columns])
        out.write(text.getvalue().encode("utf-8-sig"))
    elif fmt == "table":
        out.write(_table([c for c in columns if c.in_table], rows).encode("utf-8"))
    elif fmt == "xlsx":
        _xlsx(rows, columns, out, sheet=sheet, bold_last=bold_last)
    else:
        raise ReportError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")


def _plain(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == "bool":
        return "yes" if value else "no"
    return str(value)


def display_width(text: str) -> int:
    """The terminal cells `text` takes: East Asian wide characters take two, so Japanese names keep the alignment."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def _table(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing to report)\n"
    cells = [[_plain(r.get(c.key), c) for c in columns] for r in rows]
    widths = [max([display_width(c.header)] + [display_width(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [c.kind == "int" for c in columns]
    lines = [
        "  ".join(_pad(c.header, w, n) for c, w, n in zip(columns, widths, numeric, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    for row in cells:
        lines.append("  ".join(_pad(v, w, n) for v, w, n in zip(row, widths, numeric, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _xlsx(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], out: IO[bytes], *, sheet: str, bold_last: bool
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([c.header for c in columns])
    for r in rows:
        ws.append([_cell(r.get(c.key), c) for c in columns])
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    if bold_last and rows:
        for cell in ws[ws.max_row]:
            cell.font = bold
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        if column.kind == "date":
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd"
        longest = max([display_width(column.header)] + [display_width(_plain(r.get(column.key), column)) for r in rows])
        ws.column_dimensions[letter].width = min(max(longest + 2, 8), 60)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{ws.max_row}"
    book.save(out)


def _cell(value: Any, column: Column) -> Any:
    """Numbers stay numbers and ISO dates become date cells, so the sheet sums and sorts as people expect."""
    if value is None:
        return None
    if column.kind == "date" and isinstance(value, str):
        parsed = parse_date(value)
        return parsed if parsed is not None and len(value.strip()) == 10 else value
    if column.kind == "bool":
        return "yes" if value else "no"
    return value
