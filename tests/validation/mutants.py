"""Systematic mutations of a document: element removed, duplicated, reordered, moved to a wrong namespace, unknown
element or attribute inserted, required attribute dropped, enumeration and datatype values replaced by probes, every
declared element used as a document root; and the documents they start from (`mutation_bases`)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

from lxml import etree

from gateway import namespaces as ns
from tests.validation.schema_verdicts import (
    IDENTIFY_WITH_DESCRIPTION,
    LIST_RECORDS_WITH_ABOUT,
    SAMPLES,
    XSD_REF,
    load_document,
    metadata_children,
)

XML_LANG = f"{{{ns.XML}}}lang"
RDF_RESOURCE = f"{{{ns.RDF}}}resource"

PROBE_TEXT = (
    "__bogus__",
    "",
    " ",
    "0",
    "-1",
    "1",
    "12",
    "31",
    "32",
    "1399",
    "2201",
    "a1",
    "jpn",
    "ja",
    "JPN",
    "ABCD",
    "2020",
    "2020-02",
    "2021-02-29",
    "2020-02-29",
    "2020-13",
    "2020-1-1",
    "2020-01-01T10:00Z",
    "2020-01-01T10:00:00",
    "2020-01-01T10:00:00+09:00",
    "2020-01-01T10:00:00Z",
    "2020/",
    "2020/2021-03",
    "/2020",
    "/",
    "2020//2021",
    "91",
    "-90",
    "180.5",
    "-180",
    "1e2",
    "NaN",
    "INF",
    "http://example.org/x",
    "http://exa mple.org/",
    "open access",
    "True",
    "true",
    "VoR",
    "deleted",
    "oai:example.org:1",
    "oai:example:1",
    "a:b",
    "a::b",
    "a b",
    "no",
    "YYYY-MM-DD",
    "2.0",
    "x@example.org",
    "x@example",
)
PROBE_ATTRIBUTE = (
    "__bogus__",
    "",
    "0",
    "1",
    "01",
    "001",
    "31",
    "32",
    "12",
    "13",
    "1400",
    "1399",
    "2200",
    "2201",
    "+5",
    "ja",
    "ja-Kana",
    "ja-Latn",
    "ja_static",
    "jp",
    "en-US-x-private",
    "toolongsubtag-x",
    "http://example.org/x",
    "http://exa mple.org/",
    "DOI",
    "Abstract",
    "Issued",
    "deleted",
    "true",
    "false",
    "2002-02-02T14:10:02Z",
    "2002-02-02",
    "2002-02-02T14:10:02+09:00",
    "-1",
)
FOREIGN = "urn:example:not-a-schema-namespace"

Mutation = tuple[str, etree._Element]


def element_path(el: etree._Element) -> str:
    steps = []
    while el is not None:
        steps.append(etree.QName(el).localname)
        el = el.getparent()
    return "/".join(reversed(steps))


def unique_elements(root: etree._Element) -> list[etree._Element]:
    """One representative per distinct element path: same-named siblings share a content model."""
    seen: set[str] = set()
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        key = element_path(el)
        if key not in seen:
            seen.add(key)
            out.append(el)
    return out


def _mutate(root: etree._Element, target: etree._Element, change: Callable[[etree._Element], None]) -> etree._Element:
    """Apply ``change`` to the copy of ``target`` inside a fresh copy of ``root``."""
    clone = copy.deepcopy(root)
    index = {id(el): i for i, el in enumerate(root.iter())}[id(target)]
    change(list(clone.iter())[index])
    return clone


def _other_namespace(namespace: str | None) -> str | None:
    swaps = {
        ns.JPCOAR_2: ns.JPCOAR_1,
        ns.JPCOAR_1: ns.JPCOAR_2,
        ns.DC: ns.DCTERMS,
        ns.DCTERMS: ns.DC,
        ns.DATACITE: ns.JPCOAR_2,
        ns.OAIRE: ns.DATACITE,
        ns.DCNDL: ns.DCTERMS,
        ns.RIOXXTERMS: ns.DCTERMS,
        ns.OAI: ns.OAI_DC,
        ns.OAI_DC: ns.OAI,
        ns.OAI_IDENTIFIER: ns.OAI,
        ns.PROVENANCE: ns.OAI,
    }
    return swaps.get(namespace or "", ns.JPCOAR_2)


def _rename(el: etree._Element, namespace: str | None) -> None:
    el.tag = etree.QName(namespace, etree.QName(el).localname).text if namespace else etree.QName(el).localname


def mutations(root: etree._Element, kind: str) -> Iterator[Mutation]:
    elements = unique_elements(root)
    for el in elements:
        where = element_path(el)
        parent = el.getparent()
        leaf = len(el) == 0
        if kind == "remove" and parent is not None:
            yield f"remove {where}", _mutate(root, el, lambda e: e.getparent().remove(e))
            same = [c for c in parent if c.tag == el.tag]
            if len(same) > 1:

                def drop_all(e: etree._Element) -> None:
                    holder = e.getparent()
                    for c in [c for c in holder if c.tag == e.tag]:
                        holder.remove(c)

                yield f"remove all {where}", _mutate(root, el, drop_all)
        elif kind == "duplicate" and parent is not None:
            yield f"duplicate {where}", _mutate(root, el, lambda e: e.addnext(copy.deepcopy(e)))
        elif kind == "reorder" and parent is not None:
            following = el.getnext()
            while following is not None and not isinstance(following.tag, str):
                following = following.getnext()
            if following is not None and following.tag != el.tag:

                def swap(e: etree._Element) -> None:
                    nxt = e.getnext()
                    while not isinstance(nxt.tag, str):
                        nxt = nxt.getnext()
                    nxt.addnext(e)

                yield f"swap {where} with next", _mutate(root, el, swap)
            siblings = [c for c in parent if isinstance(c.tag, str)]
            if el is siblings[0] and len(siblings) > 2 and siblings[-1].tag != el.tag:
                yield f"move {where} to end", _mutate(root, el, lambda e: e.getparent().append(e))
        elif kind == "namespace":
            other = _other_namespace(etree.QName(el).namespace)
            yield f"namespace of {where} -> {other}", _mutate(root, el, lambda e, o=other: _rename(e, o))
            yield f"namespace of {where} -> none", _mutate(root, el, lambda e: _rename(e, None))
        elif kind == "unknown-element":
            namespace = etree.QName(el).namespace
            bogus = etree.QName(namespace, "bogusElement").text if namespace else "bogusElement"
            yield f"unknown child in {where}", _mutate(root, el, lambda e, b=bogus: e.insert(0, etree.Element(b)))
            yield f"foreign child in {where}", _mutate(root, el, lambda e: e.append(etree.Element(f"{{{FOREIGN}}}x")))
            if leaf and parent is not None:
                # A known element where simple content is expected.
                yield f"element inside {where}", _mutate(root, el, lambda e: e.append(copy.deepcopy(e)))
        elif kind == "attributes":
            for name in el.attrib:
                if name.startswith(f"{{{ns.XSI}}}"):
                    continue
                yield f"drop @{name} of {where}", _mutate(root, el, lambda e, n=name: e.attrib.pop(n))
                for value in PROBE_ATTRIBUTE:
                    yield f"@{name}={value!r} on {where}", _mutate(root, el, lambda e, n=name, v=value: e.set(n, v))
            for name in (XML_LANG, RDF_RESOURCE, "bogusAttribute", f"{{{FOREIGN}}}a"):
                if name not in el.attrib:
                    yield f"add @{name} to {where}", _mutate(root, el, lambda e, n=name: e.set(n, "ja"))
        elif kind == "text" and leaf:
            for value in PROBE_TEXT:
                yield f"text {value!r} in {where}", _mutate(root, el, lambda e, v=value: setattr(e, "text", v))
        elif kind == "as-root":
            # Only global declarations may be roots: checks that global/local declarations match the official.
            yield f"{where} as document root", copy.deepcopy(el)


MUTATION_KINDS = ("remove", "duplicate", "reorder", "namespace", "unknown-element", "attributes", "text", "as-root")


def mutation_bases() -> list[tuple[str, etree._Element, str | None, bool]]:
    """(base id, root, prefix, is_response)."""
    bases: list[tuple[str, etree._Element, str | None, bool]] = []
    for version, prefix in (("2.0", "jpcoar_2.0"), ("1.0", "jpcoar_1.0")):
        for path in sorted((XSD_REF / "jpcoar" / version / "samples").glob("*.xml")):
            bases.append((f"jpcoar-{version}/{path.stem}", load_document(path), prefix, False))
    weko_dc = load_document(SAMPLES / "weko3" / "getrecord_oai_dc_full_item.xml")
    if weko_dc is not None:
        standalone = copy.deepcopy(metadata_children(weko_dc)[0])
        bases.append(("oai_dc/weko3-full-item", standalone, "oai_dc", False))
    bases.append(("response/identify", etree.fromstring(IDENTIFY_WITH_DESCRIPTION), None, True))
    bases.append(("response/listrecords-about", etree.fromstring(LIST_RECORDS_WITH_ABOUT), "oai_dc", True))
    for name in ("ListSets.xml", "ListIdentifiers.xml", "badArgument.xml", "ListMetadataFormats.xml"):
        bases.append((f"response/sickle-{name}", load_document(SAMPLES / "sickle" / name), None, True))
    jp2 = load_document(SAMPLES / "weko3" / "getrecord_jpcoar2_00000026.xml")
    if jp2 is not None:
        bases.append(("response/weko3-jpcoar2", jp2, "jpcoar_2.0", True))
    return [b for b in bases if b[1] is not None]
