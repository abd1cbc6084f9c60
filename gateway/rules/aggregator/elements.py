"""The element rules: one per normalised element name, run as the walk meets the element (`HANDLERS`).

Each takes the findings, the record's walk state and the element: it checks what can be seen there (formats of
numbers, media types, versions, places, languages, dissertation numbers; required children) and notes in the walk
state what the rules over the whole record need (the type, the access right, dates, creators, identifiers).
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.rules.aggregator.identifiers import (
    check_award,
    check_identifier,
    check_name_identifier,
    check_typed_identifier,
)
from gateway.rules.aggregator.tables import tables
from gateway.rules.aggregator.values import check_version
from gateway.rules.aggregator.walk import RDF_RESOURCE, XML_LANG, Record, Run, key, text_of

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


def on_type(run: Run, rec: Record, el: etree._Element) -> None:
    rec.type_uri = el.get(RDF_RESOURCE) or ""


def on_access_rights(run: Run, rec: Record, el: etree._Element) -> None:
    rec.access = el


def on_date(run: Run, rec: Record, el: etree._Element) -> None:
    if el.get("dateType") == "Available":
        rec.has_available = True


def on_creator(run: Run, rec: Record, el: etree._Element) -> None:
    rec.has_creator = True


def on_version(run: Run, rec: Record, el: etree._Element) -> None:
    rec.version_label = text_of(el)
    check_version(run, tables(), el)


def on_relation(run: Run, rec: Record, el: etree._Element) -> None:
    if el.get("relationType") == "isVersionOf":
        rec.has_vor_relation = True


def on_identifier(run: Run, rec: Record, el: etree._Element) -> None:
    rec.identifiers.add(text_of(el))
    check_identifier(run, el)


def on_registration(run: Run, rec: Record, el: etree._Element) -> None:
    rec.registrations.append(el)


def on_name_identifier(run: Run, rec: Record, el: etree._Element) -> None:
    check_name_identifier(run, el)


def on_typed_identifier(run: Run, rec: Record, el: etree._Element) -> None:
    check_typed_identifier(run, el)


def on_award_number(run: Run, rec: Record, el: etree._Element) -> None:
    check_award(run, el)


def on_funding_reference(run: Run, rec: Record, el: etree._Element) -> None:
    if not any(key(c) == "jpcoar:funderName" and text_of(c) for c in el):
        run.add("funder_name_not_found", el, "fundingReference without funderName / 助成機関名がありません")


def on_contributor(run: Run, rec: Record, el: etree._Element) -> None:
    if el.get("contributorType") is None and el.getparent() is rec.root:
        run.add("contributor_type_not_found", el, "contributor without contributorType / 寄与者の種別がありません")


def on_volume(run: Run, rec: Record, el: etree._Element) -> None:
    v = text_of(el)
    if v and (_VOLUME_PREFIX.match(v) or not _VOLUME.match(v)):
        local = key(el).partition(":")[2]
        run.add("volume_unnecessary_chars", el, f"{local}: give the number only (no 'Vol.', 'No.')", v)


def on_positive(run: Run, rec: Record, el: etree._Element) -> None:
    v = text_of(el)
    if v and not _POSITIVE.match(v):
        local = key(el).partition(":")[2]
        run.add("positive_integer", el, f"{local} must be a positive integer / 正の整数で記入", v)


def parent_is_file(el: etree._Element) -> bool:
    parent = el.getparent()
    return parent is not None and key(parent) == "jpcoar:file"


def on_extent(run: Run, rec: Record, el: etree._Element) -> None:
    if parent_is_file(el):
        v = text_of(el)
        if v and not _EXTENT.match(v):
            run.add("extent_format", el, "file extent must be a number with a unit (e.g. '24 pages', '3.2 MB')", v)


def on_mime_type(run: Run, rec: Record, el: etree._Element) -> None:
    v = text_of(el)
    if v and not _MIME.match(v):
        run.add("mimetype_format", el, "mimeType must be a media type such as application/pdf", v)


def on_uri(run: Run, rec: Record, el: etree._Element) -> None:
    if parent_is_file(el) and not el.get("objectType"):
        run.add("uri_objecttype_not_found", el, "file URI without objectType (e.g. fulltext, dataset)", text_of(el))


def on_datacite_version(run: Run, rec: Record, el: etree._Element) -> None:
    v = text_of(el)
    if v and not _VERSION.match(v):
        run.add("version_format", el, "version must be a number such as 1.0 (no 'Version')", v)


def on_rights(run: Run, rec: Record, el: etree._Element) -> None:
    if el.get(RDF_RESOURCE) is None and _CC.search(text_of(el)):
        run.add("cc_uri_not_found", el, "a Creative Commons licence needs its URI in rdf:resource", text_of(el))


def on_publisher(run: Run, rec: Record, el: etree._Element) -> None:
    if not any(key(c) == "jpcoar:publisherName" for c in el):
        run.add("publisher_name_not_found", el, "publisher without publisherName / 出版者名がありません")


def on_publication_place(run: Run, rec: Record, el: etree._Element) -> None:
    v = text_of(el)
    if v and not _COUNTRY3.match(v):
        run.add("publication_place_format", el, "publicationPlace must be an ISO 3166-1 alpha-3 code (JPN)", v)


def on_original_language(run: Run, rec: Record, el: etree._Element) -> None:
    v = text_of(el)
    if v and not _LANG3.match(v):
        run.add("original_language_format", el, "originalLanguage must be an ISO 639-3 code (jpn)", v)


def on_dissertation_number(run: Run, rec: Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("dissertationNumber")
    v = text_of(el)
    if v and not _DISSERTATION.match(v):
        run.add("dissertation_number_format", el, "dissertationNumber must look like 甲第1234号", v)


def on_degree_name(run: Run, rec: Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("degreeName")
    rec.degree_langs.add(el.get(XML_LANG) or "")


def on_date_granted(run: Run, rec: Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("dateGranted")


def on_degree_grantor(run: Run, rec: Record, el: etree._Element) -> None:
    rec.dissertation_parts.add("degreeGrantor")
    if not any(key(c) == "jpcoar:nameIdentifier" and c.get("nameIdentifierScheme") == "kakenhi" for c in el):
        run.add("degree_grantor_kakenhi_missing", el, "degreeGrantor needs its institution number (kakenhi)")


HANDLERS = {
    "dc:type": on_type,
    "dcterms:accessRights": on_access_rights,
    "datacite:date": on_date,
    "jpcoar:creator": on_creator,
    "oaire:version": on_version,
    "jpcoar:relation": on_relation,
    "jpcoar:identifier": on_identifier,
    "jpcoar:identifierRegistration": on_registration,
    "jpcoar:nameIdentifier": on_name_identifier,
    "jpcoar:sourceIdentifier": on_typed_identifier,
    "jpcoar:relatedIdentifier": on_typed_identifier,
    "jpcoar:awardNumber": on_award_number,
    "jpcoar:fundingReference": on_funding_reference,
    "jpcoar:contributor": on_contributor,
    "jpcoar:volume": on_volume,
    "jpcoar:issue": on_volume,
    "jpcoar:numPages": on_positive,
    "jpcoar:pageStart": on_positive,
    "jpcoar:pageEnd": on_positive,
    "jpcoar:conferenceSequence": on_positive,
    "jpcoar:extent": on_extent,
    "jpcoar:mimeType": on_mime_type,
    "jpcoar:URI": on_uri,
    "datacite:version": on_datacite_version,
    "dc:rights": on_rights,
    "jpcoar:publisher": on_publisher,
    "dcndl:publicationPlace": on_publication_place,
    "dcndl:originalLanguage": on_original_language,
    "dcndl:dissertationNumber": on_dissertation_number,
    "dcndl:degreeName": on_degree_name,
    "dcndl:dateGranted": on_date_granted,
    "jpcoar:degreeGrantor": on_degree_grantor,
}
