"""A fault-injecting OAI-PMH repository: the fixture repository of tests/oaiserver.py, with planned faults.

`plan` maps a request number (0-based, counting every request the server receives) to a fault; each fault is
injected once, so every test is bounded in requests and time:

- "timeout": answers only after `slow` seconds (longer than the harvester's timeout);
- "reset": resets the connection (TCP RST) without answering;
- "cut": sends the headers and only part of the body (the transfer ends early);
- "503": 503 with `Retry-After: <retry_after>`; "503-date": the same with an HTTP date; "503-bare": no header;
- "no-token": the page without its resumption token;
- "short": the page with its last record and its resumption token dropped;
- "bad-token": badResumptionToken (an expired token);
- "illegal": the page with characters that XML does not allow;
- "html": an HTML error page.

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

from tests.oaiserver import FixtureRecord, FixtureRepository


class FaultyRepository(FixtureRepository):
    def __init__(self, records: list[FixtureRecord], **kwargs: Any) -> None:
        super().__init__(records, **kwargs)
        self.plan: dict[int, str] = {}
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
            if fault is None and self.always and args.get("verb") == "ListRecords":
                fault = self.always
            if fault:
                self.injected.append((number, fault))
            return self._answer(environ, start_response, args, fault)
        finally:
            with self._count_lock:
                self.active -= 1

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
        if fault == "cut":
            start_response("200 OK", [*xml, ("Content-Length", str(len(body)))])
            return [body[: len(body) // 2]]
        start_response("200 OK", [*xml, ("Content-Length", str(len(body)))])
        return [body]
