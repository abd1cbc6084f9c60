"""Walking a list (ListIdentifiers, ListRecords, ListSets) to its end, as a harvester would, and judging the walk.

A walk follows the resumption tokens and notes, by category, every way the list breaks the protocol: a page that
cannot be read, duplicates, a wrong cursor or completeListSize, a missing last token, datestamps out of the declared
granularity or range, deleted records with metadata (or live ones without), schema problems. The list checks
(gateway.conformance.lists) walk and compare; `report_walk` turns one walk into named checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from gateway.conformance.probe import Probe
from gateway.conformance.protocol import Header, q
from gateway.conformance.report import listed


@dataclass
class Walk:
    """One list request sequence followed to its end (or until it could not go on)."""

    verb: str
    headers: list[Header] = field(default_factory=list)
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


def walk(probe: Probe, verb: str, args: list[tuple[str, str]], prefix: str | None = None) -> Walk:
    """Follow a list request sequence to its end, recording every protocol problem on the way."""
    w = Walk(verb)
    params = [("verb", verb), *args]
    seen_ids: set[str] = set()
    seen_tokens: set[str] = set()
    returned = 0
    sizes: list[tuple[int, int]] = []
    while True:
        if w.pages >= probe.max_pages:
            w.add("walk", f"stopped after max_pages={probe.max_pages} pages; the list was not walked to its end")
            break
        resp = probe.request(params)
        w.pages += 1
        page = w.pages
        if resp.problem:
            w.add("walk", f"page {page}: {resp.problem}")
            break
        for problem in probe.schema_problems(resp, prefix):
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
        items = _take_items(probe, w, container, resp.response_date, seen_ids, page)
        if page == 1:
            w.first_page_ids = [h.identifier for h in w.headers]
        token_el = container.find(q("resumptionToken"))
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


def _take_items(probe: Probe, w: Walk, container: etree._Element, response_date: str, seen: set[str], page: int) -> int:
    if w.verb == "ListSets":
        sets = container.findall(q("set"))
        for s in sets:
            spec = (s.findtext(q("setSpec")) or "").strip()
            if spec in seen:
                w.add("duplicates", f"page {page}: setSpec {spec!r} listed again")
            seen.add(spec)
            w.set_specs.append(spec)
        return len(sets)
    if w.verb == "ListIdentifiers":
        pairs = [(h, None) for h in container.findall(q("header"))]
    else:
        pairs = [(r.find(q("header")), r) for r in container.findall(q("record"))]
    for header_el, record in pairs:
        if header_el is None:
            w.add("walk", f"page {page}: a record without a header")
            continue
        header = Header.parse(header_el)
        if header.identifier in seen:
            w.add("duplicates", f"page {page}: {header.identifier} was already returned")
        seen.add(header.identifier)
        w.headers.append(header)
        problem = probe.stamp_problem(header.datestamp, response_date)
        if problem:
            w.add("datestamps", f"{header.identifier}: {problem}")
        if record is not None:
            has = record.find(q("metadata")) is not None
            w.has_metadata[header.identifier] = has
            if header.deleted and has:
                w.add("deleted records", f"{header.identifier} is deleted but carries metadata")
            elif not header.deleted and not has:
                w.add("deleted records", f"{header.identifier} is not deleted but carries no metadata")
    return len(pairs)


def report_walk(probe: Probe, label: str, w: Walk) -> None:
    for category in _WALK_CATEGORIES:
        if w.verb == "ListSets" and category in {"datestamps", "deleted records"}:
            continue
        problems = w.problems.get(category, [])
        detail = listed(problems)
        if not problems and category == "walk":
            detail = f"{len(w.headers) or len(w.set_specs)} items in {w.pages} page(s)"
        probe.add(f"{label}: {category}", not problems, detail)
