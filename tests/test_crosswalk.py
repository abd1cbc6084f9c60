"""Crosswalks (mappings/*.xsl via gateway.crosswalk) and the Annex-3 view (gateway.annex3).

Golden files: ``tests/fixtures/crosswalk/golden/<fixture>.<output>.xml``; run with ``GATEWAY_UPDATE_GOLDEN=1`` to
rewrite them after an intended mapping change (then review the diff).  Official and real samples are read in place
from the shared reference folder and every result is validated against the OFFICIAL schemas.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from gateway import annex3, crosswalk
from gateway import namespaces as ns
from gateway.xmlsafe import parse_bytes

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "crosswalk"
GOLDEN = FIXTURES / "golden"
UPDATE_GOLDEN = os.environ.get("GATEWAY_UPDATE_GOLDEN") == "1"
OUTPUTS = ("jpcoar_2.0", "jpcoar_1.0", "oai_dc")
NSMAP = {k: v for k, v in ns.NSMAP.items() if k != "xml"}


def _shared_reference() -> Path:
    shared = os.environ.get("GATEWAY_SHARED_DIR")
    base = Path(shared).expanduser() if shared else Path(__file__).resolve().parents[2] / "shared"
    return base / "reference"


REFERENCE = _shared_reference()


# ---------------------------------------------------------------------------------------------- official schemas

def _schema_validator() -> Callable[[str, etree._Element], tuple[bool, str]]:
    """Validation against the official schemas: the shared helper when it is there, else a private offline loader."""
    try:
        from tests.official_schemas import official_metadata_schema, official_validate

        def validate(prefix: str, element: etree._Element) -> tuple[bool, str]:
            return official_validate(official_metadata_schema(prefix), _fresh(element))

        return validate
    except ImportError:
        pass

    xsd = REFERENCE / "xsd"
    remote = {
        "http://www.w3.org/2001/03/xml.xsd": xsd / "w3c/xml.xsd",
        "http://www.w3.org/2009/01/xml.xsd": xsd / "w3c/xml.xsd",
        "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": xsd / "oai/dcmi/simpledc20021212.xsd",
    }

    class Offline(etree.Resolver):
        def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
            if url in remote:
                return self.resolve_filename(str(remote[url]), context)
            if url.startswith("http://www.openarchives.org/OAI/2.0/"):
                return self.resolve_filename(str(xsd / "oai/2.0" / url.rsplit("/", 1)[1]), context)
            return None

    files = {"jpcoar_2.0": "jpcoar/2.0/jpcoar_scm.xsd", "jpcoar_1.0": "jpcoar/1.0/jpcoar_scm.xsd",
             "oai_dc": "oai/2.0/oai_dc.xsd"}
    cache: dict[str, etree.XMLSchema] = {}
    lock = threading.Lock()

    def validate(prefix: str, element: etree._Element) -> tuple[bool, str]:
        with lock:
            if prefix not in cache:
                parser = etree.XMLParser(no_network=True)
                parser.resolvers.add(Offline())
                cache[prefix] = etree.XMLSchema(etree.parse(str(xsd / files[prefix]), parser))
            schema = cache[prefix]
            ok = schema.validate(_fresh(element))
            return ok, "" if ok else str(schema.error_log)

    return validate


def _fresh(element: etree._Element) -> etree._ElementTree:
    # validate the serialised form: that is what is stored and served
    return etree.ElementTree(etree.fromstring(crosswalk.serialize(element)))


_validate = _schema_validator()


def require_reference() -> None:
    if not (REFERENCE / "xsd" / "jpcoar" / "2.0" / "jpcoar_scm.xsd").is_file():
        pytest.skip(
            f"OFFICIAL REFERENCE MISSING: {REFERENCE} not found (set GATEWAY_SHARED_DIR to the 'shared' folder); "
            "crosswalk outputs are NOT being checked against the official schemas"
        )


def assert_valid(prefix: str, element: etree._Element, what: str) -> None:
    require_reference()
    ok, log = _validate(prefix, element)
    assert ok, f"{what} is not valid {prefix}:\n{log}\n{crosswalk.serialize(element).decode()[:3000]}"


# ---------------------------------------------------------------------------------------------- helpers

def load(name: str) -> etree._Element:
    return parse_bytes((FIXTURES / name).read_bytes())


def xp(element: etree._Element, path: str) -> list[str]:
    return [v if isinstance(v, str) else "".join(v.itertext()) for v in element.xpath(path, namespaces=NSMAP)]


def c14n(data: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n")


def pretty(element: etree._Element) -> bytes:
    copy = etree.fromstring(crosswalk.serialize(element))
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="UTF-8", xml_declaration=True) + b"\n"


FIXTURE_FORMATS = {
    "dataset_full_2.0.xml": "jpcoar_2.0",
    "weko_irdb_2.0.xml": "jpcoar_2.0",
    "article_1.0.xml": "jpcoar_1.0",
    "dspace_oai_dc.xml": "oai_dc",
    "out_of_order_2.0.xml": "jpcoar_2.0",
}


@pytest.fixture(scope="module")
def mapped() -> dict[str, dict[str, etree._Element]]:
    result = {}
    for name in FIXTURE_FORMATS:
        canonical = crosswalk.to_canonical(load(name))
        result[name] = {"canonical": canonical, **{p: crosswalk.render(canonical, p) for p in OUTPUTS}}
    return result


# ---------------------------------------------------------------------------------------------- registry, detection

def test_formats_registry_in_file_order() -> None:
    formats = crosswalk.formats()
    assert list(formats) == ["jpcoar_2.0", "jpcoar_1.0", "oai_dc"]
    jp2 = formats["jpcoar_2.0"]
    assert jp2.namespace == ns.JPCOAR_2
    assert jp2.schema == "https://github.com/JPCOAR/schema/blob/master/2.0/jpcoar_scm.xsd"
    assert set(jp2.input_namespaces) == {ns.JPCOAR_2, ns.JPCOAR_2_IRDB}
    assert formats["jpcoar_1.0"].schema == "https://github.com/JPCOAR/schema/blob/master/1.0/jpcoar_scm.xsd"
    assert formats["oai_dc"].schema == "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    assert formats["oai_dc"].namespace == ns.OAI_DC
    assert crosswalk.CANONICAL_PREFIX == "jpcoar_2.0"


@pytest.mark.parametrize("name, prefix", sorted(FIXTURE_FORMATS.items()))
def test_detect_format_fixtures(name: str, prefix: str) -> None:
    assert crosswalk.detect_format(load(name)) == prefix


def test_detect_format_namespace_variants() -> None:
    github = etree.fromstring(f'<j:jpcoar xmlns:j="{ns.JPCOAR_2}"/>'.encode())
    irdb = etree.fromstring(f'<j:jpcoar xmlns:j="{ns.JPCOAR_2_IRDB}"/>'.encode())
    v1 = etree.fromstring(f'<j:jpcoar xmlns:j="{ns.JPCOAR_1}"/>'.encode())
    dc = etree.fromstring(f'<d:dc xmlns:d="{ns.OAI_DC}"/>'.encode())
    wrapped = etree.fromstring(
        f'<metadata xmlns="{ns.OAI}"><j:jpcoar xmlns:j="{ns.JPCOAR_2_IRDB}"/></metadata>'.encode()
    )
    assert crosswalk.detect_format(github) == "jpcoar_2.0"
    assert crosswalk.detect_format(irdb) == "jpcoar_2.0"
    assert crosswalk.detect_format(v1) == "jpcoar_1.0"
    assert crosswalk.detect_format(dc) == "oai_dc"
    assert crosswalk.detect_format(wrapped) == "jpcoar_2.0"
    assert crosswalk.detect_format(etree.fromstring(b"<mods xmlns='http://www.loc.gov/mods/v3'/>")) is None


def test_errors_are_clear() -> None:
    with pytest.raises(crosswalk.CrosswalkError, match="cannot tell the metadata format"):
        crosswalk.to_canonical(etree.fromstring(b"<mods xmlns='http://www.loc.gov/mods/v3'/>"))
    with pytest.raises(crosswalk.CrosswalkError, match="unknown metadata format"):
        crosswalk.to_canonical(load("dspace_oai_dc.xml"), "marc21")
    with pytest.raises(crosswalk.CrosswalkError, match=r"record is oai_dc, not jpcoar_2\.0"):
        crosswalk.to_canonical(load("dspace_oai_dc.xml"), "jpcoar_2.0")
    with pytest.raises(crosswalk.CrosswalkError, match="not a JPCOAR record"):
        crosswalk.to_canonical(etree.fromstring(b"<other/>"), "jpcoar_2.0")
    canonical = crosswalk.to_canonical(load("out_of_order_2.0.xml"))
    with pytest.raises(crosswalk.CrosswalkError, match="unknown metadata format"):
        crosswalk.render(canonical, "datacite")
    with pytest.raises(crosswalk.CrosswalkError, match="expected a canonical"):
        crosswalk.render(load("dspace_oai_dc.xml"), "oai_dc")


# ---------------------------------------------------------------------------------------------- golden files

@pytest.mark.parametrize("output", ["canonical", *OUTPUTS])
@pytest.mark.parametrize("name", sorted(FIXTURE_FORMATS))
def test_golden(name: str, output: str, mapped: dict[str, dict[str, etree._Element]]) -> None:
    element = mapped[name][output]
    golden = GOLDEN / f"{Path(name).stem}.{output}.xml"
    if UPDATE_GOLDEN or not golden.exists():
        if not UPDATE_GOLDEN:
            pytest.fail(f"golden file {golden.name} missing: run with GATEWAY_UPDATE_GOLDEN=1 and review it")
        golden.write_bytes(pretty(element))
    assert c14n(crosswalk.serialize(element)) == c14n(golden.read_bytes()), (
        f"{name} -> {output} differs from {golden.name} (GATEWAY_UPDATE_GOLDEN=1 rewrites it after review)"
    )


@pytest.mark.parametrize("name", sorted(FIXTURE_FORMATS))
def test_fixture_outputs_are_valid(name: str, mapped: dict[str, dict[str, etree._Element]]) -> None:
    assert_valid("jpcoar_2.0", mapped[name]["canonical"], f"canonical of {name}")
    for prefix in OUTPUTS:
        assert_valid(prefix, mapped[name][prefix], f"{prefix} of {name}")


def test_serialize_is_deterministic_utf8_without_declaration(mapped: dict[str, dict[str, etree._Element]]) -> None:
    canonical = mapped["dataset_full_2.0.xml"]["canonical"]
    data = crosswalk.serialize(canonical)
    assert not data.startswith(b"<?xml")
    assert "市販加工食品".encode() in data
    again = crosswalk.serialize(crosswalk.to_canonical(load("dataset_full_2.0.xml")))
    assert data == again
    # the canonical record declares its namespaces once, on the root, and carries no schemaLocation
    assert b"schemaLocation" not in data
    assert data.count(b"xmlns:jpcoar=") == 1


# ---------------------------------------------------------------------------------------------- mapping content

def test_full_dataset_keeps_everything(mapped: dict[str, dict[str, etree._Element]]) -> None:
    m = mapped["dataset_full_2.0.xml"]
    c = m["canonical"]
    assert xp(c, "dc:title/@xml:lang") == ["ja", "en"]
    assert xp(c, "jpcoar:fundingReference/jpcoar:awardNumber[@awardNumberType='JGN']") == ["JPCACAA12345678"]
    assert xp(c, "jpcoar:identifier/@identifierType") == ["DOI", "URI"]
    # jpcoar_2.0 out = canonical + schemaLocation
    out2 = m["jpcoar_2.0"]
    assert out2.get(f"{{{ns.XSI}}}schemaLocation") == (
        f"{ns.JPCOAR_2} https://github.com/JPCOAR/schema/blob/master/2.0/jpcoar_scm.xsd"
    )
    assert len(out2) == len(c)
    # jpcoar_1.0: funding moves to datacite, the stream (2.0 only) goes, e-Rad scheme renamed, ROR dropped
    v1 = m["jpcoar_1.0"]
    assert v1.tag == f"{{{ns.JPCOAR_1}}}jpcoar"
    assert xp(v1, "jpcoar1:fundingReference/datacite:awardNumber") == ["JPCACAA12345678"]
    assert xp(v1, "jpcoar1:fundingReference/datacite:funderIdentifier/@funderIdentifierType") == ["Other"]
    assert not xp(v1, "//jpcoar1:fundingStream")
    assert xp(v1, "jpcoar1:creator/jpcoar1:nameIdentifier/@nameIdentifierScheme") == ["e-Rad"]
    assert not xp(v1, "//jpcoar1:nameIdentifier[@nameIdentifierScheme='ROR']")
    assert xp(v1, "dc:type") == ["dataset"]  # measurement and test data is a 2.0-only dataset subtype
    assert xp(v1, "dc:type/@rdf:resource") == ["http://purl.org/coar/resource_type/c_ddb1"]
    assert xp(v1, "jpcoar1:subject[1]/@subjectScheme") == ["Other"]
    # oai_dc: access right as info:eu-repo, embargo end, grant
    dc = m["oai_dc"]
    assert "info:eu-repo/semantics/embargoedAccess" in xp(dc, "dc:rights")
    assert "info:eu-repo/date/embargoEnd/2026-04-01" in xp(dc, "dc:date")
    assert "info:eu-repo/grantAgreement/1020/CA/JPCACAA12345678" in xp(dc, "dc:relation")
    assert xp(dc, "dc:creator") == ["食品, 安全", "Shokuhin, Anzen", "検査, 花子", "Kensa, Hanako"]
    assert "https://doi.org/10.99999/example.fsd.0001" in xp(dc, "dc:identifier")


def test_weko_irdb_record_is_normalised(mapped: dict[str, dict[str, etree._Element]]) -> None:
    c = mapped["weko_irdb_2.0.xml"]["canonical"]
    assert c.tag == f"{{{ns.JPCOAR_2}}}jpcoar"
    assert all(ns.JPCOAR_2_IRDB not in str(el.tag) for el in c.iter())
    assert xp(c, "jpcoar:creator/jpcoar:givenName/@xml:lang") == ["ja-static"]
    assert xp(c, "jpcoar:contributor/@contributorType") == []  # "test_type" is not in the vocabulary
    assert not c.xpath("//rioxxterms:apc", namespaces=NSMAP)
    # the date with no dateType is kept, as a free-text date; the zone-less date-time is cut to the day
    assert xp(c, "dcterms:date") == ["2025-04-30"]
    assert xp(c, "datacite:date[@dateType='Issued']") == ["2025-04-30"]
    assert xp(c, "dc:language") == ["jpn"]
    assert xp(c, "jpcoar:identifier[@identifierType='HDL']") == ["https://hdl.handle.net/99999/42"]
    assert not xp(c, "jpcoar:volume")
    assert xp(c, "jpcoar:fundingReference/jpcoar:awardNumber") == ["JPCACAA87654321"]


def test_jpcoar1_article_maps_to_2(mapped: dict[str, dict[str, etree._Element]]) -> None:
    m = mapped["article_1.0.xml"]
    c = m["canonical"]
    assert xp(c, "jpcoar:creator/jpcoar:nameIdentifier/@nameIdentifierScheme") == ["e-Rad_Researcher"]
    assert xp(c, "jpcoar:subject/@subjectScheme") == ["SciVal"]
    assert xp(c, "jpcoar:fundingReference/jpcoar:funderIdentifier") == ["https://doi.org/10.13039/501100001691"]
    assert xp(c, "jpcoar:fundingReference/jpcoar:awardNumber/@awardURI") == [
        "https://kaken.nii.ac.jp/grant/KAKENHI-PROJECT-99K99999/"
    ]
    assert xp(c, "oaire:version") == ["VoR"]
    assert xp(c, "jpcoar:pageStart") == ["34"]
    # and back: the 1.0 rendering carries the same funding in the 1.0 places
    v1 = m["jpcoar_1.0"]
    assert xp(v1, "jpcoar1:fundingReference/datacite:awardNumber") == ["99K99999"]
    assert xp(v1, "jpcoar1:fundingReference/datacite:funderIdentifier/@funderIdentifierType") == ["Crossref Funder"]
    assert xp(v1, "jpcoar1:subject/@subjectScheme") == ["Sci-Val"]


def test_oai_dc_maps_to_2(mapped: dict[str, dict[str, etree._Element]]) -> None:
    c = mapped["dspace_oai_dc.xml"]["canonical"]
    assert xp(c, "dc:type") == ["dataset"]
    assert xp(c, "dc:type/@rdf:resource") == ["http://purl.org/coar/resource_type/c_ddb1"]
    assert xp(c, "oaire:version/@rdf:resource") == ["http://purl.org/coar/version/c_970fb48d4fbd8a85"]
    ids = dict(zip(xp(c, "jpcoar:identifier"), xp(c, "jpcoar:identifier/@identifierType"), strict=True))
    assert ids == {"http://hdl.handle.net/99999/123": "HDL", "https://doi.org/10.99999/allergen.2024": "DOI"}
    assert xp(c, "dcterms:accessRights") == ["embargoed access"]
    assert xp(c, "dcterms:accessRights/@rdf:resource") == ["http://purl.org/coar/access_right/c_f1cf"]
    assert xp(c, "dc:rights/@rdf:resource") == ["https://creativecommons.org/licenses/by-nc/4.0/"]
    assert xp(c, "datacite:date[@dateType='Issued']") == ["2024-10"]
    assert xp(c, "datacite:date[@dateType='Available']") == ["2025-10-01"]
    assert xp(c, "dc:language") == ["eng"]
    assert xp(c, "jpcoar:relation/jpcoar:relatedIdentifier/@identifierType") == ["DOI"]
    assert xp(c, "jpcoar:relation/jpcoar:relatedTitle") == ["Part of the Allergen Survey series"]
    assert xp(c, "jpcoar:creator/jpcoar:creatorName") == ["Yamada, Taro", "Suzuki, Hanako"]
    assert annex3.summarize(c).access_right == "embargoed"


def test_out_of_order_record_is_reordered(mapped: dict[str, dict[str, etree._Element]]) -> None:
    c = mapped["out_of_order_2.0.xml"]["canonical"]
    order = [etree.QName(child).localname for child in c]
    assert order == ["title", "creator", "accessRights", "date", "type", "identifier", "fundingReference"]
    ref = [etree.QName(child).localname for child in c.find("jpcoar:fundingReference", NSMAP)]
    assert ref == ["funderName", "fundingStream", "awardNumber"]
    assert xp(c, "dcterms:accessRights/@rdf:resource") == ["http://purl.org/coar/access_right/c_16ec"]
    assert xp(c, "dc:type") == ["dataset"]


def _dc(body: str) -> etree._Element:
    return etree.fromstring(
        f'<oai_dc:dc xmlns:oai_dc="{ns.OAI_DC}" xmlns:dc="{ns.DC}">{body}</oai_dc:dc>'.encode()
    )


def test_unknown_dc_type_is_other_and_identifier_has_a_stand_in() -> None:
    c = crosswalk.to_canonical(_dc(
        "<dc:title>x</dc:title><dc:type>Something odd</dc:type><dc:identifier>ISBN 978-4-00-000000-0</dc:identifier>"
    ))
    assert xp(c, "dc:type") == ["other"]
    assert xp(c, "dc:type/@rdf:resource") == ["http://purl.org/coar/resource_type/c_1843"]
    # no identifier of the record: the best available stands in, so that the required element is there
    assert xp(c, "jpcoar:identifier") == ["ISBN 978-4-00-000000-0"]
    c = crosswalk.to_canonical(_dc("<dc:title>x</dc:title><dc:relation>https://example.org/landing/1</dc:relation>"))
    assert xp(c, "jpcoar:identifier") == ["https://example.org/landing/1"]
    assert_valid("jpcoar_2.0", c, "canonical with stand-in identifier")


@pytest.mark.parametrize("text, label", [
    ("info:eu-repo/semantics/article", "journal article"),
    ("Text", "other"),
    ("Thesis", "thesis"),
    ("info:eu-repo/semantics/doctoralThesis", "doctoral thesis"),
    ("紀要論文", "departmental bulletin paper"),
])
def test_dc_type_vocabulary(text: str, label: str) -> None:
    c = crosswalk.to_canonical(_dc(f"<dc:title>x</dc:title><dc:type>{text}</dc:type>"))
    assert xp(c, "dc:type") == [label]


def test_legacy_1_0_type_round_trip() -> None:
    src = etree.fromstring(
        f'<j:jpcoar xmlns:j="{ns.JPCOAR_1}" xmlns:dc="{ns.DC}" xmlns:rdf="{ns.RDF}"><dc:title>t</dc:title>'
        '<dc:type rdf:resource="http://purl.org/coar/resource_type/c_2659">periodical</dc:type></j:jpcoar>'.encode()
    )
    c = crosswalk.to_canonical(src)
    assert xp(c, "dc:type") == ["journal"]
    v1 = crosswalk.render(c, "jpcoar_1.0")
    assert xp(v1, "dc:type") == ["periodical"]
    assert_valid("jpcoar_1.0", v1, "1.0 rendering of a periodical")


# -------------------------------------------------------------------------------- official and real samples

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


# ---------------------------------------------------------------------------------------------- Annex 3

CAO = "xsd/jpcoar/2.0/samples/14_common_metadata_elements_cao.xml"


@pytest.fixture(scope="module")
def cao() -> etree._Element:
    require_reference()
    return crosswalk.to_canonical(parse_bytes((REFERENCE / CAO).read_bytes()))


def test_annex3_items_table() -> None:
    keys = [item.key for item in annex3.items()]
    assert keys == [
        "funder_name", "funder_code", "funding_stream_code", "program_name", "jgn", "project_name", "data_number",
        "title", "date_issued", "date_updated", "date_available", "description", "research_field", "data_type",
        "size", "rights", "access_rights", "repository", "repository_url", "creators", "creator_erad",
        "hosting_institution", "hosting_institution_ror", "data_manager", "data_manager_erad", "contact",
    ]
    by_key = {item.key: item for item in annex3.items()}
    assert by_key["title"].languages == ("ja",) and by_key["title"].required
    assert by_key["funder_name"].languages == ("ja", "en")
    assert by_key["jgn"].no == 3 and by_key["jgn"].label_ja == "体系的番号"
    assert by_key["date_available"].required_if == "embargoed"
    assert by_key["repository"].supplied_by_gateway
    assert "remarks" not in by_key


def test_summarize_cao(cao: etree._Element) -> None:
    s = annex3.summarize(cao)
    assert s.title == "〇〇実証においてセンサより撮像したデータ及び関連データ"
    assert s.resource_type == "dataset"
    assert s.resource_type_uri == "http://purl.org/coar/resource_type/63NG-B465"
    assert s.access_right == "embargoed"
    assert s.available_date == "2030-04-01"
    assert len(s.fundings) == 1
    f = s.fundings[0]
    assert f.jgn == "JPMJPF9999"
    assert f.funding_stream_code == "MJPF"
    assert f.funder_name_ja == "国立研究開発法人科学技術振興機構（JST）"
    assert f.funder_name_en == "Japan Science and Technology Agency（JST）"
    assert f.program_name_ja == "〇〇研究開発事業" and f.program_name_en is None
    assert f.project_name_ja == "〇〇の××に基づく△△の実現"
    assert f.funder_code is None


def test_view_cao(cao: etree._Element) -> None:
    v = annex3.view(cao)
    json.dumps(v)  # JSON-serialisable
    assert set(v) == {item.key for item in annex3.items()}
    assert v["jgn"] == [{"value": "JPMJPF9999", "lang": ""}]
    assert v["access_rights"] == [
        {"value": "embargoed access", "lang": "", "uri": "http://purl.org/coar/access_right/c_f1cf"}
    ]
    assert v["date_available"] == [{"value": "2030-04-01", "lang": ""}]
    assert v["data_number"] == [{"value": "12345678", "lang": ""}]
    assert [e["lang"] for e in v["research_field"]] == ["ja", "en"]
    assert v["creators"] == [{"value": "情報, 太郎", "lang": "ja"}, {"value": "Jyoho, Taro", "lang": "en"}]
    assert v["creator_erad"] == [{"value": "2021xxxx", "lang": ""}]
    assert v["hosting_institution_ror"] == [{"value": "https://ror.org/057zh3y96", "lang": ""}]
    assert [e["value"] for e in v["hosting_institution"]] == ["〇〇大学", "The University of 〇〇"]
    assert v["data_manager"] == [{"value": "データ管理室", "lang": "ja"}]
    assert v["contact"] == [{"value": "受付係\u3000〇〇県〇〇市xx-xx", "lang": "en"}]
    assert v["size"] == [{"value": "852.95 KB", "lang": ""}]
    assert v["data_type"][0]["uri"] == "http://purl.org/coar/resource_type/63NG-B465"
    assert v["rights"][0]["uri"] == "https://creativecommons.org/licenses/by/4.0/deed.en"
    assert v["repository_url"] == [{"value": "https://doi.org/10.xxxxx/xxxxxxxx", "lang": "",
                                     "uri": "https://doi.org/10.xxxxx/xxxxxxxx"}]
    assert v["date_issued"] == [] and v["repository"] == []


def test_view_full_fixture(mapped: dict[str, dict[str, etree._Element]]) -> None:
    c = mapped["dataset_full_2.0.xml"]["canonical"]
    v = annex3.view(c)
    assert v["funder_code"] == [{"value": "1020", "lang": ""}]
    assert v["creators"] == [
        {"value": "食品, 安全", "lang": "ja"}, {"value": "Shokuhin, Anzen", "lang": "en"},
        {"value": "検査, 花子", "lang": "ja"}, {"value": "Kensa, Hanako", "lang": "en"},
    ]
    assert v["data_manager_erad"] == [{"value": "90005678", "lang": ""}]
    assert v["date_updated"] == [{"value": "2025-06-15", "lang": ""}]
    assert v["size"] == [{"value": "<1GB", "lang": ""}]
    s = annex3.summarize(c)
    assert s.fundings[0].funder_code == "1020"
    assert s.fundings[0].program_name_en == "Research Program for Food Safety"
    assert s.title.startswith("市販加工食品")


def test_summary_access_right_from_label_when_uri_missing() -> None:
    c = etree.fromstring(
        f'<j:jpcoar xmlns:j="{ns.JPCOAR_2}" xmlns:dc="{ns.DC}" xmlns:dcterms="{ns.DCTERMS}">'
        '<dc:title xml:lang="en">E</dc:title><dc:title xml:lang="ja">J</dc:title>'
        "<dcterms:accessRights>metadata only access</dcterms:accessRights></j:jpcoar>".encode()
    )
    s = annex3.summarize(c)
    assert s.access_right == "metadata-only"
    assert s.title == "J"
    assert s.resource_type is None and s.fundings == ()


# ---------------------------------------------------------------------------------------------- caching, safety, speed

def test_reload_recompiles_from_an_edited_mappings_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    xsl = copy / "oai_dc_in.xsl"
    title = '<dc:title><xsl:call-template name="element-lang"/><xsl:value-of select="normalize-space(.)"/></dc:title>'
    text = xsl.read_text(encoding="utf-8")
    assert title in text  # the edit below must change something
    xsl.write_text(text.replace(title, title.replace("<xsl:value-of", "EDITED <xsl:value-of")), encoding="utf-8")
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        c = crosswalk.to_canonical(_dc("<dc:title>x</dc:title>"))
        assert xp(c, "dc:title") == ["EDITED x"]
        assert annex3.items()  # the Annex-3 table follows the reload too
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()
    assert xp(crosswalk.to_canonical(_dc("<dc:title>x</dc:title>")), "dc:title") == ["x"]


def test_stylesheets_cannot_reach_outside_mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    secret = tmp_path / "secret.xml"
    secret.write_text("<secret>s3cr3t</secret>", encoding="utf-8")
    (copy / "oai_dc_in.xsl").write_text(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f'<xsl:template match="/"><out><xsl:value-of select="document(\'{secret.as_uri()}\')"/>'
        "<xsl:value-of select=\"document('http://127.0.0.1:9/x.xml')\"/></out></xsl:template>"
        "</xsl:stylesheet>",
        encoding="utf-8",
    )
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        with pytest.raises(crosswalk.CrosswalkError):
            crosswalk.to_canonical(_dc("<dc:title>x</dc:title>"))
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


def test_vocabularies_are_read_once_per_compilation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Global document() variables are served from trees parsed when the stylesheets are compiled, and a reload()
    reads the vocabularies again (a manager's edit takes effect with `gateway remap`)."""
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    types = copy / "vocab" / "coar_resource_types.xml"
    odd = "<dc:title>x</dc:title><dc:type>Surely A Dataset</dc:type>"
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        assert xp(crosswalk.to_canonical(_dc(odd)), "dc:type") == ["other"]
        text = types.read_text(encoding="utf-8")
        types.write_text(text.replace("<alias>data set</alias>", "<alias>surely a dataset</alias>"), encoding="utf-8")
        assert "surely a dataset" in types.read_text(encoding="utf-8")
        # compiled already: the edit is not seen until the mappings are reloaded
        assert xp(crosswalk.to_canonical(_dc(odd)), "dc:type") == ["other"]
        crosswalk.reload()
        assert xp(crosswalk.to_canonical(_dc(odd)), "dc:type") == ["dataset"]
        # once compiled, a run reads no file: the vocabulary is held in memory
        types.unlink()
        assert xp(crosswalk.to_canonical(_dc(odd)), "dc:type") == ["dataset"]
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_global_vocabulary_outside_mappings_is_refused(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    secret = tmp_path / "secret.xml"
    secret.write_text("<secret>s3cr3t</secret>", encoding="utf-8")
    href = secret.as_uri() if where == "absolute" else "../secret.xml"
    (copy / "oai_dc_in.xsl").write_text(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        f"<xsl:variable name=\"SECRET\" select=\"document('{href}')\"/>"
        '<xsl:template match="/"><out><xsl:value-of select="$SECRET"/></out></xsl:template>'
        "</xsl:stylesheet>",
        encoding="utf-8",
    )
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        with pytest.raises(crosswalk.CrosswalkError):
            crosswalk.to_canonical(_dc("<dc:title>x</dc:title>"))
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


@pytest.mark.parametrize("declared_in", ["stylesheet", "import"])
def test_schema_location_reaches_the_rendering(
    declared_in: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema location is compiled in as the parameter's default, or passed on each run where it is declared in
    an imported module; either way the rendering carries it."""
    copy = tmp_path / "mappings"
    shutil.copytree(crosswalk.MAPPINGS_DIR, copy)
    param = "<xsl:param name=\"schema_location\" select=\"''\"/>"
    head = '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
    body = '<xsl:template match="/"><out><xsl:value-of select="$schema_location"/></out></xsl:template>'
    if declared_in == "import":
        (copy / "lib" / "params.xsl").write_text(head + param + "</xsl:stylesheet>", encoding="utf-8")
        text = head + '<xsl:import href="lib/params.xsl"/>' + body + "</xsl:stylesheet>"
    else:
        text = head + param + body + "</xsl:stylesheet>"
    (copy / "oai_dc_out.xsl").write_text(text, encoding="utf-8")
    monkeypatch.setenv("GATEWAY_MAPPINGS_DIR", str(copy))
    crosswalk.reload()
    try:
        out = crosswalk.render(crosswalk.to_canonical(load("dataset_full_2.0.xml")), "oai_dc")
        fmt = crosswalk.formats()["oai_dc"]
        assert out.text == f"{fmt.namespace} {fmt.schema}"
    finally:
        monkeypatch.delenv("GATEWAY_MAPPINGS_DIR")
        crosswalk.reload()


def test_threads_get_their_own_stylesheets() -> None:
    expected = crosswalk.serialize(crosswalk.render(crosswalk.to_canonical(load("dataset_full_2.0.xml")), "oai_dc"))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                c = crosswalk.to_canonical(load("dataset_full_2.0.xml"))
                results.append(crosswalk.serialize(crosswalk.render(c, "oai_dc")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 80 and set(results) == {expected}


def test_speed_of_a_typical_record(capsys: pytest.CaptureFixture[str]) -> None:
    source = load("dataset_full_2.0.xml")
    crosswalk.to_canonical(source)  # compile outside the measurement
    n = 100
    start = time.perf_counter()
    for _ in range(n):
        c = crosswalk.to_canonical(source)
        for p in OUTPUTS:
            crosswalk.serialize(crosswalk.render(c, p))
        annex3.summarize(c)
    rate = n / (time.perf_counter() - start)
    with capsys.disabled():
        print(f"\ncrosswalk: to_canonical + render x3 + summarize: {rate:.0f} records/s")
    assert rate > 20
