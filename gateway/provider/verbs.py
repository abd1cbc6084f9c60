"""The six OAI-PMH verbs.

Each handler does all of its database work and raises ProtocolError before returning; what it returns is the lazy body
of the verb element, so that an error can never appear after the response has started streaming.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gateway.config import RepositoryConfig
from gateway.namespaces import DC, OAI_DC, OAI_IDENTIFIER, XSI
from gateway.provider import queries
from gateway.provider.arguments import DateBound, OaiRequest, parse_date
from gateway.provider.errors import ProtocolError
from gateway.provider.response import attributes, element, header, utc
from gateway.provider.settings import stored_setting
from gateway.provider.tokens import BadToken, Position, TokenCodec

EARLIEST_KEY = "earliest_datestamp"
_SAMPLE = re.compile(r"oai:[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+:[a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]+")
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")

Body = Iterable[str | bytes]

_BLOCK = 64 * 1024


@dataclass
class Context:
    """What a verb needs: configuration, database, the metadata formats on offer, the token codec and the time."""

    repository: RepositoryConfig
    sessions: sessionmaker[Session]
    formats: dict[str, Any]
    codec: Callable[[], TokenCodec]
    now: datetime


def identify(ctx: Context, req: OaiRequest) -> Body:
    repo = ctx.repository
    with ctx.sessions() as session:
        earliest = queries.earliest_datestamp(session)
        first = queries.first_identifier(session)
    if earliest is not None:
        earliest_text = utc(earliest)
    else:
        # Nothing is published yet: still promise a fixed lower bound, the same on every call.
        earliest_text = stored_setting(ctx.sessions, EARLIEST_KEY, lambda: utc(ctx.now))
    sample = first if first and _SAMPLE.fullmatch(first) else f"oai:{repo.identifier}:1"
    parts = [
        "<Identify>",
        element("repositoryName", repo.name),
        element("baseURL", repo.base_url),
        element("protocolVersion", "2.0"),
        *(element("adminEmail", address) for address in repo.admin_email),
        element("earliestDatestamp", earliest_text),
        element("deletedRecord", "persistent"),
        element("granularity", "YYYY-MM-DDThh:mm:ssZ"),
        element("compression", "gzip"),
        element("compression", "deflate"),
        "<description>",
        f'<oai-identifier xmlns="{OAI_IDENTIFIER}" xmlns:xsi="{XSI}" '
        f'xsi:schemaLocation="{OAI_IDENTIFIER} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">',
        element("scheme", "oai"),
        element("repositoryIdentifier", repo.identifier),
        element("delimiter", ":"),
        element("sampleIdentifier", sample),
        "</oai-identifier>",
        "</description>",
        # The expiry of resumption tokens, stated where a harvester reads the repository's terms: a Dublin Core
        # description is one that every OAI-PMH validator already knows how to check.
        "<description>",
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" xmlns:xsi="{XSI}" '
        f'xsi:schemaLocation="{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd">',
        element("dc:title", repo.name),
        element(
            "dc:description",
            f"Resumption tokens are valid for {repo.token_lifetime} seconds after they are issued; "
            "each states its expirationDate. Lists are paged by position, so every page costs the same.",
        ),
        "</oai_dc:dc>",
        "</description>",
        "</Identify>",
    ]
    return ["\n".join(parts)]


def _format_entry(fmt: Any) -> str:
    return (
        "<metadataFormat>"
        + element("metadataPrefix", fmt.prefix)
        + element("schema", fmt.schema)
        + element("metadataNamespace", fmt.namespace)
        + "</metadataFormat>\n"
    )


def list_metadata_formats(ctx: Context, req: OaiRequest) -> Body:
    prefixes = list(ctx.formats)
    if req.identifier is not None:
        with ctx.sessions() as session:
            item = queries.find_item(session, req.identifier)
            if item is None:
                raise ProtocolError.one("idDoesNotExist", "No record has this identifier.", echo=req.echo())
            # A deleted record is served, as a header, in every format (GetRecord answers for each of them).
            if not item.deleted:
                stored = queries.item_prefixes(session, item.id)
                prefixes = [prefix for prefix in prefixes if prefix in stored]
        if not prefixes:
            raise ProtocolError.one("noMetadataFormats", "This record has no metadata formats.", echo=req.echo())
    return ["<ListMetadataFormats>\n", *(_format_entry(ctx.formats[p]) for p in prefixes), "</ListMetadataFormats>"]


def _header(item: queries.Item) -> bytes:
    if item.header is not None:
        return item.header
    return header(item.identifier, item.datestamp, item.deleted, item.sets).encode("utf-8")


def _fragment(xml: bytes) -> bytes:
    # Fragments are stored without a declaration; one left in by mistake would make the response ill-formed.
    return _DECLARATION.sub(b"", xml) if xml[:256].lstrip().startswith(b"<?xml") else xml


def _record(item: queries.Item) -> bytes:
    parts = [b"<record>", _header(item)]
    if not item.deleted and item.metadata is not None:
        parts += [b"<metadata>", _fragment(item.metadata), b"</metadata>"]
        if item.about:
            parts += [b"<about>", _fragment(item.about), b"</about>"]
    parts.append(b"</record>\n")
    return b"".join(parts)


def get_record(ctx: Context, req: OaiRequest) -> Body:
    assert req.identifier is not None and req.metadata_prefix is not None
    if req.metadata_prefix not in ctx.formats:
        raise ProtocolError.one(
            "cannotDisseminateFormat", "This repository does not offer that metadata format.", echo=req.echo()
        )
    with ctx.sessions() as session:
        item, available = queries.get_item(session, req.identifier, req.metadata_prefix)
        if item is None:
            raise ProtocolError.one("idDoesNotExist", "No record has this identifier.", echo=req.echo())
        if not available:
            raise ProtocolError.one(
                "cannotDisseminateFormat", "This record is not available in that metadata format.", echo=req.echo()
            )
    return ["<GetRecord>", _record(item), "</GetRecord>"]


def _resume(ctx: Context, req: OaiRequest) -> Position | None:
    if req.resumption_token is None:
        return None
    try:
        return ctx.codec().decode(req.resumption_token, req.verb, ctx.now)
    except BadToken as exc:
        raise ProtocolError.one("badResumptionToken", f"Invalid resumption token: {exc}.", echo=req.echo()) from None


def _bad_token(req: OaiRequest) -> ProtocolError:
    return ProtocolError.one("badResumptionToken", "Invalid resumption token.", echo=req.echo())


def _token_element(ctx: Context, req: OaiRequest, position: Position | None, cursor: int, total: int | None) -> str:
    """The resumptionToken closing a page: a new token, an empty one ending a sequence, or nothing for one page."""
    counts = {"completeListSize": str(total)} if total is not None else {}
    counts["cursor"] = str(cursor)
    if position is not None:
        token, expires = ctx.codec().encode(position, ctx.now)
        return element("resumptionToken", token, {"expirationDate": utc(expires), **counts})
    if req.resumption_token is not None:
        return f"<resumptionToken{attributes(counts)}/>"
    return ""


def list_sets(ctx: Context, req: OaiRequest) -> Body:
    position = _resume(ctx, req)
    after = None
    cursor, total = 0, 0
    if position is not None:
        if not isinstance(position.last, str):
            raise _bad_token(req)
        after, cursor, total = position.last, position.cursor, position.total or 0
    size = ctx.repository.page_size
    with ctx.sessions() as session:
        if not queries.has_sets(session):
            raise ProtocolError.one("noSetHierarchy", "This repository has no sets yet.", echo=req.echo())
        rows = queries.page_sets(session, after, size + 1)
        more = len(rows) > size
        if more and position is None:
            total = queries.count_sets(session)
    if not rows:
        # Sets are never removed, so only a token from a different database can point past the end.
        raise _bad_token(req)
    rows = rows[:size]
    total = max(total, cursor + len(rows) + (1 if more else 0))
    following = None
    if more:
        following = Position("ListSets", None, None, None, None, rows[-1][0], cursor + len(rows), total)
    body = "".join(f"<set>{element('setSpec', spec)}{element('setName', name)}</set>\n" for spec, name in rows)
    return ["<ListSets>\n", body, _token_element(ctx, req, following, cursor, total), "</ListSets>"]


def _list(ctx: Context, req: OaiRequest, *, with_metadata: bool) -> Body:
    position = _resume(ctx, req)
    after, cursor, total = 0, 0, None
    seen, top = None, None
    if position is None:
        prefix, set_spec, start, end = req.metadata_prefix, req.set_spec, req.from_, req.until
    else:
        if not isinstance(position.last, int) or position.metadata_prefix is None:
            raise _bad_token(req)
        prefix, set_spec = position.metadata_prefix, position.set_spec
        start = _bound(req, position.from_)
        end = _bound(req, position.until)
        after, cursor, total = position.last, position.cursor, position.total
        seen, top = position.seen, position.top
    assert prefix is not None
    if prefix not in ctx.formats:
        raise ProtocolError.one(
            "cannotDisseminateFormat", "This repository does not offer that metadata format.", echo=req.echo()
        )
    selection = queries.Selection(
        prefix=prefix,
        set_spec=set_spec,
        lower=start.instant if start else None,
        upper=end.upper_exclusive() if end else None,
        seen=seen if top else None,
        top=top,
    )
    size = ctx.repository.page_size
    with ctx.sessions() as session:
        if set_spec is not None and not queries.has_sets(session):
            raise ProtocolError.one("noSetHierarchy", "This repository has no sets yet.", echo=req.echo())
        items = queries.page_items(session, selection, after, size + 1, with_metadata=with_metadata)
        more = len(items) > size
        if more and position is None:
            # Counted once, on the first page of a sequence that needs a token; later pages carry it.
            total, top, seen = queries.count_items(session, selection)
    if not items:
        raise ProtocolError.one("noRecordsMatch", "No records match the request.", echo=req.echo())
    items = items[:size]
    if total is not None:
        # Records published during the walk join its end: never promise fewer than are being served.
        total = max(total, cursor + len(items) + (1 if more else 0))
    following = None
    if more:
        following = Position(
            verb=req.verb,
            metadata_prefix=prefix,
            set_spec=set_spec,
            from_=start.text if start else None,
            until=end.text if end else None,
            last=items[-1].id,
            cursor=cursor + len(items),
            total=total,
            seen=seen or 0,
            top=top or 0,
        )
    closing = _token_element(ctx, req, following, cursor, total)
    if with_metadata:
        return _stream("ListRecords", (_record(item) for item in items), closing)
    return _stream("ListIdentifiers", (_header(item) + b"\n" for item in items), closing)


def _bound(req: OaiRequest, text: str | None) -> DateBound | None:
    if text is None:
        return None
    bound = parse_date(text)
    if bound is None:
        raise _bad_token(req)
    return bound


def _stream(name: str, entries: Iterable[bytes], closing: str) -> Iterator[str | bytes]:
    # Entries are gathered into blocks of about 64 KiB: one write per record would cost more than the record itself.
    yield f"<{name}>\n"
    block: list[bytes] = []
    size = 0
    for entry in entries:
        block.append(entry)
        size += len(entry)
        if size >= _BLOCK:
            yield b"".join(block)
            block, size = [], 0
    if block:
        yield b"".join(block)
    yield f"{closing}</{name}>"


def list_identifiers(ctx: Context, req: OaiRequest) -> Body:
    return _list(ctx, req, with_metadata=False)


def list_records(ctx: Context, req: OaiRequest) -> Body:
    return _list(ctx, req, with_metadata=True)


HANDLERS: dict[str, Callable[[Context, OaiRequest], Body]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
