"""Data access rights read in every wording the guideline, GakuNin RDM and AMED use, and reading problems kept out of
every rendering: a value that cannot be read holds its row, and nothing of it reaches a JPCOAR record."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import commonitems, crosswalk
from gateway.harvest.grdm import read_export
from gateway.pipeline import map_record
from tests.support.commonitem_rows import bad_rows, report_bytes

# ---------------------------------------------------------------------------------------------------------- wording


def access_of(value: str) -> str | None:
    """The data access right a cell is read as (None: held), through the real resolver."""
    resolved = commonitems.resolve({"grdm-file:access-rights": value})
    access = resolved.document.find(f"{{{commonitems.CI}}}access")
    if access is None:
        assert [p.column for p in resolved.problems] == ["access_rights"], (value, resolved.problems)
        return None
    assert not resolved.problems
    return access.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # the guideline's and GakuNin RDM's names, and AMED's six DMP choices
        ("公開", "open access"),
        ("共有", "restricted access"),
        ("非共有・非公開", "metadata only access"),
        ("非公開・非共有", "metadata only access"),
        ("公開期間猶予", "embargoed access"),
        ("公開猶予", "embargoed access"),
        ("非制限公開", "open access"),
        ("制限公開", "restricted access"),
        ("制限共有（外部関係者と共有）", "restricted access"),
        ("制限共有（内部関係者と共有）", "restricted access"),
        ("非公開", "metadata only access"),
        ("その他（未定など）", None),
        # full and half width
        ("ｵｰﾌﾟﾝｱｸｾｽ", "open access"),
        ("ＯＰＥＮ　ＡＣＣＥＳＳ", "open access"),
        ("非公開･非共有", "metadata only access"),
        # spaces
        (" 公 開 ", "open access"),
        ("非共有　・　非公開", "metadata only access"),
        ("metadata  only   access", "metadata only access"),
        # separators, in either order
        ("非公開／非共有", "metadata only access"),
        ("非共有/非公開", "metadata only access"),
        ("非公開、非共有", "metadata only access"),
        ("公開/open access", "open access"),
        ("公開|open access", "open access"),
        # bracketed qualifiers
        ("非共有・非公開 (metadata only access)", "metadata only access"),
        ("公開期間猶予（embargoed access）", "embargoed access"),
        ("制限共有(外部関係者と共有)", "restricted access"),
        ("【制限共有】", "restricted access"),
        ("「公開」", "open access"),
        # what is no access right, or says two
        ("その他", None),
        ("未定", None),
        ("たぶん公開", None),
        ("公開・非公開", None),
        ("公開 (metadata only access)", None),
    ],
)
def test_access_right_wordings_are_normalised(value: str, expected: str | None) -> None:
    assert access_of(value) == expected


def test_the_undecided_choice_says_so() -> None:
    (problem,) = commonitems.resolve({"grdm-file:access-rights": "その他（未定など）"}).problems
    assert "not decided" in problem.message and "公開期間猶予 (embargoed access)" in problem.expected
    (other,) = commonitems.resolve({"grdm-file:access-rights": "公開・非公開"}).problems
    assert "not decided" not in other.message and "different" in other.message


@pytest.mark.parametrize(
    ("value", "disclosure"),
    [
        ("非共有・非公開", "private"),
        ("非公開／非共有", "private"),
        ("公開 (open access)", "public"),
        ("共有", "shared"),
    ],
)
def test_metadata_access_wordings_are_normalised(value: str, disclosure: str) -> None:
    assert commonitems.resolve({"grdm-file:metadata-access-rights": value}).disclosure == disclosure


# ---------------------------------------------------------------------------------------------------------- contract


def test_problems_never_reach_a_rendering_and_other_documents_have_none() -> None:
    (record, _other) = read_export("report.csv", report_bytes(bad_rows()))
    root = etree.fromstring(record.raw)
    problems = list(root.iter(f"{{{commonitems.CI}}}problem"))
    assert len(problems) == 1 and problems[0].get("value") == "その他（未定など）"

    # the stylesheet maps the common items only: a problem in the document is not in the JPCOAR record
    transform = crosswalk._stylesheet(commonitems.STYLESHEET)
    mapped = etree.tostring(crosswalk._run(transform, root, "test"))
    assert b"problem" not in mapped and "その他".encode() not in mapped and "未定".encode() not in mapped

    result = map_record(record.raw, prefix=record.prefix, profile="annex3", repository="R")
    assert result.outputs and result.canonical
    for xml in (result.canonical, *result.outputs.values()):
        assert "未定など".encode() not in xml and b"expected" not in xml and b"report.csv" not in xml
    assert [f["rule"] for f in result.findings if f["layer"] == "source"] == ["source.unreadable_value"]

    # any other document: no reading findings, whatever it holds
    assert commonitems.reading_findings(etree.fromstring(result.canonical)) == []
    foreign = etree.fromstring(f'<x xmlns:ci="{commonitems.CI}"><ci:problem value="v">m</ci:problem></x>'.encode())
    assert commonitems.reading_findings(foreign) == []
