"""Reading OAI-PMH responses strictly: a page that is not complete, well-formed OAI-PMH is an error, not an end."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from gateway.harvest import HarvestedRecord, HarvestError
from gateway.namespaces import OAI
from gateway.xmlsafe import XMLInputError, parse_bytes, strip_illegal_xml_chars

_O = f"{{{OAI}}}"


class OAIProtocolError(HarvestError):
    """The source answered with an OAI-PMH <error>."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.text = message
        super().__init__(f"the source answered OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}")


@dataclass
class Response:
    verb: str | None
    response_date: str | None
    records: list[HarvestedRecord]
    resumption_token: str | None
    complete_list_size: int | None
    cursor: int | None
    has_token_element: bool
    root: etree._Element
    warnings: list[str] = field(default_factory=list)


def parse_response(data: bytes, *, what: str = "response") -> Response:
    warnings: list[str] = []
    cleaned, removed = strip_illegal_xml_chars(data)
    if removed:
        warnings.append(f"{what}: removed {removed} character(s) that are not allowed in XML")
    try:
        root = parse_bytes(cleaned)
    except XMLInputError as exc:
        head = data[:200].decode("utf-8", "replace").lower()
        if "<html" in head or "<!doctype html" in head:
            raise HarvestError(f"{what}: the source sent an HTML page, not OAI-PMH XML: {_page_text(data)}") from None
        raise HarvestError(f"{what}: {exc}") from None
    if etree.QName(root).localname.lower() == "html":
        raise HarvestError(f"{what}: the source sent an HTML page, not OAI-PMH XML: {_page_text(data)}")
    if root.tag != f"{_O}OAI-PMH":
        raise HarvestError(f"{what}: not an OAI-PMH response (root element {root.tag})")

    errors = root.findall(f"{_O}error")
    if errors:
        first = errors[0]
        code = first.get("code", "unknown")
        raise OAIProtocolError(code, " ".join((first.text or "").split()))

    response_date = _text(root.find(f"{_O}responseDate"))
    request = root.find(f"{_O}request")
    verb_el = None
    for child in root:
        if isinstance(child.tag, str) and child.tag not in (f"{_O}responseDate", f"{_O}request"):
            verb_el = child
            break
    verb = (
        etree.QName(verb_el).localname
        if verb_el is not None
        else (request.get("verb") if request is not None else None)
    )

    records: list[HarvestedRecord] = []
    token_text: str | None = None
    complete: int | None = None
    cursor: int | None = None
    has_token = False
    if verb_el is not None:
        if verb in ("ListRecords", "GetRecord"):
            for rec in verb_el.findall(f"{_O}record"):
                records.append(_record(rec))
        elif verb == "ListIdentifiers":
            for header in verb_el.findall(f"{_O}header"):
                records.append(_header(header))
        token_el = verb_el.find(f"{_O}resumptionToken")
        if token_el is not None:
            has_token = True
            token_text = (token_el.text or "").strip() or None
            complete = _int(token_el.get("completeListSize"))
            cursor = _int(token_el.get("cursor"))
    return Response(
        verb=verb,
        response_date=response_date,
        records=records,
        resumption_token=token_text,
        complete_list_size=complete,
        cursor=cursor,
        has_token_element=has_token,
        root=root,
        warnings=warnings,
    )


def _page_text(data: bytes, limit: int = 200) -> str:
    """The words of an error page, without its markup, so the run history says what the source said."""
    text = data.decode("utf-8", "replace")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    flat = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    return (flat[:limit] + "…") if len(flat) > limit else (flat or "(no text)")


def _header(header: etree._Element) -> HarvestedRecord:
    identifier = _text(header.find(f"{_O}identifier"))
    if not identifier:
        return HarvestedRecord(identifier="", error="record header without an identifier")
    return HarvestedRecord(
        identifier=identifier,
        datestamp=_text(header.find(f"{_O}datestamp")),
        deleted=header.get("status") == "deleted",
        sets=[s.text.strip() for s in header.findall(f"{_O}setSpec") if s.text and s.text.strip()],
    )


def _record(rec: etree._Element) -> HarvestedRecord:
    header = rec.find(f"{_O}header")
    if header is None:
        return HarvestedRecord(identifier="", error="record without a header")
    item = _header(header)
    if item.error or item.deleted:
        return item
    metadata = rec.find(f"{_O}metadata")
    payload = None
    if metadata is not None:
        payload = next((c for c in metadata if isinstance(c.tag, str)), None)
    if payload is None:
        item.error = "record without metadata (and not marked deleted)"
        return item
    # Re-serialising the element keeps its content and every namespace in scope; it is the record as received.
    item.raw = etree.tostring(payload, encoding="utf-8")
    return item


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
