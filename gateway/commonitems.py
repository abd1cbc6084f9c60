"""The common metadata items as GakuNin RDM and the funders' spreadsheets carry them.

The layout (columns, headers in Japanese and English, GakuNin RDM keys) and the value lists are data, in
``mappings/commonitems/``; the mapping to JPCOAR 2.0 is ``mappings/commonitems_to_jpcoar_2.0.xsl``.  This module:

- reads a row (spreadsheet cells, by column key) or a GakuNin RDM metadata object (by GRDM key) into an *entry*
  (GRDM keys -> values), so that every export form meets in one shape;
- resolves an entry's values against the value lists (funder labels read by pattern, e-Rad fields, data types,
  licences, access rights, AMED sharing levels) into the intermediate "common items" document, and maps that to
  JPCOAR 2.0 with the stylesheet;
- turns a stored record back into a row of the layout (for ``gateway export spreadsheet``).

A value that cannot be read is a `Problem` naming the column, the value and what is expected: `resolve` leaves the value
out, goes on with the rest of the entry and returns the problems with it; the harvesters add the file and the row, and
the stored raw record carries them as ``<ci:problem>`` elements (`reading_findings` turns those into error findings, so
the record is held in quarantine and counted, never published).
"""

from __future__ import annotations

import json
import re
import threading
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from lxml import etree

from gateway import crosswalk
from gateway import namespaces as ns
from gateway.validate import Finding, finding

__all__ = [
    "CI",
    "Column",
    "LayoutError",
    "Problem",
    "Resolved",
    "RowError",
    "columns",
    "entry_from_cells",
    "header_map",
    "problem_text",
    "reading_findings",
    "resolve",
    "row_from_record",
]

