"""Reading OAI-PMH responses strictly: a page that is not complete, well-formed OAI-PMH is an error, not an end.

Two repairs keep one bad record from costing its page:

- characters XML 1.0 forbids (U+000B, NUL, ...) are removed, and the record they were in gets a warning;
- `salvage_response` reads a page whose envelope is sound but one of whose records is not well-formed (an unescaped
  `&` in a title, a broken tag) record by record: the broken record comes back with its error, the rest as usual.
  It is for a page that comes back the same on every attempt; a page cut short is refused (its envelope is broken),
  so that it is fetched again rather than read in part.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from lxml import etree

from gateway.harvest.records import HarvestedRecord, HarvestError
from gateway.namespaces import OAI
from gateway.xmlsafe import XMLInputError, mark_illegal_xml_chars, parse_bytes, unmark

_O = f"{{{OAI}}}"


class MalformedResponse(HarvestError):
    """The answer is not an OAI-PMH document at all: not well-formed XML (`kind` "xml"), an HTML page ("html"), or
    XML of another kind ("other"). Usually passing (a cut transfer, a proxy's error page): the request is retried."""

    def __init__(self, what: str, detail: str, kind: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.detail = detail
        self.kind = kind


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
    """Read one OAI-PMH response; MalformedResponse if it is not one, OAIProtocolError for an OAI-PMH <error>."""
    warnings: list[str] = []
    cleaned, removed, marked = mark_illegal_xml_chars(data)
    try:
        root = parse_bytes(cleaned)
    except XMLInputError as exc:
        head = data[:200].decode("utf-8", "replace").lower()
        if "<html" in head or "<!doctype html" in head:
            detail = f"the source sent an HTML page, not OAI-PMH XML: {_page_text(data)}"
            raise MalformedResponse(what, detail, "html") from None
        raise MalformedResponse(what, str(exc), "xml") from None
    if etree.QName(root).localname.lower() == "html":
        raise MalformedResponse(what, f"the source sent an HTML page, not OAI-PMH XML: {_page_text(data)}", "html")
    if root.tag != f"{_O}OAI-PMH":
        raise MalformedResponse(what, f"not an OAI-PMH response (root element {root.tag})", "other")
    if removed and not marked:
        warnings.append(f"{what}: removed {removed} character(s) that are not allowed in XML")
    # Which record each removed character was in: that record is warned about. (The list holds the elements, so that
    # lxml hands out the same element objects, with the same ids, when the records are read below.)
    marked_records = list(root.iter(f"{_O}record")) if marked else []
    repaired = {id(rec): found for rec in marked_records if (found := unmark(rec))}
    if marked:
        outside = unmark(root, include_tail=True)
        if outside:
            warnings.append(f"{what}: removed {len(outside)} character(s) not allowed in XML ({_chars(outside)})")

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
                item = _record(rec)
                found = repaired.get(id(rec))
                if found:
                    note = f"removed {len(found)} character(s) not allowed in XML 1.0 ({_chars(found)})"
                    item.warnings.append(note)
                    warnings.append(f"{what}: record {item.identifier or '(no identifier)'}: {note}")
                records.append(item)
        elif verb == "ListIdentifiers":
            for header in verb_el.findall(f"{_O}header"):
                records.append(_header(header))
        token_el = verb_el.find(f"{_O}resumptionToken")
        if token_el is not None:
            has_token = True
            token_text = (token_el.text or "").strip() or None
            complete = _int(token_el.get("completeListSize"))
            cursor = _int(token_el.get("cursor"))
    del marked_records
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


def _chars(found: list[str]) -> str:
    distinct = list(dict.fromkeys(found))
    return ", ".join(distinct[:5]) + (", …" if len(distinct) > 5 else "")


def _tag_pattern(prefix: bytes) -> re.Pattern[bytes]:
    qname = (re.escape(prefix) + b":" if prefix else b"") + b"record"
    return re.compile(rb"<(/?)" + qname + rb"(?=[\s/>])")


_ROOT_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?OAI-PMH(?=[\s>])")
_HEADER_FIELD = {
    "identifier": re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?identifier\s*>\s*([^<]+?)\s*</"),
    "datestamp": re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?datestamp\s*>\s*([^<]+?)\s*</"),
}
_POSITION = re.compile(r",? line \d+, column \d+")


def _record_spans(data: bytes, prefix: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of each top-level OAI-PMH <record> element in the raw bytes; None if one is left open."""
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0
    for match in _tag_pattern(prefix).finditer(data):
        closing = match.group(1) == b"/"
        end_of_tag = data.find(b">", match.end())
        if end_of_tag < 0:
            return None
        if not closing and data[end_of_tag - 1 : end_of_tag] == b"/":
            continue  # <record/>: empty, it has no header; the envelope check reports it
        if closing:
            depth -= 1
            if depth == 0:
                spans.append((start, end_of_tag + 1))
            elif depth < 0:
                return None
        else:
            if depth == 0:
                start = match.start()
            depth += 1
    return spans if depth == 0 else None


def salvage_response(data: bytes, *, what: str = "response") -> Response | None:
    """Read a page that is not well-formed record by record, if only its records are broken (see the module's
    docstring); None if its envelope is broken too (the page is cut, or worse)."""
    root_tag = _ROOT_TAG.search(data[:4096])
    if root_tag is None:
        return None
    spans = _record_spans(data, root_tag.group(1) or b"")
    if not spans:
        return None
    head, tail = data[: spans[0][0]], data[spans[-1][1] :]
    between = b"".join(data[a[1] : b[0]] for a, b in itertools.pairwise(spans))
    try:
        envelope = parse_response(head + between + tail, what=what)
    except MalformedResponse:
        return None
    if envelope.verb not in ("ListRecords", "GetRecord"):
        return None
    records: list[HarvestedRecord] = []
    broken = 0
    for start, end in spans:
        span = data[start:end]
        try:
            one = parse_response(head + span + tail, what=what)
        except MalformedResponse as exc:
            broken += 1
            fields = {name: pattern.search(span) for name, pattern in _HEADER_FIELD.items()}
            identifier = fields["identifier"].group(1).decode("utf-8", "replace") if fields["identifier"] else ""
            datestamp = fields["datestamp"].group(1).decode("utf-8", "replace") if fields["datestamp"] else None
            records.append(
                HarvestedRecord(
                    identifier=identifier,
                    datestamp=datestamp,
                    raw=span,
                    error=f"the record is {_POSITION.sub('', exc.detail)} (the rest of its page was read)",
                )
            )
            continue
        records.extend(one.records)
        envelope.warnings.extend(w for w in one.warnings if w not in envelope.warnings)
    if not broken:
        return None  # the fault is not in a record: nothing to salvage
    envelope.records = records
    envelope.warnings.append(
        f"{what}: {broken} record(s) of the page are not well-formed XML; the rest of the page was read one by one"
    )
    return envelope


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
