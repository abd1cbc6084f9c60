"""A DMP file read whole into its projects and datasets, every row checked, before anything is stored.

Three shapes are read, told apart by where the item labels are (mappings/dmp/columns.toml):

- the food-safety sample form (別紙2): the project's lines ("研究期間：…", or a label and its value in two cells)
  above a table with one row per dataset, 改訂履歴 below it;
- AMED's form: the items down one column, one column per dataset to the right (rows of データ関連人材 and 公表の可否
  may repeat, one pair per person), the project's items in the same column with their value beside them;
- a plain table with one row per dataset, or per project (a sheet of project periods: `gateway projects import`),
  that repeats the project's columns on every row.

A row (or, in AMED's form, a dataset's column) with a value that cannot be read is *held*: reported with its file,
row, column, value and what is expected, and not imported; the rest is. A file that cannot be read at all — not a
workbook, a broken encoding, no item labels, an unknown or duplicated column, a project line that cannot be read, a
required item given nowhere — raises `DmpImportError` and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gateway.commonitems import split_pair
from gateway.dmp import layout, values
from gateway.dmp.keys import normal_number, normal_title, pids_in

SUFFIXES = (".xlsx", ".csv")
_REVISIONS = ("改訂履歴", "revisionhistory", "変更履歴")


class DmpImportError(ValueError):
    """A file that cannot be imported; the message names the file, and the row and column when there is one."""


@dataclass(frozen=True)
class HeldRow:
    """A row of a DMP that was not imported, and why: `column` is the header as the file writes it (or a letter)."""

    file: str
    row: int
    column: str | None
    value: str
    message: str  # what is wrong with `value` ("is not a date"), or a sentence of its own when `value` is empty
    expected: str

    def __str__(self) -> str:
        where = f"{self.file}: row {self.row}" + (f", column {self.column!r}" if self.column else "")
        said = f"{self.value!r} {self.message}" if self.value else self.message
        return f"{where}: {said}; expected {self.expected}"


@dataclass
class Dataset:
    where: str  # "row 7", "column D"
    key: str
    number: str | None
    name: str
    items: dict[str, str]  # every dataset cell, by item key, as written
    metadata_disclosure: str | None = None
    access_right: str | None = None
    sharing: str | None = None
    planned_date: date | None = None
    staff: list[dict[str, Any]] = field(default_factory=list)
    pids: list[str] = field(default_factory=list)


@dataclass
class Project:
    jgn: str
    name_ja: str | None
    name_en: str | None
    start: date
    end: date
    program: str | None = None
    funder: str | None = None
    dmp_date: date | None = None
    investigator: dict[str, str] = field(default_factory=dict)
    private: dict[str, str] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    #: datasets whose row (AMED: column) is held, by key: the version before's dataset stands for them (versions)
    held_keys: list[str] = field(default_factory=list)


@dataclass
class DmpFile:
    projects: list[Project]
    held: list[HeldRow]
    layout: str  # table | form | projects
    declares_datasets: bool


def _letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position + 1)


def _text(cell: Any) -> str:
    return ("" if cell is None else str(cell)).strip()


# --- the project's items -------------------------------------------------------------------------------------------


def _project_value(item: layout.Item, raw: str, into: dict[str, Any]) -> None:
    """Read one project item into `into` (raises ValueProblem)."""
    if item.kind == "jgn":
        into["jgn"] = values.read_jgn(raw)
    elif item.kind == "project_name":
        ja, en, jgn = values.read_project_name(raw)
        into["name_ja"], into["name_en"] = ja or None, en or None
        if jgn:
            into.setdefault("jgn_of_name", jgn)
    elif item.kind == "period":
        into["start"], into["end"] = values.read_period(raw)
    elif item.kind == "date":
        into[item.key] = values.read_date(raw)
    elif item.kind == "bilingual":
        into[item.key] = split_pair(raw)
    else:
        into["name_en_column" if item.key == "name_en" else item.key] = raw


_INLINE = re.compile(r"^(?P<label>[^:：]{1,60})[:：]\s*(?P<value>.*)$")


def _line_items(row: list[str]) -> list[tuple[layout.Item, str, int]]:
    """(item, value, position) of a project line: "label：value" in one cell, or a label and the cells after it."""
    out: list[tuple[layout.Item, str, int]] = []
    cells = [_text(c) for c in row]
    position = 0
    while position < len(cells):
        cell = cells[position]
        item = layout.lookup(cell) if cell else None
        if item is not None and item.level == layout.PROJECT:
            rest = []
            position += 1
            while position < len(cells) and not (cells[position] and layout.lookup(cells[position])):
                if cells[position]:
                    rest.append(cells[position])
                position += 1
            out.append((item, " ".join(rest), position))
            continue
        found = _INLINE.match(cell) if cell else None
        if found:
            inline = layout.lookup(found.group("label"))
            if inline is not None and inline.level == layout.PROJECT:
                out.append((inline, found.group("value").strip(), position))
        position += 1
    return out


def _read_lines(what: str, lines: list[tuple[int, list[str]]]) -> tuple[dict[str, Any], dict[str, int]]:
    """The project's items given on lines of their own; one that cannot be read makes the file unreadable."""
    found: dict[str, Any] = {}
    where: dict[str, int] = {}
    for number, row in lines:
        for item, raw, _ in _line_items(row):
            if not raw:
                continue
            try:
                _project_value(item, raw, found)
            except values.ValueProblem as exc:
                raise DmpImportError(
                    f"{what}: row {number}, {item.ja!r}: {raw!r} {exc.message}; expected {exc.expected}"
                ) from None
            where[item.key] = number
    return found, where


