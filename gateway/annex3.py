"""The Annex-3 view of a canonical record: the common metadata items, read by the table in ``mappings/annex3.toml``.

``view()`` gives every item (for screens, validation and spreadsheets); ``summarize()`` gives the few facts that every
harvested record needs (title, type, access right, fundings) and is kept cheap: it runs for every record of every
harvest, so it uses a handful of precompiled XPaths rather than the whole table.

``view()`` runs for every record too, so the table is read the quick way where that gives the same answer: an
``xpath`` that is only child steps (``jpcoar:fundingReference/jpcoar:funderName``), each with at most a test
``[@attribute = 'value' or @attribute = 'other value' ...]``, is followed in Python through the record's top-level
elements, indexed once per record; a ``uri`` that is ``@attribute`` or ``.`` is read directly.  Every other expression
is run as the XPath it is (an XPath call costs more than reading a few elements, and the table has some thirty).
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gateway import crosswalk
from gateway import namespaces as ns

__all__ = ["Funding", "Item", "Summary", "items", "summarize", "view"]

_XPATH_NS = ns.JPCOAR2_PREFIXES
_XML_LANG = f"{{{ns.XML}}}lang"
_RDF_RESOURCE = f"{{{ns.RDF}}}resource"


@dataclass(frozen=True)
class Item:
    key: str
    no: int
    label_ja: str
    label_en: str
    required: bool
    languages: tuple[str, ...]
    xpath: str
    value: str | None = None
    uri: str | None = None
    required_if: str | None = None
    # compiled forms, built once when the table is loaded
    _nodes: etree.XPath | None = field(default=None, repr=False, compare=False)
    _value: etree.XPath | None = field(default=None, repr=False, compare=False)
    _uri: etree.XPath | None = field(default=None, repr=False, compare=False)
    # the quick forms of xpath and uri, where there is one (see the module's docstring)
    _steps: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None = field(default=None, repr=False, compare=False)
    _uri_attribute: str | None = field(default=None, repr=False, compare=False)
    _uri_self: bool = field(default=False, repr=False, compare=False)

    @property
    def supplied_by_gateway(self) -> bool:
        """True for items that are not in the JPCOAR record (the repository name)."""
        return not self.xpath


_lock = threading.Lock()
_items: list[Item] | None = None
_loaded_generation = -1


def _table_path() -> Path:
    return crosswalk.MAPPINGS_DIR / "annex3.toml"


def _compile(expr: str | None, where: str) -> etree.XPath | None:
    if not expr:
        return None
    try:
        return etree.XPath(expr, namespaces=_XPATH_NS)
    except etree.XPathSyntaxError as exc:
        raise crosswalk.CrosswalkError(f"annex3.toml, {where}: bad XPath {expr!r}: {exc}") from None


# One child step: prefix:name, optionally [...] with tests @attribute = 'value' joined by "or" (attributes without
# namespace, literal values).  A value holding "/" or " or " makes the expression fail to match, and it is run as XPath.
_STEP = re.compile(r"^\s*([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)\s*(?:\[(.*)\])?\s*$")
_TEST = re.compile(r"^\s*@([A-Za-z_][\w.-]*)\s*=\s*'([^']*)'\s*$")
_OR = re.compile(r"\s+or\s+")
#: one step: the tag, and the (attribute, value) pairs of which one must hold (none: no test)
Step = tuple[str, tuple[tuple[str, str], ...]]
_ATTRIBUTE = re.compile(r"^\s*@(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)\s*$")


def _steps(expr: str | None) -> tuple[Step, ...] | None:
    """The steps of a path of child steps, or None when the expression is anything else."""
    if not expr:
        return None
    steps = []
    for part in expr.split("/"):
        found = _STEP.match(part)
        if found is None or found.group(1) not in _XPATH_NS:
            return None
        tests = []
        if found.group(3) is not None:
            for test in _OR.split(found.group(3)):
                matched = _TEST.match(test)
                if matched is None:
                    return None
                tests.append((matched.group(1), matched.group(2)))
        steps.append((f"{{{_XPATH_NS[found.group(1)]}}}{found.group(2)}", tuple(tests)))
    return tuple(steps)


def _attribute(expr: str | None) -> str | None:
    """The attribute's name ({namespace}name) of an expression that is only @name or @prefix:name, else None."""
    found = _ATTRIBUTE.match(expr or "")
    if found is None:
        return None
    prefix, name = found.groups()
    if prefix is None:
        return name
    uri = _XPATH_NS.get(prefix)
    return f"{{{uri}}}{name}" if uri else None


