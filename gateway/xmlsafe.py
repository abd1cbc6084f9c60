"""Safe parsing of untrusted XML.

Everything the gateway reads from a source is untrusted: no DTD is loaded, no entity is expanded, nothing is fetched
from the network, and a document that declares a DOCTYPE is refused outright (OAI-PMH and JPCOAR never need one, and
refusing it closes the door on entity-expansion tricks that slip past a lenient parser).
"""

from __future__ import annotations

import re
import threading

from lxml import etree

__all__ = ["XMLInputError", "mark_illegal_xml_chars", "parse_bytes", "strip_illegal_xml_chars", "tostring", "unmark"]


class XMLInputError(ValueError):
    """Raised when untrusted input is not well-formed or not acceptable XML."""


_local = threading.local()

# XML 1.0 forbids these code points; real repositories still send them (form feeds, NULs from PDFs, ...).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL_BYTES = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]"
    rb"|&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]|6553[45]));"
)
# Where an illegal character was, a parsed document holds a marker instead: a private-use character of plane 16
# (legal XML) that says which character it stood for, so that the record it was in can be told and warned about.
_MARK_BASE = 0x10FF00
_MARK_BYTES = b"\xf4\x8f\xbc"  # the UTF-8 lead of U+10FF00..U+10FF3F
_MARKS = re.compile("[\U0010FF00-\U0010FF3F]")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


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
        # The message already says the line and column; lxml's "(<string>, line N)" after it says nothing more.
        raise XMLInputError(f"not well-formed XML: {exc.msg or exc}") from None
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


def _code_point(token: bytes) -> int:
    if token.startswith(b"&#"):
        body = token[2:-1]
        return int(body[1:], 16) if body[:1] in (b"x", b"X") else int(body)
    if len(token) == 3:  # U+FFFE or U+FFFF in UTF-8
        return 0xFFFE + token[2] - 0xBE
    return token[0]


def _mark(match: re.Match[bytes]) -> bytes:
    code = _code_point(match.group())
    slot = code if code < 0x20 else 0x20 + (code - 0xFFFE)
    if match.group().startswith(b"&#"):
        return f"&#x{_MARK_BASE + slot:X};".encode()
    return chr(_MARK_BASE + slot).encode()


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def has_illegal_xml_chars(data: bytes) -> bool:
    """A fast first look (every harvested page passes here): a character class and two substring searches, the slower
    pattern of character references only where the page holds any."""
    return bool(
        _CONTROL_BYTES.search(data)
        or b"\xef\xbf\xbe" in data
        or b"\xef\xbf\xbf" in data
        or (b"&#" in data and _ILLEGAL_BYTES.search(data))
    )


def mark_illegal_xml_chars(data: bytes) -> tuple[bytes, int, bool]:
    """Like `strip_illegal_xml_chars`, but leave a marker where each character was (see `unmark`).

    Returns the text, the number of characters found and whether markers were left: only in a UTF-8 document that
    holds no marker-like character already; otherwise the characters are simply removed.
    """
    if not has_illegal_xml_chars(data):
        return data, 0, False
    declared = _DECLARED_ENCODING.match(data)
    utf8 = declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")
    if not utf8 or _MARK_BYTES in data or b"&#x10FF" in data.upper():
        cleaned, count = strip_illegal_xml_chars(data)
        return cleaned, count, False
    marked, count = _ILLEGAL_BYTES.subn(_mark, data)
    return marked, count, True


def _described(slot: int) -> str:
    code = slot if slot < 0x20 else 0xFFFE + slot - 0x20
    return f"U+{code:04X}"


def unmark(element: etree._Element, *, include_tail: bool = False) -> list[str]:
    """Remove the markers `mark_illegal_xml_chars` left in an element's subtree; return the characters they stood
    for (as U+XXXX, in document order)."""
    found: list[str] = []

    def clean(text: str | None) -> str | None:
        if text is None or not _MARKS.search(text):
            return text
        found.extend(_described(ord(ch) - _MARK_BASE) for ch in _MARKS.findall(text))
        return _MARKS.sub("", text)

    for node in element.iter():
        if isinstance(node.tag, str):
            for name, value in node.attrib.items():
                fixed = clean(value)
                if fixed is not value:
                    node.set(name, fixed or "")
        node.text = clean(node.text)
        if node is not element or include_tail:
            node.tail = clean(node.tail)
    return found


def strip_illegal_text(text: str) -> str:
    return _ILLEGAL.sub("", text)


def tostring(element: etree._Element) -> bytes:
    """Serialise an element as UTF-8 without an XML declaration (the form fragments are stored in)."""
    return etree.tostring(element, encoding="utf-8")