CI = "urn:x-gateway:common-items:2024"
_RECORD = f"{{{CI}}}record"
_PROBLEM = f"{{{CI}}}problem"
STYLESHEET = "commonitems_to_jpcoar_2.0.xsl"
_XML_LANG = f"{{{ns.XML}}}lang"
_JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# e-Rad funder codes are 3 or 4 digits; in a malformed label the code may be glued to words around it.
_FUNDER_CODE = re.compile(r"(?<![0-9])([0-9]{3,4})(?![0-9])")
_ROR_ID = re.compile(r"^0[a-z0-9]{6}[0-9]{2}$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class LayoutError(ValueError):
    """The headers of a sheet do not form the common-item layout (unknown, duplicated or missing columns)."""


class RowError(ValueError):
    """A value of one row cannot be read; `column` is the layout key of its column."""

    def __init__(self, column: str, message: str, *, value: str = "", expected: str = "") -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.value = value
        self.expected = expected


@dataclass(frozen=True)
class Problem:
    """Why one value of a row (or a file entry) cannot be read.

    `message` says what is wrong with `value` ("is not a date: ..."; for an empty value, a sentence of its own);
    `column` is the layout key (None: the entry as a whole); `file` with `row` (a spreadsheet row) or `entry` (a
    place in a JSON export) say where, once the harvester knows.
    """

    column: str | None
    value: str
    message: str
    expected: str
    file: str | None = None
    row: int | None = None
    entry: str | None = None

    def located(self, *, file: str, row: int | None = None, entry: str | None = None) -> Problem:
        return replace(self, file=file, row=row, entry=entry)

    def element(self) -> etree._Element:
        """``<ci:problem file= row=|entry= column= header-ja= header-en= value= expected=>message</ci:problem>``."""
        element = etree.Element(_PROBLEM, nsmap={"ci": CI})
        attrs: dict[str, str | None] = {
            "file": self.file,
            "row": str(self.row) if self.row is not None else None,
            "entry": self.entry,
            "column": self.column,
        }
        column = _column_by_key(self.column) if self.column else None
        if column is not None:
            attrs["header-ja"], attrs["header-en"] = column.ja, column.en
        attrs["value"] = self.value
        attrs["expected"] = self.expected
        for name, value in attrs.items():
            if value is not None:
                element.set(name, _ILLEGAL_XML.sub("", value))
        element.text = _ILLEGAL_XML.sub("", self.message)
        return element


@dataclass(frozen=True)
class Column:
    key: str
    ja: str
    en: str
    kind: str
    grdm: tuple[str, ...]
    required: bool = False
    aliases: tuple[str, ...] = ()
    optional_in_layout: bool = False

    def header(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


# ---------------------------------------------------------------------------------------------------------- tables

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _load(name: str) -> dict[str, Any]:
    generation = crosswalk._generation  # follow `gateway remap` / crosswalk.reload() after a manager edits mappings/
    key = f"{name}@{generation}"
    found = _cache.get(key)
    if found is not None:
        return found
    path = crosswalk.MAPPINGS_DIR / "commonitems" / name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise crosswalk.CrosswalkError(f"cannot read {path}: {exc}") from None
    with _lock:
        _cache[key] = data
    return data


def _column_by_key(key: str) -> Column | None:
    return next((c for c in columns() if c.key == key), None)


def columns(*, include_optional: bool = True) -> list[Column]:
    """The columns of the layout in order (the optional metadata-access column last)."""
    out = []
    for entry in _load("columns.toml").get("column", []):
        column = Column(
            key=entry["key"],
            ja=entry["ja"],
            en=entry["en"],
            kind=entry["kind"],
            grdm=tuple(entry.get("grdm", ())),
            required=bool(entry.get("required", False)),
            aliases=tuple(entry.get("aliases", ())),
            optional_in_layout=bool(entry.get("optional_in_layout", False)),
        )
        if include_optional or not column.optional_in_layout:
            out.append(column)
    return out


def _fold(text: str) -> str:
    """Comparison form of a header or a listed value: width-folded, lower case, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def header_map(headers: list[str]) -> dict[int, Column]:
    """Column position -> column, recognised by header (Japanese, English or an alias), never by position."""
    by_name: dict[str, Column] = {}
    for column in columns():
        for name in (column.ja, column.en, *column.aliases):
            by_name.setdefault(_fold(name), column)
    found: dict[int, Column] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for position, header in enumerate(headers):
        text = (header or "").strip()
        if not text:
            continue
        column = by_name.get(_fold(text))
        if column is None:
            unknown.append(text)
            continue
        if column.key in seen:
            raise LayoutError(f"column {text!r} appears twice (also as {seen[column.key]!r})")
        seen[column.key] = text
        found[position] = column
    if unknown:
        raise LayoutError(f"unknown column(s): {', '.join(repr(u) for u in unknown)}")
    missing = [c for c in columns() if c.required and c.key not in seen]
    if missing:
        names = ", ".join(f"{c.ja!r} ({c.en})" for c in missing)
        raise LayoutError(f"missing required column(s): {names}")
    return found


@dataclass(frozen=True)
class _Listed:
    key: str
    ja: str
    en: str
    uri: str | None
    extra: str | None = None  # funder code / disclosure
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return [n for n in (self.key, self.ja, self.en, self.uri or "", self.extra or "", *self.aliases) if n]


def _listed(kind: str) -> list[_Listed]:
    return [listed for listed, _folded, _loose in _index(kind)]


def _index(kind: str) -> list[tuple[_Listed, set[str], set[str]]]:
    """The listed values of a kind with their spellings in both comparison forms, built once per mappings version."""
    key = f"index:{kind}@{crosswalk._generation}"
    found = _cache.get(key)
    if found is not None:
        return found
    out = []
    for entry in _load("values.toml").get(kind, []):
        if kind == "funder":
            ja, en, code = parse_funder_label(entry["label"])
            listed = _Listed(entry["key"], ja or "", en or "", None, code, tuple(entry.get("aliases", ())))
        else:
            listed = _Listed(
                entry["key"],
                entry.get("ja", ""),
                entry.get("en", entry["key"] if kind in ("data_type", "access", "metadata_access") else ""),
                entry.get("uri"),
                entry.get("disclosure"),
                tuple(entry.get("aliases", ())),
            )
        names = listed.names()
        out.append((listed, {_fold(n) for n in names}, {_loose(n) for n in names} - {""}))
    with _lock:
        _cache[key] = out
    return out


# Brackets whose content qualifies a value ("制限共有（外部関係者と共有）", "公開 (open access)"): compared without it.
# After NFKC, full-width （）［］ are the ASCII ones.
_QUALIFIER = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|〈[^〈〉]*〉|《[^《》]*》")
_BRACKETS = re.compile(r"[()\[\]【】〔〕〈〉《》]")
_QUOTES = str.maketrans("", "", '「」『』"“”')
# The guideline writes the closed category both as 非共有・非公開 and as 非公開・非共有, and sheets use any of these
# (after NFKC: ／ is /, ， is "," and the half-width ･ ､ are ・ 、).
_SEPARATOR = re.compile(r"[・·/、,]")
_PARTS = re.compile(r"[|・·/、,]")  # the separators and the "ja|en" bar: "公開/open access" is one value twice


def _unbracketed(text: str) -> str:
    """The value without its bracketed qualifiers and quotes; a value that is all brackets ("【制限共有】") keeps its
    content."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    stripped = text
    while True:  # innermost first, so that nested brackets go too
        shorter = _QUALIFIER.sub("", stripped)
        if shorter == stripped:
            break
        stripped = shorter
    if stripped.strip():
        return stripped
    return _BRACKETS.sub("", text)


def _loose(text: str) -> str:
    """The lenient comparison form: `_fold`, without bracketed qualifiers, with its ・／/、 parts in a fixed order."""
    folded = _fold(_unbracketed(text))
    return "・".join(sorted(part for part in _SEPARATOR.split(folded) if part))


def _qualifiers(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    return [m.group(0)[1:-1] for m in _QUALIFIER.finditer(text) if m.group(0)[1:-1].strip()]


def _lookup(kind: str, value: str) -> _Listed | None:
    """The listed value spelled `value` (key, label, URI, alias), read leniently (see `_read`)."""
    return _read(kind, value)[0]


def _read(kind: str, value: str) -> tuple[_Listed | None, str]:
    """(the listed value `value` means, or None; why not, when it is not).

    Tried in turn: the value as written (width, case and spaces aside); either side of a "ja|en" pair; the value
    without bracketed qualifiers, its ・／/、 parts in any order; and a value made of parts that each name the same
    listed value ("非公開・非共有", "公開/open access").  A qualifier naming a different listed value than the rest
    ("公開 (metadata only access)") contradicts it: no answer.
    """
    if not value or not value.strip():
        return None, ""
    found = _match(kind, value, loose=False)
    if found is None and "|" in value:
        ja, en = split_pair(value)
        found = (_match(kind, ja, loose=False) if ja else None) or (_match(kind, en, loose=False) if en else None)
    if found is None:
        found = _match(kind, value, loose=True)
    if found is None:
        parts = [p for p in _PARTS.split(_unbracketed(value)) if p.strip()]
        readings = {_match(kind, part, loose=True) for part in parts} if len(parts) > 1 else set()
        if len(readings) == 1 and None not in readings:
            found = readings.pop()
        elif len(readings - {None}) > 1:
            named = ", ".join(sorted(listed.key for listed in readings if listed is not None))
            return None, f"its parts name different values ({named})"
    if found is None:
        return None, ""
    for qualifier in _qualifiers(value):
        other = _match(kind, qualifier, loose=True)
        if other is not None and other.key != found.key:
            return None, f"it says both {found.key} and, in brackets, {other.key}"
    return found, ""


def _match(kind: str, value: str, *, loose: bool) -> _Listed | None:
    wanted = _loose(value) if loose else _fold(value)
    if not wanted:
        return None
    for listed, folded, lenient in _index(kind):
        if wanted in (lenient if loose else folded):
            return listed
    return None


def parse_funder_label(label: str) -> tuple[str | None, str | None, str | None]:
    """(ja, en, e-Rad code) of a funder label "ja|en|code", malformed ones included.

    The code is the last 3-4 digit number anywhere in the label; whatever else is written around it in the same part
    (as in "...Development|1305 Organization") belongs to the English name.
    """
    parts = [p.strip() for p in label.split("|")]
    code = None
    for index in range(len(parts) - 1, -1, -1):
        matches = list(_FUNDER_CODE.finditer(parts[index]))
        if matches:
            match = matches[-1]
            code = match.group(1)
            parts[index] = (parts[index][: match.start()] + " " + parts[index][match.end() :]).strip()
            break
    ja = next((p for p in parts if p and _JAPANESE.search(p)), None)
    english = [p for p in parts if p and not _JAPANESE.search(p)]
    en = " ".join(english) or None
    return ja, en, code


# ---------------------------------------------------------------------------------------------------------- cells in


def split_pair(cell: str) -> tuple[str, str]:
    """A bilingual cell "日本語|English" as (ja, en); a cell without "|" is Japanese unless it has no Japanese text."""
    text = (cell or "").strip()
    if "|" in text:
        ja, _, en = text.partition("|")
        return ja.strip(), en.strip()
    if text and not _JAPANESE.search(text):
        return "", text
    return text, ""


def _split_pair_ja_first(cell: str) -> tuple[str, str]:
    """Like split_pair, but a single value is Japanese whatever its script (titles may be in any script)."""
    text = (cell or "").strip()
    if "|" in text:
        return split_pair(text)
    return text, ""


def entry_from_cells(cells: dict[str, str], problems: list[Problem] | None = None) -> dict[str, Any]:
    """A spreadsheet / CSV-report row (column key -> cell text) as an entry (GRDM key -> value).

    A cell that cannot be read is left out and noted in `problems`; without that list, it is a `RowError`.
    """
    entry: dict[str, Any] = {}
    by_key = {c.key: c for c in columns()}
    names: list[tuple[str, str]] = []
    numbers: list[str] = []
    for key, cell in cells.items():
        column = by_key[key]
        text = (cell or "").strip()
        if column.kind == "bilingual":
            # a single value in a Japanese-first item (title, description, ...) is the Japanese value
            ja, en = _split_pair_ja_first(text) if key in _JA_FIRST else split_pair(text)
            entry[column.grdm[0]], entry[column.grdm[1]] = ja, en
        elif column.kind == "names":
            names = [split_pair(part) for part in text.split(";")] if text else []
        elif column.kind == "numbers":
            numbers = [part.strip() for part in text.split(";")] if text else []
        else:
            entry[column.grdm[0]] = text
    if len(numbers) > len(names) and any(numbers[len(names) :]):
        problem = Problem(
            "creator_erad",
            (cells.get("creator_erad") or "").strip(),
            f"gives {len(numbers)} researcher numbers for {len(names)} creator(s)",
            "one e-Rad researcher number per creator, in the creators' order, separated by ';'",
        )
        if problems is None:
            raise RowError(problem.column or "", problem.message, value=problem.value, expected=problem.expected)
        problems.append(problem)
        numbers = []  # which number belongs to whom cannot be told: none is kept
    entry["grdm-file:creators"] = [
        {"name_ja": ja, "name_en": en, "number": numbers[i] if i < len(numbers) else ""}
        for i, (ja, en) in enumerate(names)
    ]
    return entry


# Items whose Japanese value is the required one: a cell without "|" holds it whatever its script.
_JA_FIRST = {"title", "description", "citation", "remarks", "repository"}


# ---------------------------------------------------------------------------------------------------------- resolve


@dataclass
class Resolved:
    """One entry resolved: the intermediate document (with its JPCOAR 2.0 record inside), what is not published, and
    the values that could not be read (left out of both documents)."""

    document: etree._Element
    jpcoar: etree._Element
    project: str | None
    data_number: str | None
    disclosure: str | None
    private: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    def raw(self) -> bytes:
        """The stored raw record: the common items as read, a ``<ci:problem>`` for each value that could not be,
        and the JPCOAR 2.0 record mapped from the readable values inside."""
        wrapper = etree.fromstring(etree.tostring(self.document))
        for problem in self.problems:
            wrapper.append(problem.element())
        wrapper.append(etree.fromstring(etree.tostring(self.jpcoar)))
        return etree.tostring(wrapper, encoding="UTF-8", xml_declaration=False)


def problem_text(element: etree._Element) -> str:
    """One line for a ``<ci:problem>``: where (file, row or entry, column), the value found, what is expected."""
    where = element.get("file") or "(unknown file)"
    if element.get("row"):
        where += f": row {element.get('row')}"
    elif element.get("entry"):
        where += f": {element.get('entry')}"
    ja, en = element.get("header-ja"), element.get("header-en")
    if ja or en:
        where += f", column {ja!r} ({en})"
    elif element.get("column"):
        where += f", column {element.get('column')!r}"
    value = element.get("value") or ""
    message = element.text or "cannot be read"
    said = f"{value!r} {message}" if value else message
    expected = element.get("expected")
    return f"{where}: {said}" + (f"; expected {expected}" if expected else "")


def reading_findings(root: etree._Element) -> list[Finding]:
    """The ``<ci:problem>`` elements of a common-items wrapper as error findings (the record is then quarantined);
    an empty list for any other document."""
    if root.tag != _RECORD:  # one comparison for every record that is not a wrapper
        return []
    return [
        finding(
            "error",
            "source",
            problem_text(element),
            path=element.get("column") or None,
            value=element.get("value"),
            rule="source.unreadable_value",
        )
        for element in root.iterchildren(_PROBLEM)
    ]


def _shown(value: Any) -> str:
    """A JSON value as found, shortened, for a problem's `value`."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:199] + "…"


def _column_of(grdm_key: str) -> str:
    for column in columns():
        if grdm_key in column.grdm:
            return column.key
    return grdm_key


_EXPECT_DATE = "a date that exists, written YYYY-MM-DD (or YYYY/MM/DD)"


class _Reader:
    """An entry's values as text; a value that cannot be read is noted as a problem and read as empty."""

    def __init__(self, entry: dict[str, Any], problems: list[Problem]) -> None:
        self.entry = entry
        self.problems = problems

    def problem(self, column: str | None, value: str, message: str, expected: str) -> None:
        self.problems.append(Problem(column, value, message, expected))

    def value(self, key: str, entry: dict[str, Any] | None = None) -> str:
        value = (self.entry if entry is None else entry).get(key)
        if isinstance(value, dict):
            value = value.get("value")
        if value is None:
            return ""
        if isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            self.problem(_column_of(key), _shown(value), f"is a {type(value).__name__}, not a text", "a text value")
            return ""
        # control characters (pasted from other programs) cannot be stored in XML and carry no meaning
        return _ILLEGAL_XML.sub("", value).strip()

    def date(self, key: str) -> str:
        text = self.value(key)
        if not text:
            return ""
        day = text.split("T")[0].split(" ")[0]
        match = _DATE.match(unicodedata.normalize("NFKC", day))
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
            except ValueError:
                self.problem(_column_of(key), text, "is not a date: that day does not exist", _EXPECT_DATE)
                return ""
        self.problem(_column_of(key), text, "is not a date (YYYY-MM-DD)", _EXPECT_DATE)
        return ""


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CI}}}{tag}")
    for name, value in attrs.items():
        element.set(_XML_LANG if name == "lang" else name, value)
    if text is not None:
        element.text = text
    return element


