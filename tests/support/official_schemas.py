"""Offline loader for the OFFICIAL OAI-PMH / oai_dc / JPCOAR schemas kept under ``shared/reference``.

Tests use these as the oracle: the gateway's own schemas (``xsd/``) must agree with them, and every response the
provider produces must be valid against them. The official files import the XML namespace, simple DC and OAI-PMH
from remote URLs; a custom resolver maps those URLs onto the local copies so nothing ever touches the network (the
parsers also set ``no_network``, so an unmapped URL fails loudly instead of being fetched).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from lxml import etree

from tests.support.paths import shared_reference

__all__ = [
    "OFFICIAL_FILES",
    "REFERENCE",
    "XSD_ROOT",
    "assert_valid_response",
    "official_metadata_schema",
    "official_response_schema",
    "official_validate",
    "official_validator",
    "require_reference",
]


REFERENCE: Path = shared_reference()
XSD_ROOT: Path = REFERENCE / "xsd"

# Entry schema of each metadata format, relative to XSD_ROOT.
OFFICIAL_FILES: dict[str, str] = {
    "jpcoar_2.0": "jpcoar/2.0/jpcoar_scm.xsd",
    "jpcoar_1.0": "jpcoar/1.0/jpcoar_scm.xsd",
    "oai_dc": "oai/2.0/oai_dc.xsd",
}
_ENVELOPE_FILES = ("oai/2.0/OAI-PMH.xsd", "oai/2.0/oai-identifier.xsd", "oai/2.0/provenance.xsd")

# Remote locations used inside the official files (see xsd/catalog.xml), longest prefix first.
_URL_MAP: tuple[tuple[str, str], ...] = (
    ("http://www.w3.org/2001/03/xml.xsd", "w3c/xml.xsd"),
    ("https://www.w3.org/2001/03/xml.xsd", "w3c/xml.xsd"),
    ("http://www.w3.org/2009/01/xml.xsd", "w3c/xml.xsd"),
    ("https://www.w3.org/2009/01/xml.xsd", "w3c/xml.xsd"),
    ("http://www.w3.org/XML/1998/namespace", "w3c/xml.xsd"),
    ("http://dublincore.org/schemas/xmls/simpledc20021212.xsd", "oai/dcmi/simpledc20021212.xsd"),
    ("https://dublincore.org/schemas/xmls/simpledc20021212.xsd", "oai/dcmi/simpledc20021212.xsd"),
    ("http://www.openarchives.org/OAI/2.0/", "oai/2.0/"),
    ("https://www.openarchives.org/OAI/2.0/", "oai/2.0/"),
)


def require_reference() -> None:
    """Skip the calling test (loudly) when the reference folder is not there."""
    if not (XSD_ROOT / OFFICIAL_FILES["jpcoar_2.0"]).is_file():
        pytest.skip(
            f"OFFICIAL SCHEMAS MISSING: {XSD_ROOT} not found (set GATEWAY_SHARED_DIR to the 'shared' folder); "
            "schema conformance is NOT being checked"
        )


def _local_for(url: str) -> Path | None:
    for prefix, target in _URL_MAP:
        if url == prefix or (prefix.endswith("/") and url.startswith(prefix)):
            rest = url[len(prefix) :] if prefix.endswith("/") else ""
            path = XSD_ROOT / (target + rest)
            return path if path.is_file() else None
    return None


class _OfflineResolver(etree.Resolver):
    def resolve(self, system_url, public_id, context):  # type: ignore[override]
        if not system_url:
            return None
        local = _local_for(system_url)
        if local is None:
            if system_url.startswith(("http://", "https://", "ftp://")):
                # Returning None would let libxml2 try the network (blocked by no_network) with a vaguer message.
                raise OSError(f"official schema refers to unmapped remote location {system_url!r}")
            return None
        return self.resolve_filename(str(local), context)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_OfflineResolver())
    return parser


_lock = threading.Lock()
_cache: dict[tuple[str, str | None], etree.XMLSchema] = {}


def _check_prefix(prefix: str | None, allow_none: bool) -> None:
    if prefix is None and allow_none:
        return
    if prefix not in OFFICIAL_FILES:
        raise KeyError(f"no official schema for metadataPrefix {prefix!r}; known: {sorted(OFFICIAL_FILES)}")


def _compile(files: list[str]) -> etree.XMLSchema:
    require_reference()
    parser = _parser()
    if len(files) == 1:
        doc = etree.parse(str(XSD_ROOT / files[0]), parser)
    else:
        # A driver document pulls several namespaces into ONE schema set; lax wildcards in OAI-PMH.xsd are
        # "strict", so the metadata/about/description formats must be known to the same set.
        imports = []
        for rel in files:
            target = etree.parse(str(XSD_ROOT / rel), parser).getroot().get("targetNamespace")
            imports.append(f'<xs:import namespace="{target}" schemaLocation="{(XSD_ROOT / rel).as_uri()}"/>')
        driver = (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(imports) + "</xs:schema>"
        ).encode()
        doc = etree.ElementTree(etree.fromstring(driver, parser, base_url=str(XSD_ROOT / "driver.xsd")))
    try:
        return etree.XMLSchema(doc)
    except etree.XMLSchemaParseError as exc:
        raise RuntimeError(f"cannot compile official schemas {files}: {exc}\n{exc.error_log}") from exc


def _cached(key: tuple[str, str | None], files: list[str]) -> etree.XMLSchema:
    with _lock:
        schema = _cache.get(key)
        if schema is None:
            schema = _cache[key] = _compile(files)
        return schema


def official_metadata_schema(prefix: str) -> etree.XMLSchema:
    """The official schema of one metadata format (``jpcoar_2.0``, ``jpcoar_1.0`` or ``oai_dc``)."""
    _check_prefix(prefix, allow_none=False)
    return _cached(("metadata", prefix), [OFFICIAL_FILES[prefix]])


def official_response_schema(prefix: str | None) -> etree.XMLSchema:
    """OAI-PMH.xsd + oai-identifier.xsd + provenance.xsd (+ the format of ``prefix``) as one schema set."""
    _check_prefix(prefix, allow_none=True)
    # Identify descriptions and setDescriptions may be Dublin Core, so oai_dc is part of every envelope.
    files = [*_ENVELOPE_FILES, OFFICIAL_FILES[prefix or "oai_dc"]]
    return _cached(("response", prefix), files)


def official_validate(schema: etree.XMLSchema, doc: etree._Element | etree._ElementTree) -> tuple[bool, str]:
    """Validate under the module lock (an XMLSchema's error log is shared state); return (valid, log text)."""
    with _lock:
        ok = schema.validate(doc)
        return ok, "" if ok else str(schema.error_log)


def assert_valid_response(xml_bytes: bytes | str | etree._Element | etree._ElementTree, prefix: str | None) -> None:
    """Raise AssertionError with the libxml2 error log unless ``xml_bytes`` is a valid OAI-PMH response."""
    if isinstance(xml_bytes, etree._ElementTree | etree._Element):
        doc = xml_bytes
    else:
        data = xml_bytes.encode("utf-8") if isinstance(xml_bytes, str) else xml_bytes
        try:
            doc = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False))
        except etree.XMLSyntaxError as exc:
            raise AssertionError(f"response is not well-formed XML: {exc}") from None
    ok, log = official_validate(official_response_schema(prefix), doc)
    if not ok:
        raise AssertionError(f"response is not valid against the official OAI-PMH schemas (prefix={prefix!r}):\n{log}")


def official_validator(body: bytes, prefix: str | None) -> list[str]:
    """Schema problems of a whole response against the OFFICIAL OAI-PMH (+ format) schemas (a conformance validator)."""
    try:
        assert_valid_response(body, prefix)
    except AssertionError as exc:
        return [str(exc)]
    return []
