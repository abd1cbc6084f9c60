"""A small but real OAI-PMH repository for harvest tests, served over HTTP by tests/support/servers.py.

It pages a list of records with resumption tokens, honours from/until/set, answers deleted headers and the protocol's
errors, and counts the requests it receives, so tests can check what the harvester really asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, quoteattr

OAI_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
)


@dataclass
class FixtureRecord:
    identifier: str
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ
    metadata: str = ""  # the metadata element as XML text
    sets: list[str] = field(default_factory=list)
    deleted: bool = False


class FixtureRepository:
    """A WSGI OAI-PMH repository over an in-memory list of records."""

    def __init__(
        self,
        records: list[FixtureRecord],
        *,
        page_size: int = 3,
        prefix: str = "jpcoar_2.0",
        granularity: str = "YYYY-MM-DDThh:mm:ssZ",
        response_date: str = "2026-11-20T00:00:00Z",
    ) -> None:
        self.records = records
        self.page_size = page_size
        self.prefix = prefix
        self.granularity = granularity
        self.response_date = response_date
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        # Tests replace answers here: called with the request's arguments and its number (0-based),
        # it returns (status, content type, body) to send instead, or None for the normal answer.
        self.override: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.lock:
            self.requests.append(args)
            number = len(self.requests) - 1
        special = self.override(args, number) if self.override else None
        if special is not None:
            status, ctype, body = special
        else:
            status, ctype, body = "200 OK", "text/xml; charset=utf-8", self.respond(args)
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    def _envelope(self, args: dict[str, str], inner: str) -> bytes:
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in sorted(args.items()))
        return (
            f"{OAI_HEAD}<responseDate>{self.response_date}</responseDate>"
            f"<request{attrs}>http://127.0.0.1/oai</request>{inner}</OAI-PMH>"
        ).encode()

    def _error(self, args: dict[str, str], code: str, text: str) -> bytes:
        return self._envelope(args, f'<error code="{code}">{escape(text)}</error>')

    def selected(self, args: dict[str, str]) -> list[FixtureRecord]:
        out = []
        for rec in self.records:
            stamp = rec.datestamp
            if "from" in args and stamp[: len(args["from"])] < args["from"]:
                continue
            if "until" in args and stamp[: len(args["until"])] > args["until"]:
                continue
            if "set" in args and args["set"] not in rec.sets:
                continue
            out.append(rec)
        return out

    def respond(self, args: dict[str, str]) -> bytes:
        verb = args.get("verb")
        if verb == "Identify":
            return self._envelope(
                args,
                "<Identify><repositoryName>Fixture repository</repositoryName>"
                "<baseURL>http://127.0.0.1/oai</baseURL><protocolVersion>2.0</protocolVersion>"
                "<adminEmail>fixture@example.ac.jp</adminEmail><earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>"
                f"<deletedRecord>persistent</deletedRecord><granularity>{self.granularity}</granularity></Identify>",
            )
        if verb != "ListRecords":
            return self._error(args, "badVerb", "only Identify and ListRecords here")
        if "resumptionToken" in args:
            try:
                offset, frm, until, set_spec = args["resumptionToken"].split("|")
                sel = {k: v for k, v in (("from", frm), ("until", until), ("set", set_spec)) if v}
                start = int(offset)
            except ValueError:
                return self._error(args, "badResumptionToken", "unknown token")
        else:
            if args.get("metadataPrefix") != self.prefix:
                return self._error(args, "cannotDisseminateFormat", f"only {self.prefix}")
            sel = {k: args[k] for k in ("from", "until", "set") if k in args}
            start = 0
        matching = self.selected(sel)
        if not matching:
            return self._error(args, "noRecordsMatch", "nothing matches")
        page = matching[start : start + self.page_size]
        parts = ["<ListRecords>"]
        for rec in page:
            status = ' status="deleted"' if rec.deleted else ""
            sets = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in rec.sets)
            parts.append(
                f"<record><header{status}><identifier>{escape(rec.identifier)}</identifier>"
                f"<datestamp>{rec.datestamp}</datestamp>{sets}</header>"
            )
            if not rec.deleted:
                parts.append(f"<metadata>{rec.metadata}</metadata>")
            parts.append("</record>")
        end = start + len(page)
        if end < len(matching):
            token = f"{end}|{sel.get('from', '')}|{sel.get('until', '')}|{sel.get('set', '')}"
            parts.append(
                f'<resumptionToken completeListSize="{len(matching)}" cursor="{start}">'
                f"{escape(token)}</resumptionToken>"
            )
        elif start:
            parts.append(f'<resumptionToken completeListSize="{len(matching)}" cursor="{start}"/>')
        parts.append("</ListRecords>")
        return self._envelope(args, "".join(parts))