def _pair(parent: etree._Element, tag: str, ja: str, en: str) -> None:
    if ja:
        _sub(parent, tag, ja, lang="ja")
    if en:
        _sub(parent, tag, en, lang="en")


def _text_lang(text: str) -> str:
    return "ja" if _JAPANESE.search(text) else "en"


def resolve(entry: dict[str, Any], *, identifier: str | None = None, problems: list[Problem] | None = None) -> Resolved:
    """Resolve an entry's values against the value lists and map it to JPCOAR 2.0.

    A value that cannot be read is left out and listed in `Resolved.problems` (after the `problems` given, those
    found while reading the cells); the rest of the entry is resolved all the same.
    """
    found: list[Problem] = list(problems or ())
    r = _Reader(entry, found)
    doc = etree.Element(_RECORD, nsmap={"ci": CI})
    if identifier:
        doc.set("identifier", identifier)

    _funder(doc, r.value("funder"))
    code = r.value("funding-stream-code")
    if code:
        _sub(doc, "fundingStreamCode", code)
    _pair(doc, "program", r.value("program-name-ja"), r.value("program-name-en"))
    project = r.value("japan-grant-number")
    if project:
        _sub(doc, "grantNumber", project)
    _pair(doc, "project", r.value("project-name-ja"), r.value("project-name-en"))
    data_number = r.value("grdm-file:data-number")
    if data_number:
        _sub(doc, "dataNumber", data_number)
    _pair(doc, "title", r.value("grdm-file:title-ja"), r.value("grdm-file:title-en"))
    issued = r.date("grdm-file:date-issued-updated")
    if issued:
        _sub(doc, "issued", issued)
    _pair(doc, "description", r.value("grdm-file:data-description-ja"), r.value("grdm-file:data-description-en"))
    _field(doc, r)
    _data_type(doc, r)
    size = r.value("grdm-file:file-size")
    if size:
        _sub(doc, "size", size)
    _rights(doc, r)
    _access(doc, r)
    # without it, an embargoed record is quarantined by the Annex-3 check with its reason; the row itself is readable
    available = r.date("grdm-file:available-date")
    if available:
        _sub(doc, "available", available)
    _pair(doc, "repository", r.value("grdm-file:repo-information-ja"), r.value("grdm-file:repo-information-en"))
    link = r.value("grdm-file:repo-url-doi-link")
    if link:
        _sub(doc, "link", link, type=_link_type(link))
    _creators(doc, r)
    _hosting(doc, r)
    _manager(doc, r)
    _contact(doc, r)
    disclosure = _metadata_access(doc, r)

    private = {}
    for lang in ("ja", "en"):
        remark = r.value(f"grdm-file:remarks-{lang}")
        if remark:
            private[f"remarks_{lang}"] = remark
    transform = crosswalk._stylesheet(STYLESHEET)
    jpcoar = crosswalk._run(transform, doc, "mapping common items to jpcoar_2.0")
    return Resolved(doc, jpcoar, project or None, data_number or None, disclosure, private, found)


