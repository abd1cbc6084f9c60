"""The checks of the lists: every format walked in full, single records, selective harvesting by date and by set.

ListIdentifiers and ListRecords of each format must give the same headers; GetRecord the same header as the list;
a from/until selection (day and, where declared, seconds granularity) and a set selection exactly the records the
full walk says they should.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.conformance.errors import expect_error
from gateway.conformance.probe import Probe
from gateway.conformance.protocol import SECONDS, Header, fmt_seconds, parse_stamp, q
from gateway.conformance.report import listed
from gateway.conformance.walks import Walk, report_walk, walk

_MAX_SETS = 20


def list_sets(probe: Probe) -> Walk:
    w = walk(probe, "ListSets", [])
    report_walk(probe, "ListSets", w)
    return w


def full_walks(probe: Probe, prefix: str) -> tuple[Walk, Walk]:
    li = walk(probe, "ListIdentifiers", [("metadataPrefix", prefix)], prefix)
    report_walk(probe, f"ListIdentifiers[{prefix}]", li)
    lr = walk(probe, "ListRecords", [("metadataPrefix", prefix)], prefix)
    report_walk(probe, f"ListRecords[{prefix}]", lr)

    by_id = {h.identifier: h for h in li.headers}
    problems = []
    for h in lr.headers:
        other = by_id.get(h.identifier)
        if other is None:
            problems.append(f"{h.identifier} is in ListRecords only")
        elif other != h:
            problems.append(f"{h.identifier}: header differs ({other} vs {h})")
    problems += [f"{i} is in ListIdentifiers only" for i in sorted(li.ids - lr.ids)]
    probe.add(f"ListIdentifiers/ListRecords[{prefix}]: same headers", not problems, listed(problems))

    if probe.deleted_record == "no":
        deleted = [h.identifier for h in li.headers if h.deleted]
        probe.add(
            f"ListIdentifiers[{prefix}]: no deleted records (deletedRecord=no)",
            not deleted,
            listed([f"{i} is marked deleted" for i in deleted]),
        )
    return li, lr


def get_records(probe: Probe, prefix: str, li: Walk) -> None:
    if not li.headers:
        return
    samples = [("first", li.headers[0]), ("last", li.headers[-1])]
    deleted = next((h for h in li.headers if h.deleted), None)
    if deleted is not None:
        samples.append(("deleted", deleted))
    for role, header in samples:
        name = f"GetRecord[{prefix}] {role} record"
        resp = probe.request([("verb", "GetRecord"), ("identifier", header.identifier), ("metadataPrefix", prefix)])
        el = resp.verb_element("GetRecord")
        record = el.find(q("record")) if el is not None else None
        header_el = record.find(q("header")) if record is not None else None
        if header_el is None:
            probe.add(name, False, f"{header.identifier}: {resp.describe()}")
            continue
        probe.schema_check(name, resp, prefix)
        got = Header.parse(header_el)
        problems = []
        if got != header:
            problems.append(f"header {got} differs from the list's {header}")
        has = record.find(q("metadata")) is not None
        if has == got.deleted:
            problems.append("deleted but carries metadata" if has else "not deleted but carries no metadata")
        probe.add(name, not problems, f"{header.identifier}: " + ("; ".join(problems) or "same header"))


def date_ranges(probe: Probe, prefix: str, li: Walk) -> None:
    stamps = {h.identifier: parse_stamp(h.datestamp) for h in li.headers}
    stamps = {i: s for i, s in stamps.items() if s is not None}
    if not stamps:
        probe.add(f"dates[{prefix}]", True, "no records to select by date")
        return
    ordered = sorted(set(stamps.values()))
    lo, hi = ordered[len(ordered) // 3], ordered[(2 * len(ordered)) // 3]

    def select(name: str, args: list[tuple[str, str]], keep: Callable[[datetime], bool]) -> None:
        expected = {i for i, s in stamps.items() if keep(s)}
        w = walk(probe, "ListIdentifiers", [("metadataPrefix", prefix), *args], prefix)
        problems = w.all_problems()
        got = w.ids
        problems += [f"missing {i} ({fmt_seconds(stamps[i])})" for i in sorted(expected - got)]
        problems += [
            f"unexpected {i}" + (f" ({fmt_seconds(stamps[i])})" if i in stamps else "") for i in sorted(got - expected)
        ]
        shown = "&".join(f"{k}={v}" for k, v in args)
        probe.add(f"dates[{prefix}]: {name}", not problems, f"{shown}: " + (listed(problems) or f"{len(got)} records"))

    d_lo, d_hi = lo.date(), hi.date()
    select(
        "day granularity from+until",
        [("from", d_lo.isoformat()), ("until", d_hi.isoformat())],
        lambda s: d_lo <= s.date() <= d_hi,
    )
    select("day granularity from", [("from", d_hi.isoformat())], lambda s: s.date() >= d_hi)
    select("day granularity until", [("until", d_lo.isoformat())], lambda s: s.date() <= d_lo)
    if probe.granularity == SECONDS:
        select(
            "seconds granularity from+until",
            [("from", fmt_seconds(lo)), ("until", fmt_seconds(hi))],
            lambda s: lo <= s <= hi,
        )
        select("seconds granularity from", [("from", fmt_seconds(hi))], lambda s: s >= hi)
        select("seconds granularity until", [("until", fmt_seconds(lo))], lambda s: s <= lo)


def sets(probe: Probe, set_walk: Walk, prefix: str, li: Walk) -> None:
    if not set_walk.set_specs:
        if not set_walk.no_records:
            return  # ListSets itself failed, and that is reported already
        expect_error(
            probe,
            "noSetHierarchy: set argument to a repository without sets",
            [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("set", "conformance-check")],
            {"noSetHierarchy", "noRecordsMatch"},
        )
        return
    for spec in set_walk.set_specs[:_MAX_SETS]:
        expected = {h.identifier for h in li.headers if h.in_set(spec)}
        w = walk(probe, "ListIdentifiers", [("metadataPrefix", prefix), ("set", spec)], prefix)
        problems = w.all_problems()
        problems += [f"{i} is not in the full ListIdentifiers walk" for i in sorted(w.ids - li.ids)]
        problems += [f"{h.identifier} carries no setSpec {spec} (or a child)" for h in w.headers if not h.in_set(spec)]
        problems += [f"missing {i}, whose header names this set" for i in sorted(expected - w.ids)]
        probe.add(f"sets[{prefix}]: set={spec}", not problems, listed(problems) or f"{len(w.ids)} records")
