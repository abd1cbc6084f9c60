"""A fault-injecting OAI-PMH repository: the fixture repository of tests/support/oaiserver.py, with planned faults.

`plan` maps a request number (0-based, counting every request the server receives) to a fault; each fault is
injected once, so every test is bounded in requests and time:

- "timeout": answers only after `slow` seconds (longer than the harvester's timeout);
- "reset": resets the connection (TCP RST) without answering;
- "cut": sends the headers and only part of the body (the transfer ends early);
- "503": 503 with `Retry-After: <retry_after>`; "503-date": the same with an HTTP date; "503-bare": no header;
- "no-token": the page without its resumption token;
- "short": the page with its last record and its resumption token dropped;
- "bad-token": badResumptionToken (an expired token);
- "illegal": the page with characters that XML does not allow (U+0001 and U+000B in its first record's title);
- "html": an HTML error page; "500", "502": that status with a plain-text body;
- "cut-tag", "cut-attr", "cut-text", "cut-mb", "cut-boundary": the page cut short, as a complete transfer (its
  Content-Length is the cut length), inside a tag name, inside an attribute value, inside a text, inside a multi-byte
  character, or just after a record's end tag, in its second half;
- "broken-record": the page with one record no longer well-formed (an unescaped `&` in its title), on every attempt
  when it is planned for every attempt.

`page_faults` plans faults by list page instead of by request: (the list's `from`, the page's offset in the list) ->
faults, one taken per request for that page, so retries and restarts do not shift the plan.

`expire_tokens()` makes every resumption token issued so far invalid (as a repository restarted overnight does).
`delay` slows every answer (for overlap tests); `seen` records (start, end) times of each request.
"""

from __future__ import annotations

import email.utils
import re
import socket
import struct
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from tests.support.oaiserver import FixtureRecord, FixtureRepository


class FaultyRepository(FixtureRepository):
    def __init__(self, records: list[FixtureRecord], **kwargs: Any) -> None:
        super().__init__(records, **kwargs)
        self.plan: dict[int, str] = {}
        self.page_faults: dict[tuple[str | None, int], list[str]] = {}
        self.always: str | None = None  # a fault injected into every ListRecords request (bounded by the client)
        self.slow = 1.0
        self.retry_after = "1"
        self.delay = 0.0
        self.generation = 0
        self.injected: list[tuple[int, str]] = []
        self.active = 0
        self.max_active = 0
        self._count_lock = threading.Lock()

    def expire_tokens(self) -> None:
        self.generation += 1

    def respond(self, args: dict[str, str]) -> bytes:
        token = args.get("resumptionToken")
        if token is not None:
            generation, _, rest = token.partition("~")
            if generation != str(self.generation):
                return self._error(args, "badResumptionToken", "the resumption token has expired")
            args = {**args, "resumptionToken": rest}
        body = super().respond(args)
        # Tokens carry the generation they were issued in.
        return re.sub(
            rb"(<resumptionToken[^>]*>)([^<]+)<", lambda m: m[1] + f"{self.generation}~".encode() + m[2] + b"<", body
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.lock:
            self.requests.append(args)
            number = len(self.requests) - 1
        with self._count_lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            fault = self.plan.pop(number, None)
            if fault is None and self.page_faults and args.get("verb") == "ListRecords":
                planned = self.page_faults.get(self._page_of(args))
                if planned:
                    fault = planned.pop(0)
            if fault is None and self.always and args.get("verb") == "ListRecords":
                fault = self.always
            if fault:
                self.injected.append((number, fault))
            return self._answer(environ, start_response, args, fault)
        finally:
            with self._count_lock:
                self.active -= 1

    def _page_of(self, args: dict[str, str]) -> tuple[str | None, int]:
        token = args.get("resumptionToken")
        if token is None:
            return args.get("from"), 0
        fields = token.partition("~")[2].split("|")
        try:
            return (fields[1] or None), int(fields[0])
        except (IndexError, ValueError):
            return None, -1

    def _answer(
        self, environ: dict[str, Any], start_response: Any, args: dict[str, str], fault: str | None
    ) -> list[bytes]:
        xml = [("Content-Type", "text/xml; charset=utf-8")]
        if fault == "timeout":
            time.sleep(self.slow)
        if fault == "reset":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                # Linger 0: the connection ends without an answer (RST where the platform sends one).
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            start_response("200 OK", [*xml, ("Content-Length", "0")])
            return []
        if fault in ("503", "503-date", "503-bare"):
            headers = [("Content-Type", "text/plain")]
            if fault == "503":
                headers.append(("Retry-After", self.retry_after))
            elif fault == "503-date":
                headers.append(("Retry-After", email.utils.formatdate(time.time() + 2, usegmt=True)))
            body = b"busy: try again later"
            start_response("503 Service Unavailable", [*headers, ("Content-Length", str(len(body)))])
            return [body]
        if fault == "bad-token":
            body = self._error(args, "badResumptionToken", "the resumption token has expired")
            start_response("200 OK", [*xml, ("Content-Length", str(len(body)))])
            return [body]
        if fault in ("500", "502"):
            body = b"Internal error: the database did not answer"
            status = "500 Internal Server Error" if fault == "500" else "502 Bad Gateway"
            start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        if fault == "html":
            body = b"<!DOCTYPE html><html><body><h1>Service temporarily down for maintenance</h1></body></html>"
            start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
            return [body]
        body = self.respond(args)
        if fault == "no-token":
            body = re.sub(rb"<resumptionToken[^>]*>[^<]*</resumptionToken>", b"", body)
        elif fault == "short":
            body = re.sub(
                rb"<record>(?:(?!<record>).)*</record>(?=(<resumptionToken|</ListRecords>))", b"", body, flags=re.S
            )
            body = re.sub(rb"<resumptionToken[^>]*>[^<]*</resumptionToken>", b"", body)
        elif fault == "illegal":
            body = body.replace(b"</dc:title>", b"\x01\x0b</dc:title>", 1)
        elif fault == "broken-record":
            body = body.replace(b"</dc:title>", b" & more</dc:title>", 1)
        elif fault and fault.startswith("cut-"):
            body = body[: cut_position(body, fault)]
        if fault == "cut":
            start_response("200 OK", [*xml, ("Content-Length", str(len(body)))])
            return [body[: len(body) // 2]]
        start_response("200 OK", [*xml, ("Content-Length", str(len(body)))])
        return [body]


def cut_position(body: bytes, kind: str) -> int:
    """Where to cut a page for one of the "cut-*" faults: a place of that kind in its second half."""
    half = len(body) // 2
    if kind == "cut-tag":
        return body.index(b"<dc:title", half) + 5  # inside the element name
    if kind == "cut-attr":
        return body.index(b'contributorType="', half) + len(b'contributorType="') + 3
    if kind == "cut-text":
        start = body.index(b'<dc:title xml:lang="en">', half) + len(b'<dc:title xml:lang="en">')
        return start + 2
    if kind == "cut-mb":
        position = half
        while body[position] < 0xC0:  # to the lead byte of a multi-byte character
            position += 1
        return position + 1  # its lead byte only
    if kind == "cut-boundary":
        return body.index(b"</record>", half) + len(b"</record>")
    raise ValueError(kind)