def _funder(doc: etree._Element, value: str) -> None:
    if not value:
        return
    listed = _lookup("funder", value)
    if listed is not None:
        ja, en, code = listed.ja, listed.en, listed.extra
    elif "|" in value:
        ja, en, code = parse_funder_label(value)
    elif value.isdigit():
        ja, en, code = None, None, value
    else:
        ja, en, code = (value, None, None) if _JAPANESE.search(value) else (None, value, None)
    attrs = {"code": code} if code else {}
    funder = _sub(doc, "funder", **attrs)
    _pair(funder, "name", ja or "", en or "")


def _why(reason: str) -> str:
    return f" ({reason})" if reason else ""


def _field(doc: etree._Element, r: _Reader) -> None:
    value = r.value("grdm-file:data-research-field")
    if value == "project":  # GakuNin RDM: "the research field of the project"
        value = r.value("project-research-field")
    if not value:
        return
    listed, reason = _read("field", value)
    if listed is None and "|" in value:
        ja, en = split_pair(value)
        listed = _lookup("field", ja) or _lookup("field", en)
        if listed is None:
            _pair(doc, "field", ja, en)  # a field outside the e-Rad list (a repository's own): kept as written
            return
    if listed is None:
        r.problem(
            "research_field",
            value,
            "is not an e-Rad research field" + _why(reason),
            "an e-Rad research field: its code (189) or its label (ライフサイエンス, Life Science), or 'ja|en' for a "
            "field of the repository's own",
        )
        return
    _sub(doc, "field", listed.ja, lang="ja", code=listed.key)
    _sub(doc, "field", listed.en, lang="en", code=listed.key)


