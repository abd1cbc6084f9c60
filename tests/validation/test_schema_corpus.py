"""On every real document of the reference corpus, the gateway's schemas (xsd/) give the official schemas' verdict:
official JPCOAR samples, the jpcoar-validator edge cases, WEKO3 fixtures, OAI-PMH spec examples, sickle and invenio
fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway import namespaces as ns
from tests.support.official_schemas import REFERENCE, require_reference
from tests.validation.schema_verdicts import (
    FORMAT_OF_NAMESPACE,
    SAMPLES,
    XSD_REF,
    load_document,
    metadata_children,
    metadata_verdict,
    response_format,
    response_verdict,
)


def _rel(path: Path) -> str:
    return str(path.relative_to(REFERENCE))


def metadata_documents() -> list[tuple[str, etree._Element, str]]:
    """(case id, metadata element, metadataPrefix) for every metadata document in the reference corpus."""
    cases: list[tuple[str, etree._Element, str]] = []
    for version, prefix in (("1.0", "jpcoar_1.0"), ("2.0", "jpcoar_2.0")):
        for path in sorted((XSD_REF / "jpcoar" / version / "samples").glob("*.xml")):
            root = load_document(path)
            if root is not None:
                cases.append((_rel(path), root, prefix))
    files = sorted((SAMPLES / "jpcoar-validator").rglob("*.xml")) + sorted((SAMPLES / "weko3").glob("*.xml"))
    for path in files:
        root = load_document(path)
        if root is None:
            continue
        if etree.QName(root).namespace == ns.OAI:
            for i, child in enumerate(metadata_children(root)):
                prefix = FORMAT_OF_NAMESPACE.get(etree.QName(child).namespace or "")
                if prefix:  # DDI and other formats have no schema here
                    cases.append((f"{_rel(path)}#metadata{i}", child, prefix))
        else:
            prefix = FORMAT_OF_NAMESPACE.get(etree.QName(root).namespace or "")
            if prefix:
                cases.append((_rel(path), root, prefix))
    return cases


def response_documents() -> list[tuple[str, etree._Element, str | None]]:
    """(case id, document root, metadataPrefix it carries) for every OAI-PMH document in the corpus."""
    paths = sorted((XSD_REF / "oai" / "2.0" / "examples").glob("*.xml"))
    for folder in ("sickle", "weko3", "invenio-oaiharvester"):
        paths += sorted((SAMPLES / folder).glob("*.xml"))
    paths.append(SAMPLES / "jpcoar-validator" / "getRecord_02000144.xml")
    cases: list[tuple[str, etree._Element, str | None]] = []
    for path in paths:
        root = load_document(path)
        if root is None:
            continue
        namespace = etree.QName(root).namespace
        if namespace in FORMAT_OF_NAMESPACE:
            continue  # bare metadata documents are covered by metadata_documents()
        cases.append((_rel(path), root, response_format(root)))
    return cases


_METADATA_DOCS = {case_id: (el, prefix) for case_id, el, prefix in metadata_documents()} if XSD_REF.is_dir() else {}
_RESPONSE_DOCS = {case_id: (el, prefix) for case_id, el, prefix in response_documents()} if XSD_REF.is_dir() else {}


@pytest.mark.parametrize("case_id", list(_METADATA_DOCS) or ["REFERENCE-MISSING"])
def test_metadata_document_verdict_matches_official(case_id: str) -> None:
    require_reference()
    element, prefix = _METADATA_DOCS[case_id]
    verdict = metadata_verdict(element, prefix)
    assert verdict.ours == verdict.official, verdict.explain()


@pytest.mark.parametrize("case_id", list(_RESPONSE_DOCS) or ["REFERENCE-MISSING"])
def test_response_document_verdict_matches_official(case_id: str) -> None:
    require_reference()
    element, prefix = _RESPONSE_DOCS[case_id]
    verdict = response_verdict(element, prefix)
    assert verdict.ours == verdict.official, verdict.explain()


def test_corpus_is_complete_and_not_vacuous() -> None:
    require_reference()
    validator_files = list((SAMPLES / "jpcoar-validator").rglob("*.xml"))
    assert len(validator_files) == 137, "expected the 136 jpcoar-validator edge cases + getRecord_02000144.xml"
    validator_cases = [c for c in _METADATA_DOCS if c.startswith("samples/jpcoar-validator/")]
    assert len(validator_cases) >= 137, validator_cases
    assert any("getRecord_02000144.xml#metadata" in c for c in validator_cases)
    assert len([c for c in _METADATA_DOCS if "/samples/" in c and c.startswith("xsd/jpcoar/")]) == 24
    assert len([c for c in _METADATA_DOCS if c.startswith("samples/weko3/")]) >= 12
    assert len([c for c in _RESPONSE_DOCS if "/ex-sec" in c]) == 19

    rejected_metadata = [c for c, (el, p) in _METADATA_DOCS.items() if not metadata_verdict(el, p).official]
    accepted_metadata = len(_METADATA_DOCS) - len(rejected_metadata)
    rejected_responses = [c for c, (el, p) in _RESPONSE_DOCS.items() if not response_verdict(el, p).official]
    # Real documents go both ways: the comparison would be meaningless if everything passed or everything failed.
    assert len(rejected_metadata) >= 10 and accepted_metadata >= 100, (len(rejected_metadata), accepted_metadata)
    assert len(rejected_responses) >= 5 and len(_RESPONSE_DOCS) - len(rejected_responses) >= 20