# --- the datasets ------------------------------------------------------------------------------------------------


def _dataset(where: str, cells: dict[str, tuple[str, str]], problems: list[tuple[str, str, values.ValueProblem]]):
    """A dataset from its cells (item key -> (label as written, value)); problems are appended, not raised."""
    items = {key: value for key, (_, value) in cells.items() if value}
    ds = Dataset(where=where, key="", number=None, name="", items=items)

    def read(key: str, reader: Any) -> Any:
        label, raw = cells.get(key, ("", ""))
        if not raw:
            return None
        try:
            return reader(raw)
        except values.ValueProblem as exc:
            problems.append((label, raw, exc))
            return None

    name = items.get("name", "")
    if not name:
        label = cells.get("name", (layout.by_key(layout.DATASET)["name"].ja, ""))[0]
        expected = "the dataset's name (管理対象データ名称)"
        problems.append((label, "", values.ValueProblem("the cell is empty", expected)))
    ja, en = split_pair(name)
    ds.name = ja or en
    number = values.nfkc(items.get("number", "")) or None
    ds.number = number
    ds.key = normal_number(number) if number else "title:" + normal_title(ds.name)
    ds.metadata_disclosure = read("metadata_disclosure", values.read_disclosure)
    ds.access_right = read("data_access", values.read_access)
    ds.sharing = read("sharing", values.read_sharing)
    if ds.access_right is None and ds.sharing:
        ds.access_right = values.sharing_info(ds.sharing).get("access")
    ds.planned_date = read("planned_date", values.read_date)
    staff_label, staff_raw = cells.get("staff", ("", ""))
    consent_raw = cells.get("staff_consent", ("", ""))[1]
    if staff_raw or consent_raw:
        try:
            ds.staff = values.read_staff(staff_raw, consent_raw)
        except values.ValueProblem as exc:
            problems.append((cells.get("staff_consent", (staff_label, ""))[0] or staff_label, consent_raw, exc))
    for key in ("location", "repository", "identifier"):
        ds.pids.extend(p for p in pids_in(items.get(key, "")) if p not in ds.pids)
    return ds


# --- the shapes ----------------------------------------------------------------------------------------------------


def _header_row(rows: list[list[str]]) -> int | None:
    """The index of the first row that is a table's header: more item labels than other cells, at least two."""
    for index, row in enumerate(rows):
        cells = [_text(c) for c in row if _text(c)]
        known = [c for c in cells if layout.lookup(c) is not None]
        others = [c for c in cells if layout.lookup(c) is None and not layout.ignored(c)]
        if len(known) >= 2 and len(known) > len(others):
            return index
    return None


