"""The formats of mappings/formats.toml, recognising a record's format, clear errors, and the golden files.

Golden files: ``tests/fixtures/crosswalk/golden/<fixture>.<output>.xml``; run with ``GATEWAY_UPDATE_GOLDEN=1`` to
rewrite them after an intended mapping change (then review the diff).  Every result is validated against the OFFICIAL
schemas.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway import crosswalk
from gateway import namespaces as ns
from tests.crosswalk.checks import FIXTURE_FORMATS, GOLDEN, OUTPUTS, UPDATE_GOLDEN, assert_valid, c14n, load, pretty

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
