"""What the crosswalks make of each kind of record: JPCOAR 2.0 and 1.0, WEKO's IRDB namespace, DSpace oai_dc, a record
out of order, and the vocabularies of oai_dc types."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import annex3, crosswalk
from gateway import namespaces as ns
from tests.crosswalk.checks import NSMAP, assert_valid, dc_document, xp


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


def test_unknown_dc_type_is_other_and_identifier_has_a_stand_in() -> None:
    c = crosswalk.to_canonical(dc_document(
        "<dc:title>x</dc:title><dc:type>Something odd</dc:type><dc:identifier>ISBN 978-4-00-000000-0</dc:identifier>"
    ))
    assert xp(c, "dc:type") == ["other"]
    assert xp(c, "dc:type/@rdf:resource") == ["http://purl.org/coar/resource_type/c_1843"]
    # no identifier of the record: the best available stands in, so that the required element is there
    assert xp(c, "jpcoar:identifier") == ["ISBN 978-4-00-000000-0"]
    c = crosswalk.to_canonical(dc_document("<dc:title>x</dc:title><dc:relation>https://example.org/landing/1</dc:relation>"))
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
    c = crosswalk.to_canonical(dc_document(f"<dc:title>x</dc:title><dc:type>{text}</dc:type>"))
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
