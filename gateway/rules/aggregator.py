"""Aggregator quality rules (IRDB / CiNii Research): language tags, identifiers, obsolete values, type-specific needs.

One pass over the tree; the rule table (``mappings/rules/aggregator.toml``) and the vocabularies are loaded once.
Elements are matched by namespace prefix + local name, with every JPCOAR 2.0 namespace spelling normalised to
``jpcoar``, so the rules run the same on a record as received and on the canonical record.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from typing import Any

from lxml import etree

from gateway import crosswalk
from gateway import namespaces as ns
from gateway.rules import ids

Finding = dict[str, Any]

_XML_LANG = f"{{{ns.XML}}}lang"
_RDF_RESOURCE = f"{{{ns.RDF}}}resource"
_PREFIXES = {
    ns.JPCOAR_2: "jpcoar",
    ns.DC: "dc",
    ns.DCTERMS: "dcterms",
    ns.DATACITE: "datacite",
    ns.OAIRE: "oaire",
    ns.DCNDL: "dcndl",
    ns.RDF: "rdf",
}

# Errors block publication; everything else is a warning.  A missing xml:lang is a warning: oai_dc sources cannot
# say the language and the gateway does not guess it.  A rule not listed here is a warning: the aggregator
# accepts such a record and shows it, so withholding it would hide research data for a cosmetic reason.
ERROR_RULES = frozenset(
    {
        "xmllang_duplicated",
        "xmllang_invalid",
        "noja_with_yomi",
        "identifier_type_mismatch",
        "identifier_registration_type_mismatch",
        "identifier_registration_mismatch",
        "name_identifier_mismatch",
        "award_number_format",
        "award_number_type_not_supported",
        "funder_name_not_found",
        "access_rights_without_rdf_resource",
        "access_rights_wrong_uri",
        "access_rights_mismatch",
        "embargoed_without_available_date",
        "version_type_mismatch",
        "contributor_type_not_found",
        "dissertation_details_not_found",
        "no_creator_in_thesis",
        "degree_grantor_kakenhi_missing",
    }
)

_THESIS_TYPES = {
    "http://purl.org/coar/resource_type/c_db06",  # doctoral thesis
    "http://purl.org/coar/resource_type/c_bdcc",  # master thesis
    "http://purl.org/coar/resource_type/c_46ec",  # thesis
}
_DOI_TYPES = {"JaLC", "Crossref", "DataCite"}
_MIME = re.compile(r"^[a-z]+/[0-9A-Za-z!#$&^_.+-]+$")
_EXTENT = re.compile(r"^\d[\d.,]*\s*\S")
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_POSITIVE = re.compile(r"^[1-9]\d*$")
_VOLUME = re.compile(r"^[0-9A-Za-z]+([-/.,][0-9A-Za-z]+)*$")
_VOLUME_PREFIX = re.compile(r"(?i)^(vol|no|issue|iss|number|巻|号|第)")
_DISSERTATION = re.compile(r"^[甲乙]第\d+号$")
_COUNTRY3 = re.compile(r"^[A-Z]{3}$")
_LANG3 = re.compile(r"^[a-z]{3}$")
_CC = re.compile(r"(?i)creative\s*commons|\bcc[ -]by")


class _Tables:
    def __init__(self) -> None:
        path = crosswalk.MAPPINGS_DIR / "rules" / "aggregator.toml"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        self.lang_required = frozenset(data["lang_required"])
        self.lang_unique = frozenset(data["lang_unique"])
        self.yomi_not_needed = frozenset(data["yomi_not_needed"])
        self.wrong_tags: dict[str, str] = dict(data["wrong_language_tags"])
        self.obsolete: dict[str, dict[str, str]] = {k: dict(v) for k, v in data["obsolete"].items()}
        self.obsolete_except: dict[str, set[str]] = {k: set(v) for k, v in data["obsolete_except_in"].items()}
        # One compiled XPath finds the attributes holding an obsolete value (almost always none), instead of asking
        # every element for every attribute; the values are XPath variables, so no quoting of config text is needed.
        paths, self.obsolete_values = [], {}
        for attr, table in self.obsolete.items():
            tests = []
            for old in table:
                name = f"v{len(self.obsolete_values)}"
                self.obsolete_values[name] = old
                tests.append(f".=${name}")
            if tests:
                paths.append(f"descendant-or-self::*/@{attr}[{' or '.join(tests)}]")
        self.obsolete_xpath = etree.XPath(" | ".join(paths) or "/..")
        # Language tags already found well-formed: a record repeats a handful of tags on most of its elements.
        self.good_langs: set[str] = set()
        vocab = crosswalk.MAPPINGS_DIR / "vocab"
        self.access = {
            e.get("uri"): e.get("label") for e in etree.parse(str(vocab / "coar_access_rights.xml")).iter("right")
        }
        self.versions = {
            e.get("uri"): e.get("label") for e in etree.parse(str(vocab / "coar_versions.xml")).iter("version")
        }


@lru_cache(maxsize=1)
def tables() -> _Tables:
    return _Tables()


_KEYS: dict[str, str] = {}
_ELEMENTS = etree.Element  # as a tag filter of iter(): elements only, no comments or processing instructions
_GOOD_LANGS_MAX = 10_000


def _key(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    key = _KEYS.get(tag)
    if key is None:
        key = _KEYS[tag] = _key_of(tag)
    return key


def _key_of(tag: str) -> str:
    if tag[0] != "{":
        return tag
    uri, _, local = tag[1:].partition("}")
    prefix = _PREFIXES.get(uri)
    if prefix is None:
        prefix = "jpcoar" if "jpcoar" in uri.lower() else uri
    return f"{prefix}:{local}"


def _path(el: etree._Element) -> str:
    parts = []
    while el is not None:
        parts.append(_key(el))
        el = el.getparent()
    return "/".join(reversed(parts[:-1])) or parts[-1]


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


class _Run:
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
                "path": path if path is not None else (_path(el) if el is not None else None),
                "value": value,
                "message": message,
            }
        )


class _Record:
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


def check(root: etree._Element) -> list[Finding]:
    """Every aggregator rule over one JPCOAR 2.0 record (canonical or as received).

    One walk in document order; per element only a dictionary lookup decides which element rule runs, because this
    runs twice per record (canonical and as received) in every harvest and remap.
    """
    t = tables()
    run = _Run()
    rec = _Record(root)
    keys = _KEYS
    lang_required = t.lang_required
    good_langs = t.good_langs
    obsolete = t.obsolete.items()
    obsolete_elements = {value.getparent() for value in t.obsolete_xpath(root, **t.obsolete_values)}
    handlers = _HANDLERS
    out = run.out
    # The sibling rules (one value per language under one parent) only find something where a parent has two children
    # of one name and language, or a reading (ja-Kana) out of place or without its Japanese value: the walk notes such
    # parents, and their findings are made after it and put back where a parent-first walk would have made them.
    lang_unique = t.lang_unique
    slots: dict[etree._Element, int] = {}
    lang_seen: set[tuple[etree._Element, str, str]] = set()
    readings: list[tuple[etree._Element, str, str]] = []
    suspects: dict[etree._Element, None] = {}
    for el in root.iter(_ELEMENTS):
        tag = el.tag
        key = keys.get(tag)
        if key is None:
            key = keys[tag] = _key_of(tag)
        lang = el.get(_XML_LANG)
        if lang is not None:
            if lang not in good_langs:
                _check_lang(run, t, el, lang)
            if el is not root:
                seen = (el.getparent(), key, lang)
                if seen not in lang_seen:
                    lang_seen.add(seen)
                elif key in lang_unique:
                    suspects[seen[0]] = None
                if lang == "ja-Kana":
                    readings.append(seen)
        elif key in lang_required:
            text = _text(el)
            if text:
                run.add("xmllang_not_found", el, f"{key} has no xml:lang / 言語属性がありません", text)
        if len(el):
            slots[el] = len(out)
        if obsolete_elements and el in obsolete_elements:
            for attr, table in obsolete:
                old = el.get(attr)
                if old is not None and old in table:
                    _check_obsolete(run, t, el, attr, old, table[old])
        handler = handlers.get(key)
        if handler is not None:
            handler(run, rec, el)
    for parent, key, _ in readings:
        if key in t.yomi_not_needed or (parent, key, "ja") not in lang_seen:
            suspects[parent] = None
    if suspects:
        _insert_sibling_findings(run, t, slots, suspects)

    _check_access(run, t, rec.access, rec.has_available, root)
    for reg in rec.registrations:
        _check_registration(run, reg, rec.identifiers)
    if rec.version_label == "AM" and not rec.has_vor_relation:
        run.add(
            "vor_relation_not_found",
            None,
            "an accepted manuscript should link to the version of record (relation isVersionOf)",
            path="jpcoar:relation",
        )
    if rec.degree_langs and "en" not in rec.degree_langs:
        run.add(
            "degree_name_english",
            None,
            'degreeName should also be given in English (xml:lang="en") / 学位名の英語表記がありません',
            path="dcndl:degreeName",
        )
    if rec.type_uri in _THESIS_TYPES:
        if not rec.has_creator:
            run.add("no_creator_in_thesis", None, "a thesis needs its author (jpcoar:creator)", path="jpcoar:creator")
        missing = {"dissertationNumber", "degreeName", "dateGranted", "degreeGrantor"} - rec.dissertation_parts
        if missing:
            run.add(
                "dissertation_details_not_found",
                None,
                f"a thesis needs {', '.join(sorted(missing))} / 学位論文の必須項目がありません",
                path="dcndl:" + sorted(missing)[0],
            )
    return run.out


def _insert_sibling_findings(
    run: _Run,
    t: _Tables,
    slots: dict[etree._Element, int],
    parents: dict[etree._Element, None],
) -> None:
    visit_order = {parent: order for order, parent in enumerate(slots)}
    inserts = []
    for parent in parents:
        found = _Run()
        _check_siblings(found, t, parent)
        if found.out:
            inserts.append((slots[parent], visit_order[parent], found.out))
    # From the end backwards, so that earlier slots keep their index; a parent visited earlier goes first.
    for slot, _, findings in sorted(inserts, reverse=True):
        run.out[slot:slot] = findings


def _check_obsolete(run: _Run, t: _Tables, el: etree._Element, attr: str, old: str, replacement: str) -> None:
    parent = el.getparent()
    parent_local = _key(parent).partition(":")[2] if parent is not None else ""
    if parent_local not in t.obsolete_except.get(old, ()):
        run.add(
            "obsolete_value", el, f'{attr}="{old}" is obsolete in JPCOAR 2.0: use {replacement} / 廃止された値です', old
        )


# Element rules, one per normalised element name.  Each takes the findings, the record's walk state and the element.


def _on_type(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.type_uri = el.get(_RDF_RESOURCE) or ""


def _on_access_rights(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.access = el


def _on_date(run: _Run, rec: _Record, el: etree._Element) -> None:
    if el.get("dateType") == "Available":
        rec.has_available = True


def _on_creator(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.has_creator = True


def _on_version(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.version_label = _text(el)
    _check_version(run, tables(), el)


def _on_relation(run: _Run, rec: _Record, el: etree._Element) -> None:
    if el.get("relationType") == "isVersionOf":
        rec.has_vor_relation = True


def _on_identifier(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.identifiers.add(_text(el))
    _check_identifier(run, el)


def _on_registration(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.registrations.append(el)


def _on_name_identifier(run: _Run, rec: _Record, el: etree._Element) -> None:
    _check_name_identifier(run, el)


def _on_typed_identifier(run: _Run, rec: _Record, el: etree._Element) -> None:
    _check_typed_identifier(run, el)


def _on_award_number(run: _Run, rec: _Record, el: etree._Element) -> None:
    _check_award(run, el)


def _on_funding_reference(run: _Run, rec: _Record, el: etree._Element) -> None:
    if not any(_key(c) == "jpcoar:funderName" and _text(c) for c in el):
        run.add("funder_name_not_found", el, "fundingReference without funderName / 助成機関名がありません")


def _on_contributor(run: _Run, rec: _Record, el: etree._Element) -> None:
    if el.get("contributorType") is None and el.getparent() is rec.root:
        run.add("contributor_type_not_found", el, "contributor without contributorType / 寄与者の種別がありません")


def _on_volume(run: _Run, rec: _Record, el: etree._Element) -> None:
    v = _text(el)
    if v and (_VOLUME_PREFIX.match(v) or not _VOLUME.match(v)):
        local = _key(el).partition(":")[2]
        run.add("volume_unnecessary_chars", el, f"{local}: give the number only (no 'Vol.', 'No.')", v)


def _on_positive(run: _Run, rec: _Record, el: etree._Element) -> None:
    v = _text(el)
    if v and not _POSITIVE.match(v):
        local = _key(el).partition(":")[2]
        run.add("positive_integer", el, f"{local} must be a positive integer / 正の整数で記入", v)


def _parent_is_file(el: etree._Element) -> bool:
    parent = el.getparent()
    return parent is not None and _key(parent) == "jpcoar:file"


def _on_extent(run: _Run, rec: _Record, el: etree._Element) -> None:
    if _parent_is_file(el):
        v = _text(el)
        if v and not _EXTENT.match(v):
            run.add("extent_format", el, "file extent must be a number with a unit (e.g. '24 pages', '3.2 MB')", v)


def _on_mime_type(run: _Run, rec: _Record, el: etree._Element) -> None:
    v = _text(el)
    if v and not _MIME.match(v):
        run.add("mimetype_format", el, "mimeType must be a media type such as application/pdf", v)


def _on_uri(run: _Run, rec: _Record, el: etree._Element) -> None:
    if _parent_is_file(el) and not el.get("objectType"):
        run.add("uri_objecttype_not_found", el, "file URI without objectType (e.g. fulltext, dataset)", _text(el))


def _on_datacite_version(run: _Run, rec: _Record, el: etree._Element) -> None:
    v = _text(el)
    if v and not _VERSION.match(v):
        run.add("version_format", el, "version must be a number such as 1.0 (no 'Version')", v)


def _on_rights(run: _Run, rec: _Record, el: etree._Element) -> None:
    if el.get(_RDF_RESOURCE) is None and _CC.search(_text(el)):
        run.add("cc_uri_not_found", el, "a Creative Commons licence needs its URI in rdf:resource", _text(el))


def _on_publisher(run: _Run, rec: _Record, el: etree._Element) -> None:
    if not any(_key(c) == "jpcoar:publisherName" for c in el):
        run.add("publisher_name_not_found", el, "publisher without publisherName / 出版者名がありません")


def _on_publication_place(run: _Run, rec: _Record, el: etree._Element) -> None:
    v = _text(el)
    if v and not _COUNTRY3.match(v):
        run.add("publication_place_format", el, "publicationPlace must be an ISO 3166-1 alpha-3 code (JPN)", v)


def _on_original_language(run: _Run, rec: _Record, el: etree._Element) -> None:
    v = _text(el)
    if v and not _LANG3.match(v):
        run.add("original_language_format", el, "originalLanguage must be an ISO 639-3 code (jpn)", v)


def _on_dissertation_number(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("dissertationNumber")
    v = _text(el)
    if v and not _DISSERTATION.match(v):
        run.add("dissertation_number_format", el, "dissertationNumber must look like 甲第1234号", v)


def _on_degree_name(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("degreeName")
    rec.degree_langs.add(el.get(_XML_LANG) or "")


def _on_date_granted(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("dateGranted")


def _on_degree_grantor(run: _Run, rec: _Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("degreeGrantor")
    if not any(_key(c) == "jpcoar:nameIdentifier" and c.get("nameIdentifierScheme") == "kakenhi" for c in el):
        run.add("degree_grantor_kakenhi_missing", el, "degreeGrantor needs its institution number (kakenhi)")


_HANDLERS = {
    "dc:type": _on_type,
    "dcterms:accessRights": _on_access_rights,
    "datacite:date": _on_date,
    "jpcoar:creator": _on_creator,
    "oaire:version": _on_version,
    "jpcoar:relation": _on_relation,
    "jpcoar:identifier": _on_identifier,
    "jpcoar:identifierRegistration": _on_registration,
    "jpcoar:nameIdentifier": _on_name_identifier,
    "jpcoar:sourceIdentifier": _on_typed_identifier,
    "jpcoar:relatedIdentifier": _on_typed_identifier,
    "jpcoar:awardNumber": _on_award_number,
    "jpcoar:fundingReference": _on_funding_reference,
    "jpcoar:contributor": _on_contributor,
    "jpcoar:volume": _on_volume,
    "jpcoar:issue": _on_volume,
    "jpcoar:numPages": _on_positive,
    "jpcoar:pageStart": _on_positive,
    "jpcoar:pageEnd": _on_positive,
    "jpcoar:conferenceSequence": _on_positive,
    "jpcoar:extent": _on_extent,
    "jpcoar:mimeType": _on_mime_type,
    "jpcoar:URI": _on_uri,
    "datacite:version": _on_datacite_version,
    "dc:rights": _on_rights,
    "jpcoar:publisher": _on_publisher,
    "dcndl:publicationPlace": _on_publication_place,
    "dcndl:originalLanguage": _on_original_language,
    "dcndl:dissertationNumber": _on_dissertation_number,
    "dcndl:degreeName": _on_degree_name,
    "dcndl:dateGranted": _on_date_granted,
    "jpcoar:degreeGrantor": _on_degree_grantor,
}


def _check_lang(run: _Run, t: _Tables, el: etree._Element, lang: str) -> None:
    if lang in t.wrong_tags:
        run.add("xmllang_invalid", el, f'xml:lang="{lang}" is not a language tag: use "{t.wrong_tags[lang]}"', lang)
    elif not ids.lang_tag_shape_ok(lang):
        run.add("xmllang_invalid", el, f'xml:lang="{lang}" is not a BCP 47 language tag / 言語タグが不正です', lang)
    elif len(t.good_langs) < _GOOD_LANGS_MAX:
        t.good_langs.add(lang)


def _check_siblings(run: _Run, t: _Tables, parent: etree._Element) -> None:
    """Per element name under one parent: one value per language, no reading without its Japanese value."""
    seen: dict[str, set[str]] = {}
    for child in parent:
        lang = child.get(_XML_LANG)
        if lang is None:
            continue
        key = _key(child)
        if not key:
            continue
        langs = seen.setdefault(key, set())
        if lang in langs and key in t.lang_unique:
            run.add(
                "xmllang_duplicated",
                child,
                f'two {key} in xml:lang="{lang}" / 同じ言語の値が重複しています',
                _text(child),
            )
        langs.add(lang)
        if lang == "ja-Kana" and key in t.yomi_not_needed:
            run.add(
                "yomi_not_needed",
                child,
                f"{key}: the reading (ja-Kana) belongs on the full name, not here",
                _text(child),
            )
    for key, langs in seen.items():
        if "ja-Kana" in langs and "ja" not in langs:
            run.add(
                "noja_with_yomi",
                None,
                f"{key} has a reading (ja-Kana) but no Japanese value / 読みに対応する日本語がありません",
                path=f"{_path(parent)}/{key}",
            )


def _check_identifier(run: _Run, el: etree._Element) -> None:
    kind, value = el.get("identifierType"), _text(el)
    ok = {"DOI": ids.doi_uri_ok, "HDL": ids.hdl_uri_ok, "URI": ids.uri_ok}.get(kind or "")
    if ok is None:
        run.add("identifier_type_mismatch", el, f"identifierType '{kind}' is not DOI, HDL or URI", kind)
    elif not ok(value):
        run.add(
            "identifier_type_mismatch", el, f"'{value}' is not a {kind} in URI form (e.g. https://doi.org/10.…)", value
        )


def _check_registration(run: _Run, el: etree._Element, identifiers: set[str]) -> None:
    kind, value = el.get("identifierType"), _text(el)
    if kind in _DOI_TYPES:
        if not ids.doi_ok(value):
            run.add(
                "identifier_registration_type_mismatch", el, f"a {kind} DOI is given as prefix/suffix (10.…/…)", value
            )
        elif f"https://doi.org/{value}" not in identifiers:
            run.add(
                "identifier_registration_mismatch",
                el,
                "the registered DOI is not among the identifiers (jpcoar:identifier DOI)",
                value,
            )
    elif kind == "PMID":
        if not value.isdigit():
            run.add("identifier_registration_type_mismatch", el, "a PMID is digits only", value)
    else:
        run.add("identifier_registration_type_mismatch", el, f"identifierRegistration type '{kind}' is not known", kind)


_SCHEME_CHECKS = {
    "ORCID": ids.orcid_ok,
    "ISNI": ids.isni_ok,
    "ROR": ids.ror_ok,
    "e-Rad_Researcher": ids.erad_ok,
}


def _check_name_identifier(run: _Run, el: etree._Element) -> None:
    scheme, value = el.get("nameIdentifierScheme") or "", _text(el)
    if value.startswith(("http://", "https://")) and scheme != "ROR":
        # ROR is written as its URI in JPCOAR 2.0 (official sample 14); every other scheme takes the bare identifier.
        run.add(
            "name_identifier_content_is_uri",
            el,
            f"{scheme}: give the identifier itself; the URI goes in nameIdentifierURI",
            value,
        )
        return
    ok = _SCHEME_CHECKS.get(scheme)
    if ok is not None and not ok(value):
        run.add(
            "name_identifier_mismatch",
            el,
            f"'{value}' is not a well-formed {scheme} identifier (format or checksum)",
            value,
        )


def _check_typed_identifier(run: _Run, el: etree._Element) -> None:
    kind, value = el.get("identifierType"), _text(el)
    if kind in ("PISSN", "EISSN", "ISSN") and value and not ids.issn_ok(value):
        run.add("issn_checksum", el, "ISSN check digit is wrong", value)
    elif kind == "ISBN" and value and not ids.isbn_ok(value):
        run.add("isbn_checksum", el, "ISBN check digit is wrong", value)
    elif kind == "DOI" and value and not (ids.doi_ok(value) or ids.doi_uri_ok(value)):
        run.add("identifier_type_mismatch", el, "not a DOI", value)


def _check_award(run: _Run, el: etree._Element) -> None:
    kind, value = el.get("awardNumberType"), _text(el)
    if kind is None:
        return
    if kind != "JGN":
        run.add("award_number_type_not_supported", el, f"awardNumberType '{kind}': only JGN (体系的番号) is used", kind)
    elif not ids.jgn_ok(value):
        run.add(
            "award_number_format",
            el,
            "a Japan Grant Number is 'JP' + the systematic number / 体系的番号の形式が不正です",
            value,
        )


def _check_version(run: _Run, t: _Tables, el: etree._Element) -> None:
    uri = el.get(_RDF_RESOURCE)
    if uri is None:
        return
    label = t.versions.get(uri)
    if label is None or label != _text(el):
        run.add("version_type_mismatch", el, f"oaire:version: '{_text(el)}' and {uri} do not agree (COAR version)", uri)


def _check_access(run: _Run, t: _Tables, el: etree._Element | None, has_available: bool, root: etree._Element) -> None:
    if el is None:
        return
    uri = el.get(_RDF_RESOURCE)
    if uri is None:
        run.add("access_rights_without_rdf_resource", el, "accessRights needs the COAR URI in rdf:resource", _text(el))
        return
    label = t.access.get(uri)
    if label is None:
        run.add("access_rights_wrong_uri", el, "accessRights URI is not a COAR access right", uri)
        return
    if _text(el) and _text(el) != label:
        run.add("access_rights_mismatch", el, f"accessRights: '{_text(el)}' but the URI means '{label}'", _text(el))
    if label == "embargoed access" and not has_available:
        run.add(
            "embargoed_without_available_date", el, 'embargoed access needs datacite:date dateType="Available"', uri
        )
    elif label != "embargoed access" and has_available:
        # After an embargo ends the date is often kept; harmless for publication, but worth tidying.
        run.add("available_date_not_embargoed", el, "an Available date on a record that is not embargoed", label)