def _data_type(doc: etree._Element, r: _Reader) -> None:
    value = r.value("grdm-file:data-type")
    listed, reason = _read("data_type", value or "dataset")
    if listed is None:
        r.problem(
            "data_type",
            value,
            "is not a data type of the JPCOAR vocabulary" + _why(reason),
            "a JPCOAR data type: its name (experimental data), its Japanese label (実験データ) or its COAR URI",
        )
        return
    _sub(doc, "dataType", listed.key, uri=listed.uri or "")


def _rights(doc: etree._Element, r: _Reader) -> None:
    free = r.value("grdm-file:data-policy-free")
    if free:
        listed, reason = _read("policy", free)
        if listed is None:
            r.problem(
                "policy_free",
                free,
                "is not one of free / consideration" + _why(reason),
                "無償 (free) or 有償 (consideration)",
            )
        else:
            _sub(doc, "rights", listed.ja, lang="ja")
            _sub(doc, "rights", listed.en, lang="en")
    licence = r.value("grdm-file:data-policy-license")
    if licence:
        listed = _lookup("license", licence)
        if listed is not None:
            attrs = {"uri": listed.uri} if listed.uri else {}
            _sub(doc, "rights", listed.ja, lang="ja", **attrs)
            _sub(doc, "rights", listed.en, lang="en", **attrs)
        elif licence.startswith(("http://", "https://")):
            _sub(doc, "rights", licence, lang="en", uri=licence)
        else:
            _sub(doc, "rights", licence, lang=_text_lang(licence))
    _pair(doc, "rights", r.value("grdm-file:data-policy-cite-ja"), r.value("grdm-file:data-policy-cite-en"))


