"""Metadata spreadsheets in the common-item layout (.xlsx or .csv), as researchers fill them in.

Columns are recognised by their header (Japanese, English or a listed alias; mappings/commonitems/columns.toml), never
by position.  CSV may be UTF-8 with or without a byte-order mark, or Shift_JIS / CP932 as Japanese Excel writes it.
The whole input is read and every row resolved before anything is handed to the runner, in ONE page (one transaction).

A file that cannot be read at all (not a workbook, an unsafe archive, a broken encoding, no header row, unknown or
duplicated columns) is an `InputError`: the import stops and nothing stored changes.  A row that cannot be read is
*held*: it becomes a record like the others, its unreadable values left out and a ``<ci:problem>`` for each of them in
its raw document (gateway.commonitems), which the pipeline turns into error findings, so the record is quarantined:
stored, counted in its project, shown by `gateway quarantine`, never published.  The other rows import normally.

Identity: `<Japan Grant Number>/<data number>`, so the same row re-imported (from a sheet, or from a GakuNin RDM export
of the same project) is the same record.  A held row without a readable identity is `unreadable:<file>#row<N>`; the
second row with an identity already used is `duplicate:<file>#row<N>` (the first keeps it).  The input is a complete
snapshot: a record no longer in it is deleted.
"""

from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from gateway import commonitems
from gateway.config import SourceConfig
from gateway.harvest.records import HarvestedRecord, HarvestError, Page
from gateway.harvest.safezip import UnsafeArchive, check_archive

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
SHEET_SUFFIXES = (".xlsx", ".csv")
WARNED_PROBLEMS = 20  # problems of held rows named in a run's warnings; the rest are in `gateway quarantine`


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


def entries_from_rows(rows: list[list[str]], what: str) -> list[tuple[int, dict[str, Any], list[commonitems.Problem]]]:
    """(row number, entry, problems reading its cells) for each non-empty row under the header row (row numbers as a
    spreadsheet shows them); a header that is not the layout is an `InputError` naming `what`."""
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
        problems: list[commonitems.Problem] = []
        extra = [c for i, c in enumerate(row) if i not in header and (c or "").strip()]
        if extra and len(row) > len(rows[0]):
            problems.append(
                commonitems.Problem(
                    None,
                    ", ".join(str(c) for c in extra[:3]),
                    f"the row has {len(row)} cells under {len(rows[0])} headers",
                    "no values to the right of the last header (a cell with a comma or a line break must be quoted)",
                )
            )
        cells = {column.key: (row[i] if i < len(row) else "") for i, column in header.items()}
        out.append((number, commonitems.entry_from_cells(cells, problems), problems))
    return out


def file_label(name: str, root: Path | None = None) -> str:
    """How a file is named in problems and fallback identities: its path below the source's folder, else its name
    (so that moving the folder does not change them)."""
    if root is not None:
        try:
            return Path(name).relative_to(root).as_posix()
        except ValueError:
            pass
    return PurePosixPath(name.split("?", 1)[0].replace("\\", "/")).name or name


# ---------------------------------------------------------------------------------------------------------- records


@dataclass
class Located:
    """One row (or file entry of a GakuNin RDM export) resolved, with where it was and the identity it gets."""

    file: str  # the file's label (`file_label`)
    resolved: commonitems.Resolved
    identifier: str
    row: int | None = None  # a spreadsheet row
    entry: str | None = None  # a place in a JSON export: "grdm-files[2]", "@graph[5] (./a.csv)"

    @property
    def where(self) -> str:
        return f"{self.file}: row {self.row}" if self.row is not None else f"{self.file}: {self.entry}"

    @property
    def project(self) -> str | None:
        return self.resolved.project

    @property
    def held(self) -> bool:
        return bool(self.resolved.problems)

    def fallback(self, kind: str) -> str:
        """A stable identity from the place alone, for a row whose own identity cannot be used."""
        return f"{kind}:{self.file}#" + (f"row{self.row}" if self.row is not None else str(self.entry))

    def hold(self, problem: commonitems.Problem, identifier: str | None = None) -> None:
        self.resolved.problems.append(problem.located(file=self.file, row=self.row, entry=self.entry))
        if identifier:
            self.identifier = identifier
            self.resolved.document.set("identifier", identifier)

    def record(self) -> HarvestedRecord:
        return HarvestedRecord(
            identifier=self.identifier,
            raw=self.resolved.raw(),
            prefix="jpcoar_2.0",
            disclosure=self.resolved.disclosure,
            private=dict(self.resolved.private),
        )


