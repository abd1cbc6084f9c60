"""Why a value cannot be read, and how that travels with the record until it is held in quarantine.

A value that cannot be read is a `Problem` naming the column, the value and what is expected; the harvesters add the
file and the row. The stored raw record, a ``<ci:record>`` wrapper, carries each one as a ``<ci:problem>`` element,
so `gateway remap` keeps them, and `reading_findings` turns them into error findings: the record is held in
quarantine and counted, never published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lxml import etree

from gateway.commonitems.layout import column_by_key
from gateway.validate import Finding, finding

#: the namespace of the intermediate common-items document (the stored raw record of a row or a GakuNin RDM entry)
CI = "urn:x-gateway:common-items:2024"
RECORD = f"{{{CI}}}record"
PROBLEM = f"{{{CI}}}problem"
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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
        element = etree.Element(PROBLEM, nsmap={"ci": CI})
        attrs: dict[str, str | None] = {
            "file": self.file,
            "row": str(self.row) if self.row is not None else None,
            "entry": self.entry,
            "column": self.column,
        }
        column = column_by_key(self.column) if self.column else None
        if column is not None:
            attrs["header-ja"], attrs["header-en"] = column.ja, column.en
        attrs["value"] = self.value
        attrs["expected"] = self.expected
        for name, value in attrs.items():
            if value is not None:
                element.set(name, ILLEGAL_XML.sub("", value))
        element.text = ILLEGAL_XML.sub("", self.message)
        return element


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
    if root.tag != RECORD:  # one comparison for every record that is not a wrapper
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
        for element in root.iterchildren(PROBLEM)
    ]