def _choices(kind: str) -> str:
    """The listed values of a kind as the guideline names them, for "expected ..." (the list is data)."""
    return ", ".join(f"{listed.ja} ({listed.key})" if listed.ja else listed.key for listed in _listed(kind))


def _access(doc: etree._Element, r: _Reader) -> None:
    value = r.value("grdm-file:access-rights")
    if not value:
        return
    listed, reason = _read("access", value)
    if listed is None:
        if _lookup("access_undecided", value) is not None:
            # AMED's "その他（未定など）": not chosen yet; counting it under any right would be a guess
            message = "is not a data access right: it says the access right is not decided yet"
        else:
            message = "is not a data access right" + _why(reason)
        r.problem(
            "access_rights",
            value,
            message,
            f"one of {_choices('access')}, or another spelling listed in mappings/commonitems/values.toml "
            "(AMED's sharing levels included)",
        )
        return
    _sub(doc, "access", listed.key, uri=listed.uri or "")


def _metadata_access(doc: etree._Element, r: _Reader) -> str | None:
    value = r.value("grdm-file:metadata-access-rights")
    if not value:
        return None
    listed, reason = _read("metadata_access", value)
    if listed is None:
        r.problem(
            "metadata_access",
            value,
            "is not a metadata access right" + _why(reason),
            f"one of {_choices('metadata_access')}",
        )
        return None
    _sub(doc, "metadataAccess", listed.key)
    return listed.extra


def _link_type(link: str) -> str:
    lowered = link.lower()
    if "doi.org/" in lowered or lowered.startswith("10."):
        return "DOI"
    if "hdl.handle.net/" in lowered:
        return "HDL"
    return "URI"