def _label_column(rows: list[list[str]]) -> int | None:
    """AMED's form: the column holding at least two dataset item labels."""
    widest = max((len(r) for r in rows), default=0)
    for column in range(widest):
        labels = [r[column] for r in rows if column < len(r) and _text(r[column])]
        found = [lab for lab in labels if (item := layout.lookup(lab)) is not None and item.level == layout.DATASET]
        if len(found) >= 2:
            return column
    return None


def _needed(item: layout.Item) -> bool:
    return item.required or item.key in ("start", "end", "period")


def _given(key: str, lines: dict[str, Any]) -> bool:
    """Whether the project's lines give what an empty column of this item would."""
    wanted = {"jgn": ("jgn", "jgn_of_name"), "name": ("name_ja", "name_en"), "period": ("start",)}
    return any(k in lines for k in wanted.get(key, (key,)))


class _Reader:
    def __init__(self, what: str, rows: list[list[str]]) -> None:
        self.what = what
        self.rows = rows
        self.held: list[HeldRow] = []
        self.revisions: list[str] = []
        # item key -> the header as the file writes it, per level (both levels have a "name")
        self.header_text: dict[str, str] = {}
        self.dataset_text: dict[str, str] = {}
        self.held_datasets: list[tuple[dict[str, Any], str]] = []  # (the row's project values, the dataset's key)

    def hold(self, row: int, column: str | None, value: str, message: str, expected: str) -> None:
        self.held.append(HeldRow(self.what, row, column, value, message, expected))

    # A table: the header's columns, then one row per dataset (or project)
    def table(self, header_index: int) -> tuple[list[tuple[int, dict[str, Any], Dataset | None]], dict[str, Any]]:
        header = [_text(c) for c in self.rows[header_index]]
        columns: dict[int, tuple[layout.Item, str]] = {}
        unknown: list[str] = []
        for position, text in enumerate(header):
            if not text or layout.ignored(text):
                continue
            item = layout.lookup(text)
            if item is None:
                unknown.append(f"{text!r} (column {_letter(position)})")
                continue
            seen = self.header_text if item.level == layout.PROJECT else self.dataset_text
            if item.key in seen:
                raise DmpImportError(
                    f"{self.what}: row {header_index + 1}, column {text!r}: appears twice "
                    f"(also as {seen[item.key]!r})"
                )
            seen[item.key] = text
            columns[position] = (item, text)
        if unknown:
            raise DmpImportError(
                f"{self.what}: row {header_index + 1}: unknown column(s) {', '.join(unknown)}; known: "
                + layout.known_labels(layout.PROJECT) + "; " + layout.known_labels(layout.DATASET)
                + " (list other columns under `ignore` in mappings/dmp/columns.toml)"
            )
        lines, _ = _read_lines(self.what, list(enumerate(self.rows[:header_index], 1)))
        out = []
        last = max((i for i, t in enumerate(header) if t), default=-1)
        for index in range(header_index + 1, len(self.rows)):
            row = [_text(c) for c in self.rows[index]]
            number = index + 1
            first = next((c for c in row if c), "")
            if first and any(layout.label_form(first).startswith(mark) for mark in _REVISIONS):
                rest = [" ".join(c for c in r if _text(c)) for r in self.rows[index:]]
                inline = _INLINE.match(first)
                self.revisions = [t for t in ([inline.group("value")] if inline else []) + rest[1:] if t.strip()]
                break
            extra = [i for i in range(last + 1, len(row)) if row[i]]
            if not first or not (extra or any(p < len(row) and row[p] for p in columns)):
                continue  # an empty row, or one numbered in the form's unlabelled column and left blank ("3", "...")
            project: dict[str, Any] = {}
            cells: dict[str, tuple[str, str]] = {}
            problems: list[tuple[str, str, values.ValueProblem]] = []
            for position, (item, text) in columns.items():
                raw = row[position] if position < len(row) else ""
                if item.level == layout.DATASET:
                    cells[item.key] = (text, raw)
                elif not raw:
                    if _needed(item) and not _given(item.key, lines):
                        problems.append((text, "", values.ValueProblem(
                            "the cell is empty", "a value (the column is required)")))
                else:
                    try:
                        _project_value(item, raw if item.kind in ("text", "bilingual") else values.nfkc(raw), project)
                    except values.ValueProblem as exc:
                        problems.append((text, raw, exc))
            if extra:
                problems.append((_letter(extra[0]), row[extra[0]], values.ValueProblem(
                    "is a value without a header", "no values to the right of the last header")))
            dataset = None
            if any(value for _, value in cells.values()):
                dataset = _dataset(f"row {number}", cells, problems)
            for label, raw, exc in problems:
                self.hold(number, label, raw, exc.message, exc.expected)
            if not problems:
                out.append((number, project, dataset))
            elif dataset is not None and (dataset.number or dataset.name):
                self.held_datasets.append((project, dataset.key))
        return out, lines

    # AMED's form: items down one column, datasets to the right
    def form(self, label_column: int) -> tuple[list[tuple[int, dict[str, Any], Dataset | None]], dict[str, Any]]:
        lines: list[tuple[int, list[str]]] = []
        by_column: dict[int, dict[str, tuple[str, str, int]]] = {}
        people: dict[str, list[tuple[int, list[str]]]] = {"staff": [], "staff_consent": []}
        for index, row in enumerate(self.rows):
            label = _text(row[label_column]) if label_column < len(row) else ""
            item = layout.lookup(label) if label else None
            if item is None or item.level == layout.PROJECT:
                lines.append((index + 1, row[label_column:]))
                continue
            if item.key in people:  # one row per person (データ関連人材), each followed by its 公表の可否
                people[item.key].append((index + 1, [_text(c) for c in row]))
                continue
            for column in range(label_column + 1, len(row)):
                if _text(row[column]):
                    by_column.setdefault(column, {})[item.key] = (label, _text(row[column]), index + 1)
        project, _ = _read_lines(self.what, lines)
        staffed = {c for _, r in people["staff"] for c in range(label_column + 1, len(r)) if r[c]}
        out = []
        for column in sorted(set(by_column) | staffed):
            found = by_column.get(column, {})
            cells = {key: (label, value) for key, (label, value, _) in found.items()}
            rows_of = {key: number for key, (_, _, number) in found.items()}
            names = [(n, r[column] if column < len(r) else "") for n, r in people["staff"]]
            consents = [r[column] if column < len(r) else "" for _, r in people["staff_consent"]]
            pairs = [(name, consents[i] if i < len(consents) else "") for i, (_, name) in enumerate(names) if name]
            if pairs:
                cells["staff"] = ("データ関連人材", ";".join(name for name, _ in pairs))
                cells["staff_consent"] = ("公表の可否", ";".join(consent for _, consent in pairs))
                rows_of["staff"] = rows_of["staff_consent"] = names[0][0]
            problems: list[tuple[str, str, values.ValueProblem]] = []
            dataset = _dataset(f"column {_letter(column)}", cells, problems)
            first_row = min(rows_of.values(), default=1)
            for label, raw, exc in problems:
                key = next((k for k, (lab, val) in cells.items() if lab == label and val == raw), "name")
                self.hold(rows_of.get(key, first_row), _letter(column), raw, exc.message, exc.expected)
            if not problems:
                out.append((first_row, {}, dataset))
            elif dataset.number or dataset.name:
                self.held_datasets.append(({}, dataset.key))
        return out, project


