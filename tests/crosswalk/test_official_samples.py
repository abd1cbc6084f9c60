"""Official and real samples, read in place from the shared reference folder: each maps to a canonical record and
renderings valid against the OFFICIAL schemas, and keeps its titles, identifiers, access right and awards."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway import annex3, crosswalk
from gateway import namespaces as ns
from gateway.xmlsafe import parse_bytes
from tests.crosswalk.checks import CAO, NSMAP, OUTPUTS, REFERENCE, assert_valid, require_reference, xp


def _official_samples() -> list[tuple[str, Path, int]]:
    """(id, file, index of the metadata element) for every sample; the metadata is read at test time."""
    if not REFERENCE.is_dir():
        return []
    files: list[Path] = []
    files += sorted((REFERENCE / "xsd/jpcoar/2.0/samples").glob("*.xml"))
    files += sorted((REFERENCE / "xsd/jpcoar/1.0/samples").glob("*.xml"))
    files += sorted((REFERENCE / "samples/weko3").glob("*.xml"))
    files += [
        REFERENCE / "samples/invenio-oaiharvester/sample_oai_dc_response.xml",
        REFERENCE / "samples/sickle/ListRecords.xml",
        REFERENCE / "samples/jpcoar-validator/getRecord_02000144.xml",
    ]
    result = []
    for path in files:
        if not path.is_file():
            continue
        for index, _record in enumerate(_records(path)):
            result.append((f"{path.relative_to(REFERENCE).as_posix()}#{index}", path, index))
    return result


def _records(path: Path) -> list[etree._Element]:
    """The metadata of each non-deleted record (or the document itself when it is a bare record)."""
    root = parse_bytes(path.read_bytes())
    if etree.QName(root).namespace == ns.OAI:
        found = []
        for record in root.iter(f"{{{ns.OAI}}}record"):
            header = record.find(f"{{{ns.OAI}}}header")
            if header is not None and header.get("status") == "deleted":
                continue
            metadata = record.find(f"{{{ns.OAI}}}metadata")
            if metadata is not None and len(metadata) and crosswalk.detect_format(metadata[0]) is not None:
                found.append(metadata[0])
        return found
    return [root] if crosswalk.detect_format(root) is not None else []


SAMPLES = _official_samples()


def _titles(element: etree._Element) -> set[str]:
    return {" ".join(t.split()) for t in xp(element, "dc:title") if t.strip()}


@pytest.mark.parametrize("sample", SAMPLES or [None], ids=[s[0] for s in SAMPLES] or ["reference-missing"])
def test_official_sample(sample: tuple[str, Path, int] | None) -> None:
    require_reference()
    assert sample is not None
    _, path, index = sample
    source = _records(path)[index]
    prefix = crosswalk.detect_format(source)
    canonical = crosswalk.to_canonical(source)
    assert_valid("jpcoar_2.0", canonical, f"canonical of {path.name}")
    rendered = {p: crosswalk.render(canonical, p) for p in OUTPUTS}
    for p, element in rendered.items():
        assert_valid(p, element, f"{p} rendering of {path.name}")

    # key content survives the crosswalk
    assert _titles(source) and _titles(source) <= _titles(canonical)
    assert xp(rendered["oai_dc"], "dc:title")
    if prefix in ("jpcoar_2.0", "jpcoar_1.0"):
        src_ids = [v.strip() for v in source.xpath("*[local-name()='identifier']/text()") if v.strip()]
        assert set(src_ids) <= set(xp(canonical, "jpcoar:identifier"))
        assert set(src_ids) <= set(xp(rendered["oai_dc"], "dc:identifier"))
        src_access = source.xpath("string(dcterms:accessRights)", namespaces=NSMAP).strip()
        if src_access:
            assert xp(canonical, "dcterms:accessRights") == [src_access]
            assert xp(rendered["jpcoar_1.0"], "dcterms:accessRights") == [src_access]
        awards = {v.strip() for v in source.xpath(
            "*[local-name()='fundingReference'][*[local-name()='funderName'][normalize-space()]]"
            "/*[local-name()='awardNumber']/text()") if v.strip()}
        assert awards <= set(xp(canonical, "jpcoar:fundingReference/jpcoar:awardNumber"))
        assert awards <= set(xp(rendered["jpcoar_1.0"], "jpcoar1:fundingReference/datacite:awardNumber"))
    else:
        src_ids = [v.strip() for v in source.xpath("dc:identifier/text()", namespaces=NSMAP)]
        assert xp(canonical, "jpcoar:identifier"), "jpcoar:identifier is required and has a stand-in"
        urls = [v for v in src_ids if v.startswith("http")]
        assert set(urls) <= set(xp(canonical, "jpcoar:identifier"))


def test_real_samples_were_found() -> None:
    require_reference()
    names = {s[0].split("#")[0] for s in SAMPLES}
    assert len([n for n in names if n.startswith("xsd/jpcoar/2.0/samples/")]) == 14
    assert len([n for n in names if n.startswith("xsd/jpcoar/1.0/samples/")]) >= 8
    assert CAO in names
    assert "samples/weko3/getrecord_jpcoar2_00000026.xml" in names
    assert "samples/weko3/jpcoar2_full_with_ja-Kana.xml" in names
    assert "samples/jpcoar-validator/getRecord_02000144.xml" in names
    assert "samples/sickle/ListRecords.xml" in names
    assert "samples/invenio-oaiharvester/sample_oai_dc_response.xml" in names
    # deleted records are skipped, not mapped
    assert "samples/weko3/getrecord_oai_dc_deleted.xml" not in names


def test_jgn_of_real_weko_records_survive() -> None:
    require_reference()
    path = REFERENCE / "samples/jpcoar-validator/getRecord_02000144.xml"
    canonical = crosswalk.to_canonical(_records(path)[0])
    summary = annex3.summarize(canonical)
    assert summary.title
    assert summary.resource_type_uri and summary.resource_type_uri.startswith("http://purl.org/coar/resource_type/")