def _creators(doc: etree._Element, r: _Reader) -> None:
    creators = r.entry.get("grdm-file:creators")
    if isinstance(creators, dict):
        creators = creators.get("value")
    if creators in (None, ""):
        return
    if not isinstance(creators, list):
        r.problem(
            "creators", _shown(creators), "is not a list of creators", "a list of creators (name_ja, name_en, number)"
        )
        return
    for index, creator in enumerate(creators, 1):
        if not isinstance(creator, dict):
            r.problem(
                "creators",
                _shown(creator),
                f"(creator {index}) is not a creator",
                "an object with name_ja, name_en, number",
            )
            continue
        # GakuNin RDM writes both name_ja and name-ja (see reference/grdm/README.md)
        norm = {str(k).replace("-", "_"): v for k, v in creator.items()}
        ja, en = r.value("name_ja", norm), r.value("name_en", norm)
        number = r.value("number", norm)
        if number and not re.fullmatch(r"[0-9A-Za-z\-]+", number):
            r.problem(
                "creator_erad",
                number,
                f"(creator {index}) is not an e-Rad researcher number",
                "an e-Rad researcher number (digits, letters and '-')",
            )
            number = ""
        if not (ja or en or number):
            continue
        element = _sub(doc, "creator")
        _pair(element, "name", ja, en)
        if number:
            _sub(element, "erad", number)


def _hosting(doc: etree._Element, r: _Reader) -> None:
    ja, en = r.value("grdm-file:hosting-inst-ja"), r.value("grdm-file:hosting-inst-en")
    ror = r.value("grdm-file:hosting-inst-id")
    if not (ja or en or ror):
        return
    element = _sub(doc, "hostingInstitution")
    _pair(element, "name", ja, en)
    if ror:
        if _ROR_ID.match(ror):
            ror = f"https://ror.org/{ror}"
        _sub(element, "ror", ror)


def _manager(doc: etree._Element, r: _Reader) -> None:
    ja, en = r.value("grdm-file:data-man-name-ja"), r.value("grdm-file:data-man-name-en")
    number = r.value("grdm-file:data-man-number")
    if not (ja or en or number):
        return
    attrs = {}
    kind = r.value("grdm-file:data-man-type")
    if kind:
        attrs["type"] = kind
    element = _sub(doc, "dataManager", **attrs)
    _pair(element, "name", ja, en)
    if number:
        _sub(element, "erad", number)


def _contact(doc: etree._Element, r: _Reader) -> None:
    """Annex 3 item 15: an e-mail address, or else the organisation, address and phone, as one free text."""
    email = r.value("grdm-file:data-man-email")
    if email and not _EMAIL.match(email):
        r.problem("contact_email", email, "is not an e-mail address", "an e-mail address (name@example.ac.jp)")
        email = ""
    tel = r.value("grdm-file:data-man-tel")
    parts = {
        lang: [r.value(f"grdm-file:data-man-org-{lang}"), r.value(f"grdm-file:data-man-address-{lang}")]
        for lang in ("ja", "en")
    }
    details = _sub(doc, "contactDetails")
    for lang in ("ja", "en"):
        for name, value in zip(("organization", "address"), parts[lang], strict=True):
            if value:
                _sub(details, name, value, lang=lang)
    if tel:
        _sub(details, "tel", tel)
    if email:
        _sub(details, "email", email)
    if email:
        _sub(doc, "contact", email, lang="ja")
        return
    for lang in ("ja", "en"):
        words = [p for p in parts[lang] if p]
        if words:
            _sub(doc, "contact", " / ".join([*words, tel] if tel else words), lang=lang)
    if tel and not any(parts["ja"]) and not any(parts["en"]):
        _sub(doc, "contact", tel, lang="ja")


# ---------------------------------------------------------------------------------------------------------- export

_J = f"{{{ns.JPCOAR_2}}}"


def _pair_cell(ja: str | None, en: str | None) -> str:
    ja, en = (ja or "").strip(), (en or "").strip()
    if ja and en:
        return f"{ja}|{en}"
    if en:
        return f"|{en}"
    # a lone value in Latin script would be read back as English: mark it Japanese
    return ja if not ja or _JAPANESE.search(ja) else f"{ja}|"


def _by_lang(values: list[dict[str, str]]) -> tuple[str, str]:
    ja = next((v["value"] for v in values if v.get("lang") == "ja"), "")
    en = next((v["value"] for v in values if v.get("lang") == "en"), "")
    if not ja and not en and values:
        ja = values[0]["value"]
    return ja, en