def _required(what: str, have: set[str], header: int | None = None) -> None:
    """Every project item that must be given is, in a column or on a line; `header` is the table's header row."""
    items = layout.by_key(layout.PROJECT)
    missing = [items[key] for key in ("jgn", "name", "start", "end") if not _given(key, dict.fromkeys(have))]
    if missing:
        names = ", ".join(f"{i.ja!r} ({i.en})" for i in missing)
        where = f"{what}: row {header + 1}" if header is not None else what
        raise DmpImportError(
            f"{where}: missing required column(s) {names}: give them as columns, or on the DMP's project lines "
            "(研究期間：2021-04-01～2024-03-31)"
        )


def parse(data: bytes, what: str) -> DmpFile:
    """Every project and dataset of a DMP file, checked; `what` (the file name) starts every message."""
    from gateway.harvest.spreadsheet import InputError, sheet_rows

    try:
        rows = sheet_rows(data, what)
        layout.items()
    except (InputError, layout.LayoutError) as exc:
        raise DmpImportError(str(exc)) from None
    reader = _Reader(what, rows)
    header = _header_row(rows)
    if header is not None:
        entries, lines = reader.table(header)
        have = set(lines) | set(reader.header_text)
        declares = bool(reader.dataset_text)
        shape = "table" if declares else "projects"
    else:
        label_column = _label_column(rows)
        if label_column is None:
            empty = not any(_text(c) for r in rows for c in r)
            raise DmpImportError(f"{what}: no header row" if empty else (
                f"{what}: no header row: no table header and no column of AMED's items was found "
                f"(known: {layout.known_labels(layout.DATASET)})"))
        entries, lines = reader.form(label_column)
        have, declares, shape = set(lines), True, "form"
    if "period" in have:
        have |= {"start", "end"}
    if "name" in have:
        have.add("name_ja")
    _required(what, have, header)
    projects = _group(reader, entries, lines, declares)
    return DmpFile(projects=projects, held=reader.held, layout=shape, declares_datasets=declares)


