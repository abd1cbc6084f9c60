"""Writing OAI-PMH responses: the envelope, escaped text, stored fragments, streaming and HTTP compression.

Responses are written as text rather than built as trees: list pages are assembled from the fragments stored at
publish time, and the body is a generator so a large page is never held twice in memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache

from flask import Response

from gateway.namespaces import OAI, XSI

CONTENT_TYPE = "text/xml; charset=utf-8"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"

# XML 1.0 cannot carry these at all, even escaped; configuration or stored names could still contain them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The spec (3.2) asks for character references rather than entity references.
_TEXT = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;"})
_ATTR = str.maketrans(
    {"&": "&#38;", "<": "&#60;", ">": "&#62;", '"': "&#34;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def text(value: str) -> str:
    """`value` as XML character data."""
    return _ILLEGAL.sub("", value).translate(_TEXT)


def attr(value: str) -> str:
    """`value` as a double-quoted XML attribute value (quotes not included)."""
    return _ILLEGAL.sub("", value).translate(_ATTR)


def element(name: str, value: str, attrs: dict[str, str] | None = None) -> str:
    return f"<{name}{attributes(attrs)}>{text(value)}</{name}>"


def attributes(attrs: dict[str, str] | None) -> str:
    return "".join(f' {key}="{attr(value)}"' for key, value in (attrs or {}).items())


@lru_cache(maxsize=4096)
def _set_spec(spec: str) -> str:
    # Set specs come from a small vocabulary and recur on every header: escape each once.
    return element("setSpec", spec)


def header(identifier: str, datestamp: datetime, deleted: bool, sets: Iterable[str]) -> str:
    """A record's OAI-PMH <header> (set specs in the order given)."""
    status = ' status="deleted"' if deleted else ""
    return (
        f"<header{status}>{element('identifier', identifier)}"
        f"{element('datestamp', utc(datestamp))}{''.join(map(_set_spec, sets))}</header>"
    )


def utc(moment: datetime) -> str:
    """A naive UTC datetime as an OAI-PMH UTCdatetime of second granularity."""
    # isoformat is several times faster than strftime, and this runs for every header served.
    return moment.replace(microsecond=0).isoformat() + "Z"


def document(
    response_date: datetime, base_url: str, request_attrs: dict[str, str], body: Iterable[str | bytes]
) -> Iterator[bytes]:
    """The complete response: declaration, OAI-PMH root, responseDate, request, then `body` as it is produced."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" xsi:schemaLocation="{OAI} {OAI_SCHEMA}">\n'
        f"<responseDate>{utc(response_date)}</responseDate>\n"
        f"{element('request', base_url, request_attrs)}\n"
    ).encode()
    for chunk in body:
        yield chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
    yield b"\n</OAI-PMH>\n"


def errors(items: list[tuple[str, str]]) -> Iterator[str]:
    for code, message in items:
        yield element("error", message, {"code": code})


def choose_encoding(accept: object) -> str | None:
    """gzip or deflate when the Accept-Encoding header allows it (q > 0), else None for identity."""
    quality = getattr(accept, "quality", None)
    if quality is None:
        return None
    for coding in ("gzip", "deflate"):
        if quality(coding) > 0:
            return coding
    return None


def _compressed(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    # wbits 31 writes the gzip wrapper; 15 writes zlib, which is what HTTP calls "deflate" (RFC 9110 8.4.1.2).
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31 if coding == "gzip" else 15)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def http_response(chunks: Iterable[bytes], coding: str | None) -> Response:
    body = _compressed(chunks, coding) if coding else chunks
    response = Response(body, status=200, content_type=CONTENT_TYPE)
    response.headers["Vary"] = "Accept-Encoding"
    if coding:
        response.headers["Content-Encoding"] = coding
    return response
