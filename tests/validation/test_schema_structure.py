"""The gateway's schemas as files and as an API: the same global declarations as the official ones, self-contained,
readable issues with paths and lines, compiled once, thread-safe, and the official-response helper itself."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from lxml import etree

from gateway import namespaces as ns
from gateway.schemas import (
    PREFIXES,
    SchemaIssue,
    SchemaUnavailable,
    metadata_schema,
    response_schema,
    validate,
    validate_response,
)
from tests.support.official_schemas import require_reference
from tests.validation.schema_verdicts import IDENTIFY_WITH_DESCRIPTION, LIST_RECORDS_WITH_ABOUT, XSD_REF, xml_parser


def _global_elements(xsd_files: list[Path]) -> set[tuple[str, str]]:
    out = set()
    for path in xsd_files:
        root = etree.parse(str(path), xml_parser()).getroot()
        target = root.get("targetNamespace", "")
        for el in root.findall("{http://www.w3.org/2001/XMLSchema}element"):
            out.add((target, el.get("name")))
    return out


@pytest.mark.parametrize(
    ("ours", "official"),
    [
        ("jpcoar-2.0", "jpcoar/2.0"),
        ("jpcoar-1.0", "jpcoar/1.0"),
    ],
)
def test_same_global_element_declarations(ours: str, official: str) -> None:
    require_reference()
    from gateway.schemas import XSD_DIR

    ours_set = _global_elements(sorted((XSD_DIR / ours).glob("*.xsd")))
    official_set = _global_elements(sorted((XSD_REF / official).glob("*.xsd")))
    assert ours_set == official_set


def test_our_schemas_are_self_contained() -> None:
    from gateway.schemas import XSD_DIR

    for path in XSD_DIR.rglob("*.xsd"):
        root = etree.parse(str(path), xml_parser()).getroot()
        for ref in root.iter("{http://www.w3.org/2001/XMLSchema}import", "{http://www.w3.org/2001/XMLSchema}include"):
            location = ref.get("schemaLocation", "")
            assert "://" not in location, f"{path}: remote schemaLocation {location}"
            assert (path.parent / location).resolve().is_file(), f"{path}: {location} missing"
            assert XSD_DIR.resolve() in (path.parent / location).resolve().parents


def test_validate_reports_readable_issues() -> None:
    doc = etree.fromstring(
        f"""<jpcoar:jpcoar xmlns:jpcoar="{ns.JPCOAR_2}" xmlns:dc="{ns.DC}" xmlns:rdf="{ns.RDF}">
  <dc:title xml:lang="ja">t</dc:title>
  <dc:type rdf:resource="http://purl.org/coar/resource_type/c_ddb1">not a COAR type</dc:type>
  <jpcoar:identifier identifierType="URI">https://example.org/1</jpcoar:identifier>
</jpcoar:jpcoar>""".encode()
    )
    issues = validate(doc, "jpcoar_2.0")
    assert issues and all(isinstance(i, SchemaIssue) for i in issues)
    assert issues[0].path == "/jpcoar:jpcoar/dc:type"
    assert issues[0].line == 3
    assert "not a COAR type" in issues[0].message

    # Default-namespace documents get prefixed paths too (libxml2 itself would say "/*/*").
    plain = etree.fromstring(f'<jpcoar xmlns="{ns.JPCOAR_2}"><title/></jpcoar>'.encode())
    assert [i.path for i in validate(plain, "jpcoar_2.0")] == ["/jpcoar:jpcoar/jpcoar:title"]

    # An element inside a larger document is validated as if it were the root.
    wrapped = etree.fromstring(f'<w xmlns:jpcoar="{ns.JPCOAR_2}"><x/><jpcoar:jpcoar/></w>'.encode())
    issues = validate(wrapped[1], "jpcoar_2.0")
    assert issues and issues[0].path == "/jpcoar:jpcoar"
    # Any global declaration may be a root, as in the official schema: a lone dc:title is valid.
    assert validate(etree.ElementTree(doc[0]), "jpcoar_2.0") == []


def test_response_issue_paths() -> None:
    doc = etree.fromstring(LIST_RECORDS_WITH_ABOUT.replace(b'status="deleted"', b'status="gone"'))
    issues = validate_response(doc, "oai_dc")
    assert [i.path for i in issues] == ["/oai:OAI-PMH/oai:ListRecords/oai:record[2]/oai:header"]
    assert validate_response(etree.fromstring(LIST_RECORDS_WITH_ABOUT), "oai_dc") == []
    # Without the format in the set, strict wildcards refuse an unknown metadata element (oai_dc is always known:
    # Identify and set descriptions may carry it).
    unknown_format = LIST_RECORDS_WITH_ABOUT.replace(b"http://www.openarchives.org/OAI/2.0/oai_dc/", b"urn:example:x")
    assert validate_response(etree.fromstring(unknown_format), None)


def test_schemas_are_compiled_once() -> None:
    for prefix in PREFIXES:
        assert metadata_schema(prefix) is metadata_schema(prefix)
        assert response_schema(prefix) is response_schema(prefix)
        assert response_schema(prefix) is not metadata_schema(prefix)
    assert response_schema(None) is response_schema(None)
    assert metadata_schema("oai_dc") is not metadata_schema("jpcoar_2.0")


def test_concurrent_validation_keeps_errors_apart() -> None:
    good = etree.fromstring(LIST_RECORDS_WITH_ABOUT)
    bad = etree.fromstring(
        LIST_RECORDS_WITH_ABOUT.replace(b"<dc:creator>", b"<dc:bogus>").replace(b"</dc:creator>", b"</dc:bogus>")
    )
    failures: list[str] = []

    def worker(doc: etree._Element, expect_valid: bool) -> None:
        for _ in range(200):
            issues = validate_response(doc, "oai_dc")
            if bool(issues) == expect_valid:
                failures.append(f"expected valid={expect_valid}, got {issues}")
                return

    threads = [threading.Thread(target=worker, args=(d, v)) for d, v in [(good, True), (bad, False)] * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]


def test_unknown_prefix_is_unavailable() -> None:
    with pytest.raises(SchemaUnavailable):
        metadata_schema("ddi")
    with pytest.raises(SchemaUnavailable):
        validate(etree.fromstring(b"<x/>"), "marc21")


def test_assert_valid_response_helper() -> None:
    require_reference()
    from tests.support.official_schemas import assert_valid_response

    assert_valid_response(LIST_RECORDS_WITH_ABOUT, "oai_dc")
    assert_valid_response(IDENTIFY_WITH_DESCRIPTION.decode(), None)
    with pytest.raises(AssertionError, match="cursor"):
        assert_valid_response(LIST_RECORDS_WITH_ABOUT.replace(b'cursor="0"', b'cursor="-1"'), "oai_dc")
    with pytest.raises(AssertionError, match="not well-formed"):
        assert_valid_response(b"<OAI-PMH", None)
    with pytest.raises(KeyError):
        assert_valid_response(LIST_RECORDS_WITH_ABOUT, "ddi")
