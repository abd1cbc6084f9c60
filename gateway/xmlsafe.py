"""Safe parsing of untrusted XML.

Everything the gateway reads from a source is untrusted: no DTD is loaded, no entity is expanded, nothing is fetched
from the network, and a document that declares a DOCTYPE is refused outright (OAI-PMH and JPCOAR never need one, and
refusing it closes the door on entity-expansion tricks that slip past a lenient parser).
"""

from __future__ import annotations

import re
import threading

from lxml import etree

__all__ = ["XMLInputError", "parse_bytes", "strip_illegal_xml_chars", "tostring"]


class XMLInputError(ValueError):
    """Raised when untrusted input is not well-formed or not acceptable XML."""


_local = threading.local()

# XML 1.0 forbids these code points; real repositories still send them (form feeds, NULs from PDFs, ...).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL_BYTES = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]"
    rb"|&#(?:x0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]));"
)


def _parser() -> etree.XMLParser:
    # lxml parser objects must not be shared between threads.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_bytes(data: bytes | str) -> etree._Element:
    """Parse one untrusted XML document and return its root element."""
    if isinstance(data, str):
        data = data.encode("utf-8") if not data.lstrip().startswith("<?xml") else _drop_declaration(data)
    if not data or not data.strip():
        raise XMLInputError("empty document")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XMLInputError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise XMLInputError("empty document")
    doctype = root.getroottree().docinfo.doctype
    if doctype:
        raise XMLInputError("documents with a DOCTYPE are refused (entity declarations are not allowed)")
    return root


def _drop_declaration(text: str) -> bytes:
    # A str with an encoding declaration cannot be handed to lxml as str; its declaration no longer applies.
    end = text.find("?>")
    return text[end + 2 :].encode("utf-8")


def strip_illegal_xml_chars(data: bytes) -> tuple[bytes, int]:
    """Remove characters (raw or as character references) that XML 1.0 forbids; return the text and the count."""
    cleaned, count = _ILLEGAL_BYTES.subn(b"", data)
    return cleaned, count


def strip_illegal_text(text: str) -> str:
    return _ILLEGAL.sub("", text)


def tostring(element: etree._Element) -> bytes:
    """Serialise an element as UTF-8 without an XML declaration (the form fragments are stored in)."""
    return etree.tostring(element, encoding="utf-8")
