"""What the checker reads in an OAI-PMH response: the response itself, a record header, and datestamps.

Nothing here judges anything: the check groups (identify, walks, lists, errors, post) do, over these readings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.namespaces import OAI

DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def q(name: str) -> str:
    return f"{{{OAI}}}{name}"


@dataclass
class Response:
    method: str
    params: list[tuple[str, str]]
    status: int = 0
    content_type: str = ""
    body: bytes = b""
    root: etree._Element | None = None
    problem: str | None = None  # transport or well-formedness problem: nothing else can be judged

    @property
    def errors(self) -> list[str]:
        if self.root is None:
            return []
        return [e.get("code", "") for e in self.root.findall(q("error"))]

    @property
    def request_element(self) -> etree._Element | None:
        return None if self.root is None else self.root.find(q("request"))

    @property
    def response_date(self) -> str:
        if self.root is None:
            return ""
        return (self.root.findtext(q("responseDate")) or "").strip()

    def verb_element(self, verb: str) -> etree._Element | None:
        return None if self.root is None else self.root.find(q(verb))

    def describe(self) -> str:
        """What came back, for failure details."""
        if self.problem:
            return self.problem
        if self.errors:
            return "error " + ", ".join(self.errors)
        if self.root is not None and len(self.root) >= 3:
            return f"<{etree.QName(self.root[2]).localname}> (no error)"
        return "an OAI-PMH document without a verb element or error"


@dataclass(frozen=True)
class Header:
    identifier: str
    datestamp: str
    deleted: bool
    sets: tuple[str, ...]

    @classmethod
    def parse(cls, el: etree._Element) -> Header:
        return cls(
            identifier=(el.findtext(q("identifier")) or "").strip(),
            datestamp=(el.findtext(q("datestamp")) or "").strip(),
            deleted=el.get("status") == "deleted",
            sets=tuple(sorted((s.text or "").strip() for s in el.findall(q("setSpec")))),
        )

    def in_set(self, spec: str) -> bool:
        # Set hierarchies: membership of a:b implies membership of a.
        return any(s == spec or s.startswith(spec + ":") for s in self.sets)


def parse_stamp(text: str) -> datetime | None:
    try:
        if SECONDS_RE.match(text):
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if DAY_RE.match(text):
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return None


def fmt_seconds(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
