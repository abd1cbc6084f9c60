"""The Annex-3 view of a canonical record: the common metadata items, read by the table in ``mappings/annex3.toml``.

``view()`` gives every item (for screens, validation and spreadsheets); ``summarize()`` gives the few facts that every
harvested record needs (title, type, access right, fundings) and is kept cheap: it runs for every record of every
harvest, so it uses a handful of precompiled XPaths rather than the whole table.
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
        node = "".join(node.itertext())
    elif isinstance(node, bool):
        node = "true" if node else ""
    elif isinstance(node, float):
        node = "" if node != node else (str(int(node)) if node.is_integer() else str(node))
    return _SPACE.sub(" ", str(node)).strip()


def _lang_of(node: object) -> str:
    if isinstance(node, etree._Element):
        return node.get(_XML_LANG, "")
    return ""


def view(canonical: etree._Element) -> dict[str, list[dict[str, str]]]:
    """Every Annex-3 item of a canonical record: key -> [{"value", "lang", "uri"?}, ...] (JSON-serialisable)."""
    result: dict[str, list[dict[str, str]]] = {}
    for item in _table():
        values: list[dict[str, str]] = []
        if item._nodes is not None:
            found = item._nodes(canonical)
            for node in found if isinstance(found, list) else [found]:
                lang = _lang_of(node)
                if item._value is not None and isinstance(node, etree._Element):
                    value = _text(item._value(node, lang=lang))
                else:
                    value = _text(node)
                if not value:
                    continue
                entry = {"value": value, "lang": lang}
                if item._uri is not None and isinstance(node, etree._Element):
                    uri = _text(item._uri(node))
                    if uri:
                        entry["uri"] = uri
                values.append(entry)
        result[item.key] = values
    return result


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
    return _SPACE.sub(" ", text).strip() or None


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
