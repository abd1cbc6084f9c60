"""Verdicts of the gateway's schemas (xsd/) and of the official ones (tests.support.official_schemas) on one document,
and the documents they are asked about: the reference corpus read offline, and two inline OAI-PMH responses with
the parts no fixture exercises."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from gateway import namespaces as ns
from gateway.schemas import validate, validate_response
from tests.support.official_schemas import (
    REFERENCE,
    official_metadata_schema,
    official_response_schema,
    official_validate,
)

XSD_REF = REFERENCE / "xsd"
SAMPLES = REFERENCE / "samples"
FORMAT_OF_NAMESPACE = {ns.JPCOAR_2: "jpcoar_2.0", ns.JPCOAR_1: "jpcoar_1.0", ns.OAI_DC: "oai_dc"}


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, remove_blank_text=False)


@cache
def load_document(path: Path) -> etree._Element | None:
    try:
        return etree.parse(str(path), xml_parser()).getroot()
    except etree.XMLSyntaxError:
        return None  # e.g. sickle's ListRecordsBroken.xml: not XML at all, nothing for a schema to judge


def metadata_children(root: etree._Element) -> list[etree._Element]:
    found = root.iterfind(f".//{{{ns.OAI}}}record/{{{ns.OAI}}}metadata")
    return [child for metadata in found for child in metadata if isinstance(child.tag, str)]


def response_format(root: etree._Element) -> str | None:
    for child in metadata_children(root):
        prefix = FORMAT_OF_NAMESPACE.get(etree.QName(child).namespace or "")
        if prefix:
            return prefix
    return None


# ---------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    ours: bool
    official: bool
    ours_log: str
    official_log: str

    def explain(self) -> str:
        return (
            f"ours={'valid' if self.ours else 'INVALID'} official={'valid' if self.official else 'INVALID'}\n"
            f"our errors: {self.ours_log[:800]}\nofficial errors: {self.official_log[:800]}"
        )


def metadata_verdict(element: etree._Element, prefix: str) -> Verdict:
    issues = validate(element, prefix)
    ok, log = official_validate(official_metadata_schema(prefix), element)
    return Verdict(not issues, ok, "; ".join(map(str, issues)), log)


def response_verdict(element: etree._Element, prefix: str | None) -> Verdict:
    issues = validate_response(element, prefix)
    ok, log = official_validate(official_response_schema(prefix), element)
    return Verdict(not issues, ok, "; ".join(map(str, issues)), log)



# Documents the mutations start from. Inline responses add the parts no fixture exercises: an Identify with an
# oai-identifier description, a record with <about><provenance>, and a deleted header with a resumptionToken.
IDENTIFY_WITH_DESCRIPTION = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2024-01-01T00:00:00Z</responseDate>
  <request verb="Identify">https://gateway.example.org/oai</request>
  <Identify>
    <repositoryName>Example gateway</repositoryName>
    <baseURL>https://gateway.example.org/oai</baseURL>
    <protocolVersion>2.0</protocolVersion>
    <adminEmail>admin@example.org</adminEmail>
    <earliestDatestamp>2020-01-01T00:00:00Z</earliestDatestamp>
    <deletedRecord>persistent</deletedRecord>
    <granularity>YYYY-MM-DDThh:mm:ssZ</granularity>
    <compression>gzip</compression>
    <description>
      <oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier">
        <scheme>oai</scheme>
        <repositoryIdentifier>gateway.example.org</repositoryIdentifier>
        <delimiter>:</delimiter>
        <sampleIdentifier>oai:gateway.example.org:00000001</sampleIdentifier>
      </oai-identifier>
    </description>
  </Identify>
</OAI-PMH>"""

LIST_RECORDS_WITH_ABOUT = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2024-01-01T00:00:00Z</responseDate>
  <request verb="ListRecords" metadataPrefix="oai_dc" set="a:b" from="2020-01-01">https://gateway.example.org/oai</request>
  <ListRecords>
    <record>
      <header>
        <identifier>oai:gateway.example.org:1</identifier>
        <datestamp>2024-01-01T00:00:00Z</datestamp>
        <setSpec>a:b</setSpec>
      </header>
      <metadata>
        <oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
                   xmlns:dc="http://purl.org/dc/elements/1.1/">
          <dc:title xml:lang="ja">&#39064;&#21517;</dc:title>
          <dc:creator>Someone</dc:creator>
          <dc:type>dataset</dc:type>
        </oai_dc:dc>
      </metadata>
      <about>
        <provenance xmlns="http://www.openarchives.org/OAI/2.0/provenance">
          <originDescription harvestDate="2024-01-01T00:00:00Z" altered="true">
            <baseURL>https://source.example.org/oai</baseURL>
            <identifier>oai:source.example.org:9</identifier>
            <datestamp>2023-12-31</datestamp>
            <metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>
          </originDescription>
        </provenance>
      </about>
    </record>
    <record>
      <header status="deleted">
        <identifier>oai:gateway.example.org:2</identifier>
        <datestamp>2024-01-02</datestamp>
      </header>
    </record>
    <resumptionToken expirationDate="2024-01-02T00:00:00Z" completeListSize="10" cursor="0">tok</resumptionToken>
  </ListRecords>
</OAI-PMH>"""
