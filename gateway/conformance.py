"""OAI-PMH 2.0 conformance checker: walks a live endpoint over HTTP, as a harvester would, and reports every failure.

It only speaks the protocol (nothing here knows how the gateway stores or serves records), so it can be pointed at
any repository. Every rule it applies comes from the OAI-PMH 2.0 specification; where the specification leaves room
(HTTP status of error responses, estimated completeListSize, ...) the checker is as strict as a harvester must be
able to rely on for a static repository.

    report = check_endpoint("https://example.ac.jp/oai")
    print(format_report(report))
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from lxml import etree

from gateway.namespaces import OAI, OAI_IDENTIFIER
from gateway.xmlsafe import XMLInputError, parse_bytes

__all__ = ["Check", "Report", "Validator", "check_endpoint", "format_report"]

Validator = Callable[[bytes, str | None], list[str]]

DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# oai-identifier.xsd, repositoryIdentifierType
_REPOSITORY_ID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
_ERROR_CODES = {
    "badArgument",
    "badResumptionToken",
    "badVerb",
    "cannotDisseminateFormat",
    "idDoesNotExist",
    "noRecordsMatch",
    "noMetadataFormats",
    "noSetHierarchy",
}
_UNKNOWN_PREFIX = "conformance_check_no_such_format"
_FAR_FUTURE = "2999-01-01"
_MAX_SETS = 20
_MAX_LISTED = 8  # problems quoted in one check's detail; the count says how many there were


def _q(name: str) -> str:
    return f"{{{OAI}}}{name}"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    base_url: str
    checks: list[Check]

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def format_report(report: Report) -> str:
    """A readable summary: how many checks ran, the failures first, then what passed."""
    failures = report.failures
    lines = [
        f"OAI-PMH 2.0 conformance of {report.base_url}: {len(report.checks)} checks, "
        f"{len(failures)} failed, {len(report.checks) - len(failures)} passed"
    ]
    for check in failures:
        lines.append(f"FAIL  {check.name}" + (f": {check.detail}" if check.detail else ""))
    for check in report.checks:
        if check.ok:
            lines.append(f"ok    {check.name}" + (f" ({check.detail})" if check.detail else ""))
    return "\n".join(lines)


class _OutOfTime(Exception):
    pass


# --------------------------------------------------------------------------------------------------------------------
# Responses and headers


@dataclass
class _Response:
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
        return [e.get("code", "") for e in self.root.findall(_q("error"))]

    @property
    def request_element(self) -> etree._Element | None:
        return None if self.root is None else self.root.find(_q("request"))

    @property
    def response_date(self) -> str:
        if self.root is None:
            return ""
        return (self.root.findtext(_q("responseDate")) or "").strip()

    def verb_element(self, verb: str) -> etree._Element | None:
        return None if self.root is None else self.root.find(_q(verb))

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
class _Header:
    identifier: str
    datestamp: str
    deleted: bool
    sets: tuple[str, ...]

    @classmethod
    def parse(cls, el: etree._Element) -> _Header:
        return cls(
            identifier=(el.findtext(_q("identifier")) or "").strip(),
            datestamp=(el.findtext(_q("datestamp")) or "").strip(),
            deleted=el.get("status") == "deleted",
            sets=tuple(sorted((s.text or "").strip() for s in el.findall(_q("setSpec")))),
        )

    def in_set(self, spec: str) -> bool:
        # Set hierarchies: membership of a:b implies membership of a.
        return any(s == spec or s.startswith(spec + ":") for s in self.sets)


def _parse_stamp(text: str) -> datetime | None:
    try:
        if _SECONDS_RE.match(text):
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if _DAY_RE.match(text):
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return None


def _fmt_seconds(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    return shown + (f"; ... {more} more" if more > 0 else "")


@dataclass
class _Walk:
    """One list request sequence followed to its end (or until it could not go on)."""

    verb: str
    headers: list[_Header] = field(default_factory=list)
    has_metadata: dict[str, bool] = field(default_factory=dict)
    set_specs: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    pages: int = 0
    complete: bool = False
    no_records: bool = False  # the first answer was noRecordsMatch / noSetHierarchy
    first_page_ids: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, category: str, problem: str) -> None:
        self.problems.setdefault(category, []).append(problem)

    @property
    def ids(self) -> set[str]:
        return {h.identifier for h in self.headers}

    def all_problems(self) -> list[str]:
        return [f"{cat}: {p}" for cat, items in self.problems.items() for p in items]


_WALK_CATEGORIES = (
    "walk",
    "duplicates",
    "cursor",
    "completeListSize",
    "last resumptionToken",
    "datestamps",
    "deleted records",
    "schema",
)


# --------------------------------------------------------------------------------------------------------------------
# The checker


def _default_validator() -> Validator:
    # Imported lazily: the checker itself must work (with a caller's validator) even where the gateway's schema
    # machinery is unavailable.
    try:
        from gateway.schemas import validate_response
    except Exception as exc:  # reported on every response instead of aborting the whole check
        reason = f"the gateway's schema validator is unavailable ({type(exc).__name__}: {exc})"

        def unavailable(body: bytes, prefix: str | None) -> list[str]:
            return [reason]

        return unavailable

    def validate(body: bytes, prefix: str | None) -> list[str]:
        return [f"{issue.path}: {issue.message}" for issue in validate_response(parse_bytes(body), prefix)]

    return validate


class _Checker:
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

    # ---- plumbing -----------------------------------------------------------------------------------------------

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))

    def request(self, params: list[tuple[str, str]], method: str = "GET") -> _Response:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _OutOfTime
        resp = _Response(method, params)
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
        if resp.root.tag != _q("OAI-PMH"):
            resp.problem = f"HTTP {resp.status}, root element is {resp.root.tag}, not OAI-PMH"
            resp.root = None
            return resp
        self._check_echo(resp, label)
        return resp

    def _check_echo(self, resp: _Response, label: str) -> None:
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

    def schema_problems(self, resp: _Response, prefix: str | None) -> list[str]:
        if resp.root is None:
            return [resp.problem or "no document"]
        carries = prefix if resp.root.find(f".//{_q('metadata')}") is not None else None
        try:
            return list(self.validate(resp.body, carries))
        except Exception as exc:  # a validator that cannot judge is reported, not fatal
            return [f"validator could not check the response ({type(exc).__name__}: {exc})"]

    def schema_check(self, name: str, resp: _Response, prefix: str | None = None) -> None:
        problems = self.schema_problems(resp, prefix)
        self.add(f"{name} [schema]", not problems, _listed(problems))

    def stamp_problem(self, stamp: str, response_date: str) -> str | None:
        """Why a header datestamp is wrong, or None."""
        expected_re = _SECONDS_RE if self.granularity == SECONDS else _DAY_RE
        if not expected_re.match(stamp):
            return f"datestamp {stamp!r} is not in the declared granularity {self.granularity}"
        moment = _parse_stamp(stamp)
        if moment is None:
            return f"datestamp {stamp!r} is not a valid date"
        if self.earliest is not None and moment < self.earliest:
            return f"datestamp {stamp} is before earliestDatestamp {_fmt_seconds(self.earliest)}"
        answered = _parse_stamp(response_date)
        if answered is not None:
            later = moment.date() > answered.date() if self.granularity == DAY else moment > answered
            if later:
                return f"datestamp {stamp} is after responseDate {response_date}"
        return None

    # ---- walking lists ------------------------------------------------------------------------------------------

    def walk(self, verb: str, args: list[tuple[str, str]], prefix: str | None = None) -> _Walk:
        """Follow a list request sequence to its end, recording every protocol problem on the way."""
        w = _Walk(verb)
        params = [("verb", verb), *args]
        seen_ids: set[str] = set()
        seen_tokens: set[str] = set()
        returned = 0
        sizes: list[tuple[int, int]] = []
        while True:
            if w.pages >= self.max_pages:
                w.add("walk", f"stopped after max_pages={self.max_pages} pages; the list was not walked to its end")
                break
            resp = self.request(params)
            w.pages += 1
            page = w.pages
            if resp.problem:
                w.add("walk", f"page {page}: {resp.problem}")
                break
            for problem in self.schema_problems(resp, prefix):
                w.add("schema", f"page {page}: {problem}")
            if resp.errors:
                empty = {"noRecordsMatch"} if verb != "ListSets" else {"noSetHierarchy"}
                if page == 1 and set(resp.errors) <= empty:
                    w.no_records = w.complete = True
                else:
                    w.add("walk", f"page {page}: {resp.describe()}")
                break
            container = resp.verb_element(verb)
            if container is None:
                w.add("walk", f"page {page}: no <{verb}> element: {resp.describe()}")
                break
            items = self._take_items(w, container, resp.response_date, seen_ids, page)
            if page == 1:
                w.first_page_ids = [h.identifier for h in w.headers]
            token_el = container.find(_q("resumptionToken"))
            token = (token_el.text or "").strip() if token_el is not None else None
            if token_el is not None:
                cursor = token_el.get("cursor")
                if cursor is not None and not (cursor.strip().isdigit() and int(cursor) == returned):
                    w.add("cursor", f"page {page}: cursor={cursor}, expected {returned} (items returned before it)")
                size = token_el.get("completeListSize")
                if size is not None:
                    try:
                        sizes.append((page, int(size)))
                    except ValueError:
                        w.add("completeListSize", f"page {page}: completeListSize={size!r} is not a number")
            returned += items
            if token:
                if token in seen_tokens:
                    w.add("walk", f"page {page}: resumptionToken repeats an earlier one (the list loops)")
                    break
                seen_tokens.add(token)
                w.tokens.append(token)
                params = [("verb", verb), ("resumptionToken", token)]
                continue
            if page > 1 and token_el is None:
                w.add(
                    "last resumptionToken",
                    f"page {page} completes a {page}-page list but carries no empty <resumptionToken/>",
                )
            w.complete = True
            break
        distinct = sorted({s for _, s in sizes})
        if len(distinct) > 1:
            w.add("completeListSize", "changes during the walk: " + ", ".join(f"page {p}: {s}" for p, s in sizes))
        if w.complete and distinct and distinct[-1] != returned:
            w.add("completeListSize", f"completeListSize={distinct[-1]} but the walk returned {returned} items")
        return w

    def _take_items(self, w: _Walk, container: etree._Element, response_date: str, seen: set[str], page: int) -> int:
        if w.verb == "ListSets":
            sets = container.findall(_q("set"))
            for s in sets:
                spec = (s.findtext(_q("setSpec")) or "").strip()
                if spec in seen:
                    w.add("duplicates", f"page {page}: setSpec {spec!r} listed again")
                seen.add(spec)
                w.set_specs.append(spec)
            return len(sets)
        if w.verb == "ListIdentifiers":
            pairs = [(h, None) for h in container.findall(_q("header"))]
        else:
            pairs = [(r.find(_q("header")), r) for r in container.findall(_q("record"))]
        for header_el, record in pairs:
            if header_el is None:
                w.add("walk", f"page {page}: a record without a header")
                continue
            header = _Header.parse(header_el)
            if header.identifier in seen:
                w.add("duplicates", f"page {page}: {header.identifier} was already returned")
            seen.add(header.identifier)
            w.headers.append(header)
            problem = self.stamp_problem(header.datestamp, response_date)
            if problem:
                w.add("datestamps", f"{header.identifier}: {problem}")
            if record is not None:
                has = record.find(_q("metadata")) is not None
                w.has_metadata[header.identifier] = has
                if header.deleted and has:
                    w.add("deleted records", f"{header.identifier} is deleted but carries metadata")
                elif not header.deleted and not has:
                    w.add("deleted records", f"{header.identifier} is not deleted but carries no metadata")
        return len(pairs)

    def report_walk(self, label: str, w: _Walk) -> None:
        for category in _WALK_CATEGORIES:
            if w.verb == "ListSets" and category in {"datestamps", "deleted records"}:
                continue
            problems = w.problems.get(category, [])
            detail = _listed(problems)
            if not problems and category == "walk":
                detail = f"{len(w.headers) or len(w.set_specs)} items in {w.pages} page(s)"
            self.add(f"{label}: {category}", not problems, detail)

    # ---- protocol sections --------------------------------------------------------------------------------------

    def identify(self) -> None:
        resp = self.request([("verb", "Identify")])
        el = resp.verb_element("Identify")
        if el is None:
            self.add("Identify", False, resp.describe())
            return
        self.add("Identify", True)
        self.schema_check("Identify", resp)

        def values(name: str) -> list[str]:
            return [(e.text or "").strip() for e in el.findall(_q(name))]

        missing = []
        for name in (
            "repositoryName",
            "baseURL",
            "protocolVersion",
            "earliestDatestamp",
            "deletedRecord",
            "granularity",
        ):
            if len(values(name)) != 1:
                missing.append(f"{name} occurs {len(values(name))} times (must be once)")
        if not values("adminEmail"):
            missing.append("no adminEmail")
        self.add("Identify: required elements", not missing, "; ".join(missing))

        version = values("protocolVersion")
        self.add("Identify: protocolVersion", version == ["2.0"], f"protocolVersion {version}")

        granularity = values("granularity")
        ok = len(granularity) == 1 and granularity[0] in {DAY, SECONDS}
        self.add("Identify: granularity", ok, f"granularity {granularity}")
        if ok:
            self.granularity = granularity[0]

        deleted = values("deletedRecord")
        ok = len(deleted) == 1 and deleted[0] in {"no", "transient", "persistent"}
        self.add("Identify: deletedRecord", ok, f"deletedRecord {deleted}")
        if ok:
            self.deleted_record = deleted[0]

        earliest = values("earliestDatestamp")
        stamp = earliest[0] if earliest else ""
        pattern = _SECONDS_RE if self.granularity == SECONDS else _DAY_RE
        moment = _parse_stamp(stamp)
        ok = bool(pattern.match(stamp)) and moment is not None
        self.add("Identify: earliestDatestamp", ok, f"{stamp!r} must be a valid date in granularity {self.granularity}")
        if moment is not None:
            self.earliest = moment

        base = values("baseURL")
        parts = urlsplit(base[0]) if base else None
        ok = parts is not None and parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.query
        detail = f"baseURL {base}"
        if ok and base[0] != self.base_url:
            detail += f" (the URL checked is {self.base_url}; fine behind a proxy)"
        self.add("Identify: baseURL", ok, detail)
        if base:
            self.declared_base_url = base[0]

        for description in el.findall(_q("description")):
            oid = description.find(f"{{{OAI_IDENTIFIER}}}oai-identifier")
            if oid is None:
                continue
            scheme = (oid.findtext(f"{{{OAI_IDENTIFIER}}}scheme") or "").strip()
            repo_id = (oid.findtext(f"{{{OAI_IDENTIFIER}}}repositoryIdentifier") or "").strip()
            delimiter = (oid.findtext(f"{{{OAI_IDENTIFIER}}}delimiter") or "").strip()
            sample = (oid.findtext(f"{{{OAI_IDENTIFIER}}}sampleIdentifier") or "").strip()
            problems = []
            if scheme != "oai":
                problems.append(f"scheme {scheme!r} (must be 'oai')")
            if not _REPOSITORY_ID_RE.match(repo_id):
                problems.append(f"repositoryIdentifier {repo_id!r} is not a domain-name-like identifier")
            if delimiter != ":":
                problems.append(f"delimiter {delimiter!r} (must be ':')")
            if not sample.startswith(f"oai:{repo_id}:") or len(sample) <= len(f"oai:{repo_id}:"):
                problems.append(f"sampleIdentifier {sample!r} does not start with oai:{repo_id}:")
            self.add("Identify: oai-identifier description", not problems, "; ".join(problems))
            self.repository_id = repo_id
            self.delimiter = delimiter or ":"
            break

    def list_metadata_formats(self) -> list[str]:
        resp = self.request([("verb", "ListMetadataFormats")])
        el = resp.verb_element("ListMetadataFormats")
        if el is None:
            self.add("ListMetadataFormats", False, resp.describe())
            return []
        self.schema_check("ListMetadataFormats", resp)
        prefixes: list[str] = []
        problems = []
        for fmt in el.findall(_q("metadataFormat")):
            prefix = (fmt.findtext(_q("metadataPrefix")) or "").strip()
            for name in ("schema", "metadataNamespace"):
                if not (fmt.findtext(_q(name)) or "").strip():
                    problems.append(f"{prefix or '?'}: no {name}")
            if prefix in prefixes:
                problems.append(f"{prefix} listed twice")
            elif prefix:
                prefixes.append(prefix)
        if not prefixes:
            problems.append("no metadataFormat listed")
        self.add("ListMetadataFormats", not problems, _listed(problems) or f"formats {prefixes}")
        # The protocol requires every repository to disseminate unqualified Dublin Core.
        self.add("ListMetadataFormats: oai_dc offered", "oai_dc" in prefixes, f"formats {prefixes}")
        return prefixes

    def metadata_formats_of(self, identifier: str, all_prefixes: list[str]) -> None:
        name = "ListMetadataFormats identifier=<a listed item>"
        resp = self.request([("verb", "ListMetadataFormats"), ("identifier", identifier)])
        el = resp.verb_element("ListMetadataFormats")
        if el is None:
            self.add(name, False, f"{identifier}: {resp.describe()}")
            return
        self.schema_check(name, resp)
        got = [(f.findtext(_q("metadataPrefix")) or "").strip() for f in el.findall(_q("metadataFormat"))]
        extra = [p for p in got if p not in all_prefixes]
        ok = bool(got) and not extra
        self.add(
            name, ok, f"{identifier}: formats {got}" + (f"; not in the repository's list: {extra}" if extra else "")
        )

    def list_sets(self) -> _Walk:
        w = self.walk("ListSets", [])
        self.report_walk("ListSets", w)
        return w

    def full_walks(self, prefix: str) -> tuple[_Walk, _Walk]:
        li = self.walk("ListIdentifiers", [("metadataPrefix", prefix)], prefix)
        self.report_walk(f"ListIdentifiers[{prefix}]", li)
        lr = self.walk("ListRecords", [("metadataPrefix", prefix)], prefix)
        self.report_walk(f"ListRecords[{prefix}]", lr)

        by_id = {h.identifier: h for h in li.headers}
        problems = []
        for h in lr.headers:
            other = by_id.get(h.identifier)
            if other is None:
                problems.append(f"{h.identifier} is in ListRecords only")
            elif other != h:
                problems.append(f"{h.identifier}: header differs ({other} vs {h})")
        problems += [f"{i} is in ListIdentifiers only" for i in sorted(li.ids - lr.ids)]
        self.add(f"ListIdentifiers/ListRecords[{prefix}]: same headers", not problems, _listed(problems))

        if self.deleted_record == "no":
            deleted = [h.identifier for h in li.headers if h.deleted]
            self.add(
                f"ListIdentifiers[{prefix}]: no deleted records (deletedRecord=no)",
                not deleted,
                _listed([f"{i} is marked deleted" for i in deleted]),
            )
        return li, lr

    def get_records(self, prefix: str, li: _Walk) -> None:
        if not li.headers:
            return
        samples = [("first", li.headers[0]), ("last", li.headers[-1])]
        deleted = next((h for h in li.headers if h.deleted), None)
        if deleted is not None:
            samples.append(("deleted", deleted))
        for role, header in samples:
            name = f"GetRecord[{prefix}] {role} record"
            resp = self.request([("verb", "GetRecord"), ("identifier", header.identifier), ("metadataPrefix", prefix)])
            el = resp.verb_element("GetRecord")
            record = el.find(_q("record")) if el is not None else None
            header_el = record.find(_q("header")) if record is not None else None
            if header_el is None:
                self.add(name, False, f"{header.identifier}: {resp.describe()}")
                continue
            self.schema_check(name, resp, prefix)
            got = _Header.parse(header_el)
            problems = []
            if got != header:
                problems.append(f"header {got} differs from the list's {header}")
            has = record.find(_q("metadata")) is not None
            if has == got.deleted:
                problems.append("deleted but carries metadata" if has else "not deleted but carries no metadata")
            self.add(name, not problems, f"{header.identifier}: " + ("; ".join(problems) or "same header"))

    def date_ranges(self, prefix: str, li: _Walk) -> None:
        stamps = {h.identifier: _parse_stamp(h.datestamp) for h in li.headers}
        stamps = {i: s for i, s in stamps.items() if s is not None}
        if not stamps:
            self.add(f"dates[{prefix}]", True, "no records to select by date")
            return
        ordered = sorted(set(stamps.values()))
        lo, hi = ordered[len(ordered) // 3], ordered[(2 * len(ordered)) // 3]

        def select(name: str, args: list[tuple[str, str]], keep: Callable[[datetime], bool]) -> None:
            expected = {i for i, s in stamps.items() if keep(s)}
            w = self.walk("ListIdentifiers", [("metadataPrefix", prefix), *args], prefix)
            problems = w.all_problems()
            got = w.ids
            problems += [f"missing {i} ({_fmt_seconds(stamps[i])})" for i in sorted(expected - got)]
            problems += [
                f"unexpected {i}" + (f" ({_fmt_seconds(stamps[i])})" if i in stamps else "")
                for i in sorted(got - expected)
            ]
            shown = "&".join(f"{k}={v}" for k, v in args)
            self.add(
                f"dates[{prefix}]: {name}", not problems, f"{shown}: " + (_listed(problems) or f"{len(got)} records")
            )

        d_lo, d_hi = lo.date(), hi.date()
        select(
            "day granularity from+until",
            [("from", d_lo.isoformat()), ("until", d_hi.isoformat())],
            lambda s: d_lo <= s.date() <= d_hi,
        )
        select("day granularity from", [("from", d_hi.isoformat())], lambda s: s.date() >= d_hi)
        select("day granularity until", [("until", d_lo.isoformat())], lambda s: s.date() <= d_lo)
        if self.granularity == SECONDS:
            select(
                "seconds granularity from+until",
                [("from", _fmt_seconds(lo)), ("until", _fmt_seconds(hi))],
                lambda s: lo <= s <= hi,
            )
            select("seconds granularity from", [("from", _fmt_seconds(hi))], lambda s: s >= hi)
            select("seconds granularity until", [("until", _fmt_seconds(lo))], lambda s: s <= lo)

    def sets(self, set_walk: _Walk, prefix: str, li: _Walk) -> None:
        if not set_walk.set_specs:
            if not set_walk.no_records:
                return  # ListSets itself failed, and that is reported already
            self.expect_error(
                "noSetHierarchy: set argument to a repository without sets",
                [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("set", "conformance-check")],
                {"noSetHierarchy", "noRecordsMatch"},
            )
            return
        for spec in set_walk.set_specs[:_MAX_SETS]:
            expected = {h.identifier for h in li.headers if h.in_set(spec)}
            w = self.walk("ListIdentifiers", [("metadataPrefix", prefix), ("set", spec)], prefix)
            problems = w.all_problems()
            problems += [f"{i} is not in the full ListIdentifiers walk" for i in sorted(w.ids - li.ids)]
            problems += [
                f"{h.identifier} carries no setSpec {spec} (or a child)" for h in w.headers if not h.in_set(spec)
            ]
            problems += [f"missing {i}, whose header names this set" for i in sorted(expected - w.ids)]
            self.add(f"sets[{prefix}]: set={spec}", not problems, _listed(problems) or f"{len(w.ids)} records")

    def expect_error(self, name: str, params: list[tuple[str, str]], codes: set[str], method: str = "GET") -> _Response:
        resp = self.request(params, method)
        got = resp.errors
        ok = resp.root is not None and bool(set(got) & codes)
        self.add(name, ok, f"expected {' or '.join(sorted(codes))}, got {resp.describe()}")
        if resp.root is None:
            return resp
        unknown = [c for c in got if c not in _ERROR_CODES]
        if unknown:
            self.add(f"{name} [error codes]", False, f"codes not defined by OAI-PMH: {unknown}")
        if {"badVerb", "badArgument"} & set(got):
            req = resp.request_element
            attrs = dict(req.attrib) if req is not None else {}
            self.add(f"{name} [request has no attributes]", not attrs, f"<request> attributes {attrs}" if attrs else "")
        self.schema_check(name, resp)
        return resp

    def errors(self, prefix: str, known_id: str | None, token: tuple[str, str] | None) -> None:
        e = self.expect_error
        e("badVerb: no verb", [], {"badVerb"})
        e("badVerb: unknown verb", [("verb", "ConformanceCheck")], {"badVerb"})
        e("badVerb: repeated verb", [("verb", "Identify"), ("verb", "Identify")], {"badVerb"})
        e("badArgument: unknown argument", [("verb", "Identify"), ("conformanceCheck", "1")], {"badArgument"})
        e(
            "badArgument: repeated argument",
            [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("metadataPrefix", prefix)],
            {"badArgument"},
        )
        e("badArgument: ListIdentifiers without metadataPrefix", [("verb", "ListIdentifiers")], {"badArgument"})
        e("badArgument: ListRecords without metadataPrefix", [("verb", "ListRecords")], {"badArgument"})
        e(
            "badArgument: bad date",
            [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("from", "2001-13-45")],
            {"badArgument"},
        )
        e(
            "badArgument: mixed granularities",
            [
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", prefix),
                ("from", "2001-01-01"),
                ("until", "2001-01-02T00:00:00Z"),
            ],
            {"badArgument"},
        )
        e(
            "badArgument: from later than until",
            [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("from", "2001-01-02"), ("until", "2001-01-01")],
            {"badArgument"},
        )
        if self.granularity == DAY:
            e(
                "badArgument: seconds granularity to a day-granularity repository",
                [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("from", "2001-01-01T00:00:00Z")],
                {"badArgument"},
            )
        verb, real_token = token if token else ("ListIdentifiers", "conformance-check-token")
        e(
            "badArgument: resumptionToken with another argument",
            [("verb", verb), ("resumptionToken", real_token), ("metadataPrefix", prefix)],
            {"badArgument"},
        )
        e(
            "badArgument: GetRecord without identifier",
            [("verb", "GetRecord"), ("metadataPrefix", prefix)],
            {"badArgument"},
        )
        if known_id:
            e(
                "badArgument: GetRecord without metadataPrefix",
                [("verb", "GetRecord"), ("identifier", known_id)],
                {"badArgument"},
            )
        e(
            "badResumptionToken: garbage",
            [("verb", "ListIdentifiers"), ("resumptionToken", "conformance-check-garbage")],
            {"badResumptionToken"},
        )
        e(
            "badResumptionToken: garbage (ListRecords)",
            [("verb", "ListRecords"), ("resumptionToken", "conformance-check-garbage")],
            {"badResumptionToken"},
        )
        if token:
            tampered = _tamper(real_token)
            e(
                "badResumptionToken: tampered token",
                [("verb", verb), ("resumptionToken", tampered)],
                {"badResumptionToken"},
            )
        else:
            self.add("badResumptionToken: tampered token", True, "not tested: no list needed a resumptionToken")
        e(
            "cannotDisseminateFormat: ListRecords",
            [("verb", "ListRecords"), ("metadataPrefix", _UNKNOWN_PREFIX)],
            {"cannotDisseminateFormat"},
        )
        e(
            "cannotDisseminateFormat: ListIdentifiers",
            [("verb", "ListIdentifiers"), ("metadataPrefix", _UNKNOWN_PREFIX)],
            {"cannotDisseminateFormat"},
        )
        if known_id:
            e(
                "cannotDisseminateFormat: GetRecord",
                [("verb", "GetRecord"), ("identifier", known_id), ("metadataPrefix", _UNKNOWN_PREFIX)],
                {"cannotDisseminateFormat"},
            )
        missing = self.unknown_identifier()
        e(
            "idDoesNotExist: GetRecord",
            [("verb", "GetRecord"), ("identifier", missing), ("metadataPrefix", prefix)],
            {"idDoesNotExist"},
        )
        e(
            "idDoesNotExist: ListMetadataFormats",
            [("verb", "ListMetadataFormats"), ("identifier", missing)],
            {"idDoesNotExist"},
        )
        e(
            "noRecordsMatch: from far in the future",
            [("verb", "ListRecords"), ("metadataPrefix", prefix), ("from", _FAR_FUTURE)],
            {"noRecordsMatch"},
        )
        if self.earliest is not None:
            before = (self.earliest.date() - timedelta(days=1)).isoformat()
            e(
                "noRecordsMatch: until before earliestDatestamp",
                [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("until", before)],
                {"noRecordsMatch"},
            )
        e("badVerb: over POST", [("verb", "ConformanceCheck")], {"badVerb"}, method="POST")

    def unknown_identifier(self) -> str:
        if self.repository_id:
            return f"oai:{self.repository_id}{self.delimiter}conformance-check-no-such-item"
        return "oai:conformance-check.invalid:no-such-item"

    def post(self, prefix: str | None) -> None:
        get = self.request([("verb", "Identify")])
        post = self.request([("verb", "Identify")], "POST")
        g, p = get.verb_element("Identify"), post.verb_element("Identify")
        if g is None or p is None:
            self.add("POST: Identify", False, f"GET: {get.describe()}; POST: {post.describe()}")
        else:
            same = _canonical(g) == _canonical(p)
            self.add("POST: Identify", same, "" if same else "the POST answer differs from the GET answer")
            self.schema_check("POST: Identify", post)
        if prefix is None:
            return
        args = [("verb", "ListIdentifiers"), ("metadataPrefix", prefix)]
        get, post = self.request(args), self.request(args, "POST")

        def summary(resp: _Response) -> tuple[Any, ...]:
            el = resp.verb_element("ListIdentifiers")
            if el is None:
                return ("errors", tuple(resp.errors))
            token = el.find(_q("resumptionToken"))
            ids = tuple((h.findtext(_q("identifier")) or "").strip() for h in el.findall(_q("header")))
            attrs = (
                (token.get("cursor"), token.get("completeListSize"), bool((token.text or "").strip()))
                if token is not None
                else None
            )
            return ids, attrs

        if post.root is None:
            self.add("POST: ListIdentifiers", False, post.describe())
            return
        same = summary(get) == summary(post)
        self.add("POST: ListIdentifiers", same, "" if same else f"GET {summary(get)} vs POST {summary(post)}")
        self.schema_check("POST: ListIdentifiers", post, prefix)

    def run(self) -> None:
        self.identify()
        prefixes = self.list_metadata_formats()
        set_walk = self.list_sets()
        walks: dict[str, _Walk] = {}
        token: tuple[str, str] | None = None
        for prefix in prefixes:
            li, lr = self.full_walks(prefix)
            walks[prefix] = li
            if token is None and li.tokens:
                token = ("ListIdentifiers", li.tokens[0])
            if token is None and lr.tokens:
                token = ("ListRecords", lr.tokens[0])
            self.get_records(prefix, li)
            self.date_ranges(prefix, li)
        all_ids = [h.identifier for w in walks.values() for h in w.headers]
        known_id = all_ids[0] if all_ids else None
        if known_id:
            self.metadata_formats_of(known_id, prefixes)
        if self.repository_id:
            stem = f"oai:{self.repository_id}{self.delimiter}"
            strangers = sorted({i for i in all_ids if not i.startswith(stem) or i == stem})
            self.add(
                "Identify: oai-identifier matches the identifiers",
                not strangers,
                _listed([f"{i} does not start with {stem}" for i in strangers]),
            )
        main = max(prefixes, key=lambda p: len(walks[p].headers), default=None)
        if main is not None:
            self.sets(set_walk, main, walks[main])
        self.errors(main or "oai_dc", known_id, token)
        self.post(main)

    def finish(self) -> None:
        for label, text in self.request_texts:
            if text not in {self.base_url, self.declared_base_url}:
                self.echo_problems.append(f"{label}: <request> content {text!r} is not the base URL")
        self.add(
            "HTTP: Content-Type is text/xml",
            not self.content_type_problems,
            _listed(self.content_type_problems) or f"{self.responses} responses",
        )
        self.add(
            "<request> element: base URL and echoed arguments", not self.echo_problems, _listed(self.echo_problems)
        )


def _tamper(token: str) -> str:
    """The token with one character in the middle changed (a character that carries data in any encoding)."""
    pos = len(token) // 2
    c = token[pos]
    if c.isdigit():
        new = str((int(c) + 1) % 10)
    elif "a" <= c <= "y" or "A" <= c <= "Y":
        new = chr(ord(c) + 1)
    elif c in "zZ":
        new = chr(ord(c) - 25)
    else:
        new = "A"
    return token[:pos] + new + token[pos + 1 :]


def _canonical(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n")


def check_endpoint(
    base_url: str,
    *,
    validate: Validator | None = None,
    max_pages: int = 1000,
    timeout: float = 30,
    time_limit: float = 1800,
) -> Report:
    """Check the OAI-PMH endpoint at ``base_url`` against OAI-PMH 2.0; every rule is one named Check.

    ``validate(body, prefix)`` returns the schema problems of one whole response (``prefix`` is None when the
    response carries no metadata); by default the gateway's own schemas are used. Each list walk stops after
    ``max_pages`` pages, each request after ``timeout`` seconds and the whole run after ``time_limit`` seconds.
    """
    checker = _Checker(base_url, validate or _default_validator(), max_pages, timeout, time_limit)
    try:
        checker.run()
    except _OutOfTime:
        checker.add("time limit", False, f"stopped after {time_limit:g} s: the remaining checks did not run")
    except Exception as exc:
        # A checker bug, or a response so odd it was not foreseen: say so instead of losing the report.
        checker.add("checker", False, f"the check stopped unexpectedly: {type(exc).__name__}: {exc}")
    finally:
        checker.session.close()
    checker.finish()
    return Report(base_url=base_url, checks=checker.checks)