def locate(
    entry: dict[str, Any],
    *,
    file: str,
    row: int | None = None,
    at: str | None = None,
    path: str | None = None,
    problems: list[commonitems.Problem] | None = None,
    identify: bool = True,
) -> Located:
    """Resolve one entry; identity: project + data number, else project + file path (`path`), else a fallback.

    Nothing here raises for a bad value: problems (those given, from reading the cells, and those of resolving) are
    located in `file` at `row` or `at`, and carried by the record.  A missing identity is a problem of its own unless
    `identify` is false (the entry as a whole is already held as unreadable).
    """
    resolved = commonitems.resolve(entry, problems=problems)
    located = Located(file=file, resolved=resolved, identifier="", row=row, entry=at)
    resolved.problems[:] = [p.located(file=file, row=row, entry=at) for p in resolved.problems]
    project = resolved.project
    if project and resolved.data_number:
        identifier = f"{project}/{resolved.data_number}"
    elif project and path:
        identifier = f"{project}/file:{path.lstrip('/')}"
    else:
        identifier = located.fallback("unreadable")
        if identify and not project:
            located.hold(
                commonitems.Problem(
                    "jgn",
                    "",
                    "the cell is empty",
                    "the Japan Grant Number (体系的番号) of the project the data belongs to",
                )
            )
        if identify and not resolved.data_number and not path:
            located.hold(
                commonitems.Problem(
                    "data_number",
                    "",
                    "the cell is empty",
                    "a data number (データNo.) that identifies the data in its project",
                )
            )
    located.identifier = identifier
    resolved.document.set("identifier", identifier)
    return located


def hold_duplicates(located: list[Located]) -> list[Located]:
    """The second row with an identity already used is held under a fallback identity (the first keeps it), so that
    neither replaces the other and both are seen."""
    seen: dict[str, Located] = {}
    for item in located:
        first = seen.get(item.identifier)
        if first is None:
            seen[item.identifier] = item
            continue
        number = item.resolved.data_number
        item.hold(
            commonitems.Problem(
                "data_number" if number else None,
                number or item.identifier,
                f"appears twice: record {item.identifier} is also at {first.where}",
                "a data number used once in its project",
            ),
            identifier=item.fallback("duplicate"),
        )
        seen[item.identifier] = item
    return located


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

    def label(self, name: str) -> str:
        root = Path(self.source.path) if self.source.path and not self.source.url else None
        return file_label(name, root if root is not None and root.is_dir() else None)

    def located_records(self) -> list[Located]:
        """Every row or entry of the source, resolved (held ones included)."""
        raise NotImplementedError

    def pages(self) -> Iterator[Page]:
        located = hold_duplicates(self.located_records())
        held = [item for item in located if item.held]
        warnings = []
        if held:
            # the run (and the dashboard's source test) says what was held and why; `gateway quarantine` lists all
            warnings.append(f"{len(held)} row(s) held with errors (gateway quarantine lists them)")
            problems = [commonitems.problem_text(p.element()) for item in held for p in item.resolved.problems]
            warnings.extend(f"held: {text}" for text in problems[:WARNED_PROBLEMS])
            if len(problems) > WARNED_PROBLEMS:
                warnings.append(f"held: … and {len(problems) - WARNED_PROBLEMS} more")
        # ONE page: the runner stores a page in one transaction, so an import is applied whole or not at all
        yield Page(records=[item.record() for item in located], warnings=warnings)


class SpreadsheetHarvester(SnapshotImport):
    def located_records(self) -> list[Located]:
        out = []
        for name, data, _mtime in self.inputs(lambda p: p.suffix.lower() in SHEET_SUFFIXES):
            label = self.label(name)
            for number, entry, problems in entries_from_rows(sheet_rows(data, name), name):
                out.append(locate(entry, file=label, row=number, problems=problems))
        return out
