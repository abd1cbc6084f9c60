"""One check run against one endpoint: its HTTP session, what Identify told it, and the checks recorded so far.

Every check group takes the probe: it sends requests through it (each response's Content-Type and `<request>` echo
are noted on the way, and judged once at the end by `finish`), validates responses against the schemas with the
caller's validator, and records each rule as a Check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import requests

from gateway.conformance.protocol import DAY, DAY_RE, SECONDS, SECONDS_RE, Response, fmt_seconds, parse_stamp, q
from gateway.conformance.report import Check, listed
from gateway.xmlsafe import XMLInputError, parse_bytes

#: validate(body, prefix) -> the schema problems of one whole response (prefix None: it carries no metadata)
Validator = Callable[[bytes, str | None], list[str]]


class OutOfTime(Exception):
    """The run's time limit is spent: the remaining checks do not run."""


class Probe:
    """The state of one run: what every check group reads (what Identify declared) and adds to (the checks)."""

    def __init__(self, base_url: str, validate: Validator, max_pages: int, timeout: float, time_limit: float) -> None:
        self.base_url = base_url
        self.validate = validate
        self.max_pages = max(1, max_pages)
        self.timeout = timeout
        self.deadline = time.monotonic() + time_limit
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "jrd-gateway-conformance/1.0"
        self.checks: list[Check] = []
        self.content_type_problems: list[str] = []
        self.echo_problems: list[str] = []
        self.request_texts: list[tuple[str, str]] = []
        self.responses = 0
        # Learned from Identify; defaults keep the remaining checks meaningful if Identify is broken.
        self.granularity = DAY
        self.deleted_record = "no"
        self.earliest: datetime | None = None
        self.declared_base_url: str | None = None
        self.repository_id: str | None = None
        self.delimiter = ":"

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))

    def request(self, params: list[tuple[str, str]], method: str = "GET") -> Response:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise OutOfTime
        resp = Response(method, params)
        label = method + " " + "&".join(f"{k}={v}" for k, v in params)
        try:
            if method == "GET":
                http = self.session.get(self.base_url, params=params, timeout=min(self.timeout, remaining))
            else:
                http = self.session.post(self.base_url, data=params, timeout=min(self.timeout, remaining))
        except requests.RequestException as exc:
            resp.problem = f"HTTP request failed: {exc}"
            return resp
        self.responses += 1
        resp.status = http.status_code
        resp.content_type = http.headers.get("Content-Type", "")
        resp.body = http.content
        media = resp.content_type.split(";")[0].strip().lower()
        if media != "text/xml":
            self.content_type_problems.append(f"{label} -> {resp.content_type or '(none)'}")
        try:
            resp.root = parse_bytes(resp.body)
        except XMLInputError as exc:
            resp.problem = f"HTTP {resp.status}, body is not acceptable XML ({exc})"
            return resp
        if resp.root.tag != q("OAI-PMH"):
            resp.problem = f"HTTP {resp.status}, root element is {resp.root.tag}, not OAI-PMH"
            resp.root = None
            return resp
        self._check_echo(resp, label)
        return resp

    def _check_echo(self, resp: Response, label: str) -> None:
        """A response that is not an error echoes the request's arguments as attributes of <request>."""
        req = resp.request_element
        if req is None:
            self.echo_problems.append(f"{label}: no <request> element")
            return
        # Judged at the end: the first response comes before Identify has told us the declared baseURL.
        self.request_texts.append((label, (req.text or "").strip()))
        if resp.errors:
            return
        sent = dict(resp.params)
        if len(sent) == len(resp.params) and dict(req.attrib) != sent:
            self.echo_problems.append(f"{label}: <request> attributes {dict(req.attrib)} do not match {sent}")

    def schema_problems(self, resp: Response, prefix: str | None) -> list[str]:
        if resp.root is None:
            return [resp.problem or "no document"]
        carries = prefix if resp.root.find(f".//{q('metadata')}") is not None else None
        try:
            return list(self.validate(resp.body, carries))
        except Exception as exc:  # a validator that cannot judge is reported, not fatal
            return [f"validator could not check the response ({type(exc).__name__}: {exc})"]

    def schema_check(self, name: str, resp: Response, prefix: str | None = None) -> None:
        problems = self.schema_problems(resp, prefix)
        self.add(f"{name} [schema]", not problems, listed(problems))

    def stamp_problem(self, stamp: str, response_date: str) -> str | None:
        """Why a header datestamp is wrong, or None."""
        expected_re = SECONDS_RE if self.granularity == SECONDS else DAY_RE
        if not expected_re.match(stamp):
            return f"datestamp {stamp!r} is not in the declared granularity {self.granularity}"
        moment = parse_stamp(stamp)
        if moment is None:
            return f"datestamp {stamp!r} is not a valid date"
        if self.earliest is not None and moment < self.earliest:
            return f"datestamp {stamp} is before earliestDatestamp {fmt_seconds(self.earliest)}"
        answered = parse_stamp(response_date)
        if answered is not None:
            later = moment.date() > answered.date() if self.granularity == DAY else moment > answered
            if later:
                return f"datestamp {stamp} is after responseDate {response_date}"
        return None

    def finish(self) -> None:
        """The checks over every response of the run: Content-Type, and the `<request>` element's base URL and echo."""
        for label, text in self.request_texts:
            if text not in {self.base_url, self.declared_base_url}:
                self.echo_problems.append(f"{label}: <request> content {text!r} is not the base URL")
        self.add(
            "HTTP: Content-Type is text/xml",
            not self.content_type_problems,
            listed(self.content_type_problems) or f"{self.responses} responses",
        )
        self.add("<request> element: base URL and echoed arguments", not self.echo_problems, listed(self.echo_problems))
