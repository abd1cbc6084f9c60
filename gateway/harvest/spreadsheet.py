"""Metadata spreadsheets in the common-item layout (.xlsx or .csv), as researchers fill them in.

Columns are recognised by their header (Japanese, English or a listed alias; mappings/commonitems/columns.toml), never
by position.  CSV may be UTF-8 with or without a byte-order mark, or Shift_JIS / CP932 as Japanese Excel writes it.
An import is all or nothing: the whole input is read and every row resolved before anything is handed to the runner,
in ONE page, so a bad row (named with its file, row and column) leaves every stored record as it was.

Identity: `<Japan Grant Number>/<data number>`, so the same row re-imported (from a sheet, or from a GakuNin RDM export
of the same project) is the same record.  The input is a complete snapshot: a record no longer in it is deleted.
"""

from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gateway import commonitems
from gateway.config import SourceConfig
from gateway.harvest import HarvestedRecord, HarvestError, Page
from gateway.harvest.safezip import UnsafeArchive, check_archive

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
SHEET_SUFFIXES = (".xlsx", ".csv")


class InputError(HarvestError):
    """An input that cannot be imported; the message names the file (and row and column)."""


# ---------------------------------------------------------------------------------------------------------- reading


def fetch(url: str, *, timeout: float, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The body of an http(s) URL, at most `max_bytes`."""
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{url}: only http(s) URLs can be read")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise InputError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise InputError(f"{url}: cannot be fetched: {getattr(exc, 'reason', exc)}") from None
    if len(body) > max_bytes:
        raise InputError(f"{url}: larger than {max_bytes} bytes")
    return body


def read_file(path: Path, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path}: larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def decode_csv(data: bytes, what: str) -> str:
    """CSV text: UTF-8 (with or without BOM), else CP932 (a superset of Shift_JIS, as Japanese Excel writes it)."""
    if not data.strip():
        raise InputError(f"{what}: the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{what}: not valid UTF-8 after its byte-order mark (byte {exc.start + 3})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{what}: not valid UTF-16") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise InputError(
                f"{what}: the encoding is neither UTF-8 nor Shift_JIS/CP932 (invalid byte at offset {utf8_error.start})"
            ) from None


def csv_rows(data: bytes, what: str) -> list[list[str]]:
    text = decode_csv(data, what)
    if "\x00" in text:
        raise InputError(f"{what}: contains NUL characters: not a CSV text file")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise InputError(f"{what}: not readable as CSV: {exc}") from None
    return rows


def xlsx_rows(data: bytes, what: str) -> list[list[str]]:
    """The first worksheet's cells as text (dates as YYYY-MM-DD)."""
    try:
        check_archive(data)
    except UnsafeArchive as exc:
        raise InputError(f"{what}: not a usable .xlsx workbook: {exc}") from None
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise InputError(f"{what}: not a usable .xlsx workbook: {exc.__class__.__name__}: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                raise InputError(f"{what}: more than {MAX_ROWS} rows")
        return rows
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet_rows(data: bytes, what: str) -> list[list[str]]:
    if data[:4] == b"PK\x03\x04" or what.lower().endswith(".xlsx"):
        return xlsx_rows(data, what)
    return csv_rows(data, what)


def entries_from_rows(rows: list[list[str]], what: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number, entry) for each non-empty row under the header row (row numbers as a spreadsheet shows them)."""
    rows = [r for r in rows]
    while rows and not any((c or "").strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise InputError(f"{what}: no header row")
    try:
        header = commonitems.header_map(rows[0])
    except commonitems.LayoutError as exc:
        raise InputError(f"{what}: {exc}") from None
    out = []
    for number, row in enumerate(rows[1:], 2):
        if not any((c or "").strip() for c in row):
            continue
        extra = [c for i, c in enumerate(row) if i not in header and (c or "").strip()]
        if extra and len(row) > len(rows[0]):
            raise InputError(f"{what}: row {number}: {len(row)} cells under {len(rows[0])} headers")
        cells = {column.key: (row[i] if i < len(row) else "") for i, column in header.items()}
        try:
            out.append((number, commonitems.entry_from_cells(cells)))
        except commonitems.RowError as exc:
            raise InputError(f"{what}: row {number}, column {_header(exc.column)}: {exc.message}") from None
    return out


def _header(key: str) -> str:
    for column in commonitems.columns():
        if column.key == key:
            return f"{column.ja!r} ({column.en})"
    return repr(key)


# ---------------------------------------------------------------------------------------------------------- records


def make_record(
    entry: dict[str, Any], what: str, *, project: str | None = None, path: str | None = None
) -> HarvestedRecord:
    """Resolve one entry to a harvested record; identity: project + data number, else project + file path."""
    try:
        resolved = commonitems.resolve(entry)
    except commonitems.RowError as exc:
        raise InputError(f"{what}, column {_header(exc.column)}: {exc.message}") from None
    project = resolved.project or project
    if not project:
        raise InputError(
            f"{what}, column {_header('jgn')}: the Japan Grant Number is empty (it identifies the project)"
        )
    if resolved.data_number:
        identifier = f"{project}/{resolved.data_number}"
    elif path:
        identifier = f"{project}/file:{path.lstrip('/')}"
    else:
        raise InputError(
            f"{what}, column {_header('data_number')}: the data number is empty (it identifies the record)"
        )
    resolved.document.set("identifier", identifier)
    return HarvestedRecord(
        identifier=identifier,
        raw=resolved.raw(),
        prefix="jpcoar_2.0",
        disclosure=resolved.disclosure,
        private=dict(resolved.private),
    )


class SnapshotImport:
    """Base of the spreadsheet and GakuNin RDM sources: read everything, then hand it over as one page."""

    is_snapshot = True

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        self.requests = 0
        self.retries = 0
        self.response_date: str | None = None

    def inputs(self, accept: Callable[[Path], bool]) -> list[tuple[str, bytes, float]]:
        """(name, content, modification time) of each input: the configured file, the files of a folder, or a URL."""
        if self.source.url:
            self.requests += 1
            return [(self.source.url, fetch(self.source.url, timeout=self.source.timeout), 0.0)]
        root = Path(self.source.path or ".")
        if root.is_file():
            self.requests += 1
            return [(str(root), read_file(root), root.stat().st_mtime)]
        if not root.is_dir():
            raise InputError(f"source {self.source.name}: {root} does not exist")
        found = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and accept(p))
        out = []
        for path in found:
            self.requests += 1
            out.append((str(path), read_file(path), path.stat().st_mtime))
        return out

    def located_records(self) -> list[tuple[str, HarvestedRecord]]:
        """(where, record) for every record of the source: `where` names its file and row or entry."""
        raise NotImplementedError

    def pages(self) -> Iterator[Page]:
        located = self.located_records()
        seen: dict[str, str] = {}
        for where, record in located:
            if record.identifier in seen:
                raise InputError(f"{where}: record {record.identifier} appears twice (also {seen[record.identifier]})")
            seen[record.identifier] = where
        # ONE page: the runner stores a page in one transaction, so an import is applied whole or not at all
        yield Page(records=[record for _where, record in located])


class SpreadsheetHarvester(SnapshotImport):
    def located_records(self) -> list[tuple[str, HarvestedRecord]]:
        out = []
        for name, data, _mtime in self.inputs(lambda p: p.suffix.lower() in SHEET_SUFFIXES):
            for number, entry in entries_from_rows(sheet_rows(data, name), name):
                where = f"{name}: row {number}"
                out.append((where, make_record(entry, where)))
        return out