def _load() -> list[Item]:
    path = _table_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise crosswalk.CrosswalkError(f"cannot read {path}: {exc}") from None
    result = []
    for entry in data.get("item", []):
        key = entry["key"]
        result.append(
            Item(
                key=key,
                no=int(entry["no"]),
                label_ja=entry["label_ja"],
                label_en=entry["label_en"],
                required=bool(entry["required"]),
                languages=tuple(entry.get("languages", ())),
                xpath=entry.get("xpath", ""),
                value=entry.get("value"),
                uri=entry.get("uri"),
                required_if=entry.get("required_if"),
                _nodes=_compile(entry.get("xpath"), key),
                _value=_compile(entry.get("value"), key),
                _uri=_compile(entry.get("uri"), key),
                _steps=_steps(entry.get("xpath")),
                _uri_attribute=_attribute(entry.get("uri")),
                _uri_self=(entry.get("uri") or "").strip() == ".",
            )
        )
    return result


def _table() -> list[Item]:
    global _items, _loaded_generation
    # follow crosswalk.reload(), which is what `gateway remap` calls after a manager edits mappings/
    generation = crosswalk._generation
    current = _items
    if current is not None and _loaded_generation == generation:
        return current
    with _lock:
        if _items is None or _loaded_generation != generation:
            _items = _load()
            _loaded_generation = generation
        return _items


def items() -> list[Item]:
    """The Annex-3 items in table order."""
    return list(_table())


_SPACE = re.compile(r"[ \t\r\n]+")


def _text(node: object) -> str:
    """The string value of an XPath result, with XML whitespace collapsed (an ideographic space is content)."""
    if isinstance(node, list):
        node = node[0] if node else ""
    if isinstance(node, etree._Element):
        return _element_text(node)
    elif isinstance(node, bool):
        node = "true" if node else ""
    elif isinstance(node, float):
        node = "" if node != node else (str(int(node)) if node.is_integer() else str(node))
    return _collapse(str(node))


def _element_text(element: etree._Element) -> str:
    # An element without children (nearly every one the table names) is its text.
    return _collapse((element.text or "") if len(element) == 0 else "".join(element.itertext()))


def _collapse(text: str) -> str:
    # Text without a tab, a line break or two spaces in a row is left as it is by the substitution: skip it.
    if "\n" in text or "\t" in text or "\r" in text or "  " in text:
        text = _SPACE.sub(" ", text)
    return text.strip()


def view(canonical: etree._Element) -> dict[str, list[dict[str, str]]]:
    """Every Annex-3 item of a canonical record: key -> [{"value", "lang", "uri"?}, ...] (JSON-serialisable)."""
    result: dict[str, list[dict[str, str]]] = {}
    # the record's top-level elements by tag, for the items that are paths of child steps
    top: dict[str, list[etree._Element]] = {}
    for child in canonical:
        tag = child.tag
        if isinstance(tag, str):  # not a comment or a processing instruction
            top.setdefault(tag, []).append(child)
    for item in _table():
        values: list[dict[str, str]] = []
        if item._steps is not None:
            found: object = _follow(top, item._steps)
        elif item._nodes is not None:
            found = item._nodes(canonical)
        else:
            result[item.key] = values
            continue
        for node in found if isinstance(found, list) else [found]:
            element = isinstance(node, etree._Element)
            lang = node.get(_XML_LANG, "") if element else ""
            if item._value is not None and element:
                value = _text(item._value(node, lang=lang))
            elif element:
                value = _element_text(node)
            else:
                value = _text(node)
            if not value:
                continue
            entry = {"value": value, "lang": lang}
            if element and item._uri is not None:
                if item._uri_attribute is not None:
                    uri = _collapse(node.get(item._uri_attribute) or "")
                elif item._uri_self:
                    uri = _element_text(node)
                else:
                    uri = _text(item._uri(node))
                if uri:
                    entry["uri"] = uri
            values.append(entry)
        result[item.key] = values
    return result


def _follow(top: dict[str, list[etree._Element]], steps: tuple[Step, ...]) -> list[etree._Element]:
    """The elements a path of child steps selects, in document order (as the XPath gives them)."""
    (tag, tests), *rest = steps
    nodes = top.get(tag, [])
    if tests:
        nodes = [node for node in nodes if _passes(node, tests)]
    for tag, tests in rest:
        nodes = [child for node in nodes for child in node.iterchildren(tag) if not tests or _passes(child, tests)]
    return nodes


def _passes(element: etree._Element, tests: tuple[tuple[str, str], ...]) -> bool:
    # XPath's @a = 'v' holds when the attribute is there with exactly that value.  A loop rather than any() over a
    # generator, which costs more than the test itself for the one or two tests a step has.
    for attribute, value in tests:  # noqa: SIM110
        if element.get(attribute) == value:
            return True
    return False


