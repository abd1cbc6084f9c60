"""The Annex-3 view of a canonical record (gateway.annex3, read by mappings/annex3.toml): its items, the summary and the
view of the official common-items sample and of the full fixture."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from gateway import annex3, crosswalk
from gateway import namespaces as ns
from gateway.xmlsafe import parse_bytes
from tests.crosswalk.checks import CAO, REFERENCE, require_reference


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