def _group(reader: _Reader, entries: list[tuple[int, dict[str, Any], Dataset | None]], lines: dict[str, Any],
           declares: bool) -> list[Project]:
    """The rows gathered by project. A sheet of projects holds a second row of a number; a DMP table, a row whose
    project (name, period) differs from the first row of its number, and a dataset whose number comes twice."""
    projects: dict[str, Project] = {}
    first: dict[str, tuple[int, tuple[Any, ...]]] = {}
    numbers: dict[tuple[str, str], int] = {}
    header = reader.header_text
    for row, own, dataset in entries:
        found = {**lines, **own}
        jgn = found.get("jgn") or found.get("jgn_of_name")
        start, end = found.get("start"), found.get("end")
        if end < start:
            column = header.get("end") or header.get("period") or "end"
            reader.hold(row, column, end.isoformat(), f"is before the start date {start.isoformat()}",
                        "an end date on or after the start date")
            continue
        name_en = found.get("name_en_column") or found.get("name_en")
        identity = (found.get("name_ja"), name_en, start, end)
        if jgn in first and (not declares or first[jgn][1] != identity):
            earlier = first[jgn][0]
            column = header.get("jgn", "jgn")
            if declares:
                said = f"has another project name or period than row {earlier}"
                reader.hold(row, column, jgn, said, "the same name and period on every row of a project")
            else:
                reader.hold(row, column, jgn, f"is already in row {earlier}", "a number used once")
            continue
        if dataset is not None:
            if (jgn, dataset.key) in numbers:
                label = reader.dataset_text.get("number" if dataset.number else "name", "number")
                reader.hold(row, label, dataset.number or dataset.name,
                            f"appears twice in project {jgn} (also in {numbers[(jgn, dataset.key)]})",
                            "a data number (or, without one, a name) used once per project")
                continue
            numbers[(jgn, dataset.key)] = dataset.where
        project = projects.get(jgn)
        if project is None:
            first[jgn] = (row, identity)
            project = projects[jgn] = Project(
                jgn=jgn, name_ja=found.get("name_ja"), name_en=name_en, start=start, end=end,
                program=found.get("program"), funder=found.get("funder"), dmp_date=found.get("dmp_date"),
                investigator={k: found[k] for k in ("pi_name", "pi_affiliation", "pi_title") if found.get(k)},
                private={k: found[k] for k in ("pi_address", "pi_phone", "pi_email") if found.get(k)},
                revisions=list(reader.revisions),
            )
        project.rows.append(row)
        if dataset is not None:
            project.datasets.append(dataset)
    for own, key in reader.held_datasets:
        found = {**lines, **own}
        held_in = projects.get(found.get("jgn") or found.get("jgn_of_name"))
        if held_in is not None and key not in held_in.held_keys:
            held_in.held_keys.append(key)
    return list(projects.values())


def read_file(path: Path) -> DmpFile:
    from gateway.harvest.spreadsheet import InputError
    from gateway.harvest.spreadsheet import read_file as read_bytes

    if path.suffix.lower() not in SUFFIXES:
        raise DmpImportError(f"{path}: not a .xlsx or .csv file")
    try:
        data = read_bytes(path)
    except InputError as exc:
        raise DmpImportError(str(exc)) from None
    return parse(data, str(path))