def row_from_record(
    canonical: bytes | None,
    view: dict[str, list[dict[str, str]]],
    *,
    private: dict[str, Any] | None = None,
    disclosure: str | None = None,
) -> dict[str, str]:
    """A stored record as a row of the layout (column key -> cell), the inverse of reading a row.

    Items the view keeps as flat lists (creators and their numbers) are read from the canonical record, where each
    creator is one element; the rest comes from the Annex-3 view.
    """
    view = view or {}
    private = private or {}
    row: dict[str, str] = {c.key: "" for c in columns()}

    def pair(key: str) -> str:
        return _pair_cell(*_by_lang(view.get(key, [])))

    def first(key: str, attr: str = "value") -> str:
        values = view.get(key) or []
        return (values[0].get(attr) or "") if values else ""

    names = _by_lang(view.get("funder_name", []))
    code = first("funder_code")
    listed = _lookup("funder", code) if code else None
    if listed is not None and (listed.ja, listed.en) == names:
        row["funder"] = listed.key
    elif code or names[0] or names[1]:
        row["funder"] = "|".join([names[0], names[1], code]) if code else _pair_cell(*names)
    row["funding_stream_code"] = first("funding_stream_code")
    row["program_name"] = pair("program_name")
    row["jgn"] = first("jgn")
    row["project_name"] = pair("project_name")
    row["data_number"] = first("data_number")
    row["title"] = pair("title")
    row["date"] = first("date_updated") or first("date_issued")
    row["description"] = pair("description")
    field_ja, field_en = _by_lang(view.get("research_field", []))
    field = _lookup("field", field_ja) if field_ja else None
    row["research_field"] = field.key if field is not None and field.en == field_en else _pair_cell(field_ja, field_en)
    data_type = first("data_type", "uri") or first("data_type")
    listed_type = _lookup("data_type", data_type) if data_type else None
    row["data_type"] = listed_type.key if listed_type is not None else first("data_type")
    row["size"] = first("size")
    _rights_cells(view.get("rights", []), row)
    access = first("access_rights", "uri") or first("access_rights")
    listed_access = _lookup("access", access) if access else None
    row["access_rights"] = listed_access.key if listed_access is not None else first("access_rights")
    row["available_date"] = first("date_available")
    row["repository"] = pair("repository")
    row["repository_url"] = first("repository_url")
    creators, numbers = _creator_cells(canonical)
    row["creators"], row["creator_erad"] = creators, numbers
    row["hosting_institution"] = pair("hosting_institution")
    row["hosting_institution_id"] = first("hosting_institution_ror", "uri") or first("hosting_institution_ror")
    row["data_manager"] = pair("data_manager")
    row["data_manager_erad"] = first("data_manager_erad")
    contact_ja, contact_en = _by_lang(view.get("contact", []))
    if contact_ja and not contact_en and _EMAIL.match(contact_ja):
        row["contact_email"] = contact_ja
    else:
        # free text: read back as the organisation, which gives the same published contact
        row["contact_org"] = _pair_cell(contact_ja, contact_en)
    row["remarks"] = _pair_cell(private.get("remarks_ja"), private.get("remarks_en")) or str(
        private.get("remarks") or ""
    )
    row["metadata_access"] = {"public": "open access", "shared": "restricted access", "private": "closed access"}.get(
        disclosure or "", ""
    )
    return row


def _rights_cells(values: list[dict[str, str]], row: dict[str, str]) -> None:
    citation: dict[str, list[str]] = {"ja": [], "en": []}
    for value in values:
        text, uri, lang = (
            value.get("value", ""),
            value.get("uri"),
            value.get("lang") or _text_lang(value.get("value", "")),
        )
        if uri:
            listed = _lookup("license", uri)
            if not row["license"]:
                row["license"] = listed.key if listed is not None else uri
            continue
        policy = _lookup("policy", text)
        if policy is not None:
            row["policy_free"] = policy.key
            continue
        listed = _lookup("license", text)
        if listed is not None:
            row["license"] = row["license"] or listed.key
            continue
        citation.setdefault(lang, []).append(text)
    row["citation"] = _pair_cell(" ".join(citation["ja"]), " ".join(citation["en"]))


def _creator_cells(canonical: bytes | None) -> tuple[str, str]:
    if not canonical:
        return "", ""
    from gateway.xmlsafe import parse_bytes

    root = parse_bytes(canonical)
    names, numbers = [], []
    for creator in root.iter(f"{_J}creator"):
        by_lang: dict[str, str] = {}
        for name in creator.findall(f"{_J}creatorName"):
            by_lang.setdefault(name.get(_XML_LANG, "ja"), " ".join((name.text or "").split()))
        if not by_lang:
            for family in creator.findall(f"{_J}familyName"):
                lang = family.get(_XML_LANG, "ja")
                given = next((g.text for g in creator.findall(f"{_J}givenName") if g.get(_XML_LANG, "ja") == lang), "")
                by_lang.setdefault(
                    lang, ", ".join(p for p in ((family.text or "").strip(), (given or "").strip()) if p)
                )
        number = next(
            (
                (i.text or "").strip()
                for i in creator.findall(f"{_J}nameIdentifier")
                if i.get("nameIdentifierScheme") == "e-Rad_Researcher"
            ),
            "",
        )
        if not by_lang and not number:
            continue
        names.append(_pair_cell(by_lang.get("ja"), by_lang.get("en")))
        numbers.append(number)
    return ";".join(names), (";".join(numbers) if any(numbers) else "")
