"""What the one walk over a record works with: element names normalised, paths, the findings being made, and what the
walk remembers for the rules that look at the record as a whole.

Elements are matched by namespace prefix + local name, with every JPCOAR 2.0 namespace spelling normalised to
``jpcoar``, so the rules run the same on a record as received and on the canonical record.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway import namespaces as ns
from gateway.rules.aggregator.tables import ERROR_RULES

Finding = dict[str, Any]

XML_LANG = f"{{{ns.XML}}}lang"
RDF_RESOURCE = f"{{{ns.RDF}}}resource"
PREFIXES = {
    ns.JPCOAR_2: "jpcoar",
    ns.DC: "dc",
    ns.DCTERMS: "dcterms",
    ns.DATACITE: "datacite",
    ns.OAIRE: "oaire",
    ns.DCNDL: "dcndl",
    ns.RDF: "rdf",
}

#: tag -> normalised name, filled as tags are met
KEYS: dict[str, str] = {}
ELEMENTS = etree.Element  # as a tag filter of iter(): elements only, no comments or processing instructions


def key(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    found = KEYS.get(tag)
    if found is None:
        found = KEYS[tag] = key_of(tag)
    return found


def key_of(tag: str) -> str:
    if tag[0] != "{":
        return tag
    uri, _, local = tag[1:].partition("}")
    prefix = PREFIXES.get(uri)
    if prefix is None:
        prefix = "jpcoar" if "jpcoar" in uri.lower() else uri
    return f"{prefix}:{local}"


def path_of(el: etree._Element) -> str:
    parts = []
    while el is not None:
        parts.append(key(el))
        el = el.getparent()
    return "/".join(reversed(parts[:-1])) or parts[-1]


def text_of(el: etree._Element) -> str:
    return (el.text or "").strip()


class Run:
    """The findings of one record; `add` fills in severity from the rule table."""

    def __init__(self) -> None:
        self.out: list[Finding] = []

    def add(
        self, rule: str, el: etree._Element | None, message: str, value: str | None = None, path: str | None = None
    ) -> None:
        self.out.append(
            {
                "severity": "error" if rule in ERROR_RULES else "warning",
                "layer": "aggregator",
                "rule": rule,
                "item": None,
                "path": path if path is not None else (path_of(el) if el is not None else None),
                "value": value,
                "message": message,
            }
        )


class Record:
    """What one walk over a record remembers for the rules that look at the record as a whole."""

    __slots__ = (
        "access",
        "degree_langs",
        "dissertation_parts",
        "has_available",
        "has_creator",
        "has_vor_relation",
        "identifiers",
        "registrations",
        "root",
        "type_uri",
        "version_label",
    )

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.type_uri = ""
        self.access: etree._Element | None = None
        self.version_label = ""
        self.has_available = False
        self.has_creator = False
        self.has_vor_relation = False
        self.identifiers: set[str] = set()
        self.registrations: list[etree._Element] = []
        self.dissertation_parts: set[str] = set()
        self.degree_langs: set[str] = set()