# ---------------------------------------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Funding:
    funder_code: str | None
    funder_name_ja: str | None
    funder_name_en: str | None
    funding_stream_code: str | None
    program_name_ja: str | None
    program_name_en: str | None
    jgn: str | None
    project_name_ja: str | None
    project_name_en: str | None


@dataclass(frozen=True)
class Summary:
    title: str
    resource_type_uri: str | None
    resource_type: str | None
    access_right: str | None
    available_date: str | None
    fundings: tuple[Funding, ...]


# Facts from the COAR access-right vocabulary (mappings/vocab/coar_access_rights.xml).
_ACCESS_BY_URI = {
    "http://purl.org/coar/access_right/c_abf2": "open",
    "http://purl.org/coar/access_right/c_16ec": "restricted",
    "http://purl.org/coar/access_right/c_14cb": "metadata-only",
    "http://purl.org/coar/access_right/c_f1cf": "embargoed",
}
_ACCESS_BY_LABEL = {
    "open access": "open",
    "restricted access": "restricted",
    "metadata only access": "metadata-only",
    "embargoed access": "embargoed",
}

_JP = f"{{{ns.JPCOAR_2}}}"
_TITLE = f"{{{ns.DC}}}title"
_TYPE = f"{{{ns.DC}}}type"
_ACCESS = f"{{{ns.DCTERMS}}}accessRights"
_DATE = f"{{{ns.DATACITE}}}date"
_FUNDING = f"{_JP}fundingReference"


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    return _collapse(text) or None


def _by_lang(elements: list[etree._Element], lang: str) -> str | None:
    for element in elements:
        if element.get(_XML_LANG, "") == lang:
            value = _clean(element.text)
            if value:
                return value
    return None


def _funding(ref: etree._Element) -> Funding:
    funder_code = stream_code = jgn = None
    names: list[etree._Element] = []
    streams: list[etree._Element] = []
    titles: list[etree._Element] = []
    for child in ref:
        tag = child.tag
        if tag == f"{_JP}funderIdentifier":
            if child.get("funderIdentifierType") == "e-Rad_funder":
                funder_code = _clean(child.text)
        elif tag == f"{_JP}funderName":
            names.append(child)
        elif tag == f"{_JP}fundingStreamIdentifier":
            if child.get("fundingStreamIdentifierType") == "JGN_fundingStream":
                stream_code = _clean(child.text)
        elif tag == f"{_JP}fundingStream":
            streams.append(child)
        elif tag == f"{_JP}awardNumber":
            if child.get("awardNumberType") == "JGN":
                jgn = _clean(child.text)
        elif tag == f"{_JP}awardTitle":
            titles.append(child)
    return Funding(
        funder_code=funder_code,
        funder_name_ja=_by_lang(names, "ja"),
        funder_name_en=_by_lang(names, "en"),
        funding_stream_code=stream_code,
        program_name_ja=_by_lang(streams, "ja"),
        program_name_en=_by_lang(streams, "en"),
        jgn=jgn,
        project_name_ja=_by_lang(titles, "ja"),
        project_name_en=_by_lang(titles, "en"),
    )


def summarize(canonical: etree._Element) -> Summary:
    """Title, resource type, access right, available date and fundings of a canonical record."""
    # A single pass over the root's children: the canonical record keeps all of these at the top level.
    title_ja = title_any = None
    type_el = access_el = None
    available = None
    fundings: list[Funding] = []
    for child in canonical:
        tag = child.tag
        if tag == _TITLE:
            text = _clean(child.text)
            if text:
                if title_any is None:
                    title_any = text
                if title_ja is None and child.get(_XML_LANG) == "ja":
                    title_ja = text
        elif tag == _TYPE:
            if type_el is None:
                type_el = child
        elif tag == _ACCESS:
            if access_el is None:
                access_el = child
        elif tag == _DATE:
            if available is None and child.get("dateType") == "Available":
                available = _clean(child.text)
        elif tag == _FUNDING:
            fundings.append(_funding(child))
    access_right = None
    if access_el is not None:
        access_right = _ACCESS_BY_URI.get((access_el.get(_RDF_RESOURCE) or "").strip())
        if access_right is None:
            access_right = _ACCESS_BY_LABEL.get((_clean(access_el.text) or "").lower())
    return Summary(
        title=title_ja or title_any or "",
        resource_type_uri=_clean(type_el.get(_RDF_RESOURCE)) if type_el is not None else None,
        resource_type=_clean(type_el.text) if type_el is not None else None,
        access_right=access_right,
        available_date=available,
        fundings=tuple(fundings),
    )
