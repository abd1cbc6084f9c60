"""The validation layers: identifier checks, Annex-3 content rules, and the aggregator's own 136 edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.pipeline import map_record
from gateway.rules import aggregator, ids
from tests.support.records import dataset

SAMPLES = Path("/work/shared/reference/samples/jpcoar-validator")
CAO = Path("/work/shared/reference/xsd/jpcoar/2.0/samples/14_common_metadata_elements_cao.xml")

# The rule each edge case was written for, derived from the file name (rule part after the element prefix).
_BY_NAME = {
    "xmllang_not_found": "xmllang_not_found",
    "xmllang_duplicated": "xmllang_duplicated",
    "noja_with_yomi": "noja_with_yomi",
    "yomi_not_needed": "yomi_not_needed",
    "identifier_type_mismatch": "identifier_type_mismatch",
    "content_is_uri": "name_identifier_content_is_uri",
    "name_identifier_mismatch": "name_identifier_mismatch",
    "scheme_obsolete": "obsolete_value",
    "type_obsolete": "obsolete_value",
    "unnecessary_chars": "volume_unnecessary_chars",
    "positive_integer": "positive_integer",
    "dissertation_details_not_found": "dissertation_details_not_found",
}
EXPECTED = {
    "17_version/coar_version_type_mismatch_wrong_content.xml": "version_type_mismatch",
    "17_version/coar_version_type_mismatch_wrong_uri.xml": "version_type_mismatch",
    "16_version/format.xml": "version_format",
    "43_file/version_format.xml": "version_format",
    "19_identifierRegistration/identifier_mismatch.xml": "identifier_registration_mismatch",
    "19_identifierRegistration/identifier_mismatch_without_identifier.xml": "identifier_registration_mismatch",
    "19_identifierRegistration/identifier_type_mismatch.xml": "identifier_registration_type_mismatch",
    "19_identifierRegistration/identifier_type_pmid.xml": "identifier_registration_type_mismatch",
    "20_relation/vor_relation_not_found.xml": "vor_relation_not_found",
    "23_fundingReference/award_number_format_error.xml": "award_number_format",
    "23_fundingReference/award_number_type_not_supported.xml": "award_number_type_not_supported",
    "23_fundingReference/funder_name_not_available.xml": "funder_name_not_found",
    "3_creator/affiliation_name_identifier_mismatch_isni.xml": "name_identifier_mismatch",
    "3_creator/no_creator_in_thesis.xml": "no_creator_in_thesis",
    "31_dissertationNumber/dissertation_number_format.xml": "dissertation_number_format",
    "32_degreeName/degree_name_english.xml": "degree_name_english",
    "34_degreeGrantor/name_identifier_scheme_kakenhi_missing.xml": "degree_grantor_kakenhi_missing",
    "38_originalLanguage/original_language_format.xml": "original_language_format",
    "11_publisher/publication_place_format_iso3166_1.xml": "publication_place_format",
    "11_publisher/publisher_name_not_found.xml": "publisher_name_not_found",
    "4_contributor/contributor_type_not_found.xml": "contributor_type_not_found",
    "43_file/extent_format.xml": "extent_format",
    "43_file/mimetype_format.xml": "mimetype_format",
    "43_file/uri_objectype_not_found.xml": "uri_objecttype_not_found",
    "5_accessRights/access_rights_mismatch.xml": "access_rights_mismatch",
    "5_accessRights/access_rights_without_rdf_resource.xml": "access_rights_without_rdf_resource",
    "5_accessRights/access_rights_wrong_url.xml": "access_rights_wrong_uri",
    "5_accessRights/embergoed.xml": "embargoed_without_available_date",
    "5_accessRights/rdf_resource.xml": "access_rights_without_rdf_resource",
    "6_rights/cc_uri_notfound.xml": "cc_uri_not_found",
    # Pass cases: written to show a correct record is accepted.
    "20_relation/vor_relation_success.xml": None,
    "24_sourceIdentifier/01_departmental_bulletin_paper_oa.xml": None,
}
# Cases the project deliberately treats differently, with the reason.
DIFFERENT = {
    # JPCOAR 2.0's own sample 14 and Annex 3 write ROR as its URI (https://ror.org/…), so that form is accepted.
    "3_creator/affiliation_name_identifier_content_is_uri_ror.xml": "ROR content as URI is the JPCOAR 2.0 form",
}


def _expected(rel: str) -> str | None:
    if rel in EXPECTED:
        return EXPECTED[rel]
    stem = rel.split("/")[1][:-4]
    for part, rule in _BY_NAME.items():
        if part in stem:
            return rule
    raise AssertionError(f"no expected finding for {rel}")


CASES = sorted(str(p.relative_to(SAMPLES)) for p in SAMPLES.glob("*/*.xml")) if SAMPLES.exists() else []


def test_every_edge_case_is_in_the_table():
    assert len(CASES) == 136
    for rel in CASES:
        if rel not in DIFFERENT:
            _expected(rel)


@pytest.mark.parametrize("rel", CASES)
def test_edge_case_gets_its_finding(rel):
    rules = {f["rule"] for f in aggregator.check(etree.parse(str(SAMPLES / rel)).getroot())}
    if rel in DIFFERENT:
        assert "name_identifier_content_is_uri" not in rules
        return
    expected = _expected(rel)
    if expected is None:
        # The fictitious ORCID 0000-0001-0002-0003 of the base sample fails its checksum: that finding is right.
        assert rules <= {"name_identifier_mismatch"}
    else:
        assert expected in rules


def test_identifier_checksums():
    assert ids.orcid_ok("0000-0002-1825-0097") and not ids.orcid_ok("0000-0002-1825-0098")
    assert ids.ror_ok("https://ror.org/057zh3y96") and not ids.ror_ok("https://ror.org/057zh3y97")
    assert not ids.ror_ok("https://ror.org/057zh3y9")
    assert ids.isni_ok("0000000121691048") and not ids.isni_ok("0000000121691049")
    assert ids.issn_ok("1880-697X") and not ids.issn_ok("1880-6970")
    assert ids.isbn_ok("978-4-87311-778-2") is (
        sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate("9784873117782")) % 10 == 0
    )
    assert ids.iso_date_ok("2024-02-29") and not ids.iso_date_ok("2023-02-29") and not ids.iso_date_ok("2024/02/01")
    assert ids.jgn_ok("JPCACAA12345678", food_safety=True) and not ids.jgn_ok("JPCACAA1234567", food_safety=True)
    # AMED's lower-case program letters, KAKENHI's upper-case ones; not a bare 課題管理番号 nor a lower-case prefix
    assert ids.jgn_ok("JP21km0908001") and ids.jgn_ok("JP22H00001")
    assert not ids.jgn_ok("21km0908001h0001") and not ids.jgn_ok("jp21km0908001") and not ids.jgn_ok("JP21-km")
    for bad in ("jp", "ja_static", "ja-Kan"):
        assert any(
            f["rule"] == "xmllang_invalid"
            for f in aggregator.check(
                etree.fromstring(
                    f'<jpcoar:jpcoar xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/" '
                    f'xmlns:dc="http://purl.org/dc/elements/1.1/">'
                    f'<dc:title xml:lang="{bad}">x</dc:title></jpcoar:jpcoar>'
                )
            )
        )


def _rules(mapped):
    return {f["rule"]: f for f in mapped.findings}


def test_valid_dataset_has_no_errors_and_every_finding_has_a_rule():
    mapped = map_record(dataset().encode(), prefix=None, repository="Repo")
    assert all(f["rule"] for f in mapped.findings)
    assert not [f for f in mapped.findings if f["severity"] == "error"], mapped.findings


def test_official_cao_sample_type_label_and_uri_disagree():
    mapped = map_record(CAO.read_bytes(), prefix=None, repository="Repo")
    found = _rules(mapped)
    assert "annex3.data_type_mismatch" in found
    assert found["annex3.data_type_mismatch"]["severity"] == "error"
    assert "63NG-B465" in found["annex3.data_type_mismatch"]["value"]


def test_annex3_formats():
    bad = dataset(jgn="18049069").replace("10012345", "1001234X")
    found = _rules(map_record(bad.encode(), prefix=None, repository="Repo"))
    assert found["annex3.jgn_format"]["item"] == 3
    assert "annex3.erad_format" in found
    assert "name_identifier_mismatch" in found  # the same fault, seen by the aggregator rule


def test_available_date_on_open_record_is_a_warning():
    found = _rules(map_record(dataset(available="2030-01-01").encode(), prefix=None, repository="Repo"))
    if "annex3.available_date_not_embargoed" in found:
        assert found["annex3.available_date_not_embargoed"]["severity"] == "warning"


def test_problem_repaired_by_crosswalk_is_still_reported_as_warning():
    raw = dataset().replace('<dc:title xml:lang="en">', '<dc:title xml:lang="ja_static">')
    mapped = map_record(raw.encode(), prefix=None, repository="Repo")
    hits = [f for f in mapped.findings if f["rule"] == "xmllang_invalid"]
    assert hits and all(f["severity"] in ("warning", "error") for f in hits)


def _with_food_safety_funding(record: str, jgn: str) -> str:
    """`record` with a second funding reference from the Consumer Affairs Agency (food-safety research)."""
    caa = (
        "<jpcoar:fundingReference>"
        '<jpcoar:funderName xml:lang="ja">消費者庁</jpcoar:funderName>'
        '<jpcoar:funderName xml:lang="en">Consumer Affairs Agency</jpcoar:funderName>'
        f'<jpcoar:awardNumber awardNumberType="JGN">{jgn}</jpcoar:awardNumber>'
        "</jpcoar:fundingReference>"
    )
    return record.replace("</jpcoar:fundingReference>", "</jpcoar:fundingReference>" + caa, 1)


def test_food_safety_number_form_binds_only_the_food_safety_number():
    joint = _with_food_safety_funding(dataset(), "JPCACAA12345678")
    found = _rules(map_record(joint.encode(), prefix=None, repository="Repo"))
    assert "annex3.jgn_format" not in found, found.get("annex3.jgn_format")

    bad_caa = _with_food_safety_funding(dataset(), "JPCACAA1234")
    finding = _rules(map_record(bad_caa.encode(), prefix=None, repository="Repo"))["annex3.jgn_format"]
    assert finding["value"] == "JPCACAA1234" and "JPCACAA + 8 digits" in finding["message"]
