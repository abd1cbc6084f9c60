"""One dataset, one record: of the records two sources hold of one dataset, one is served and counted.

A repository and a GakuNin RDM export often both deliver the same dataset. Records of different sources that share
an identity key (gateway.dmp.keys.identity_keys: the same persistent identifier, or the same data number of the
same grant number, read from `record_keys`) are one dataset. The served record is the one that passes the gate,
then the one from the source with the higher priority (`sources.priority`, copied from the configuration at each
harvest), then the one stored first; every record of the other sources gets `duplicate_of` = the served one, is not
published (a duplicate that was published becomes an OAI-PMH deleted record, so aggregators drop it) and is counted
by no report. Records of one source never duplicate each other: a source that lists a dataset twice is the source's
own business, and was served so before.

`redecide` is the whole decision from what is stored — the policy gate over the record's disclosure and findings,
the DMP's finding (gateway.dmp.gating), then this rule over the record's group — so that a harvest page, a remap, a
DMP import and a priority change all come to the same answer. When the served record is deleted at its source or
stops passing the gate, its duplicates are re-decided with it and one takes its place: it is published again,
rendered from its stored canonical record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from gateway import annex3, crosswalk, publish
from gateway.db import chunks
from gateway.dmp.keys import NUMBER, PID
from gateway.models import FindingSnapshot, Published, Record, RecordKey, Source
from gateway.policy import DELETED, PUBLISHED, WITHHELD, Decision, decide, sets_for
from gateway.validate import has_errors
from gateway.xmlsafe import parse_bytes

_R = Record.__table__
_K = RecordKey.__table__
_S = Source.__table__
_RANK = {PUBLISHED: 0, WITHHELD: 1}  # then quarantined: the one that can be served first
DMP_RULE = "dmp-disclosure"  # the DMP gate's finding (gateway.dmp.gating, which imports this module)


@dataclass(frozen=True)
class Target:
    """What a record is after the decision: its status and why, and the record it is a duplicate of."""

    status: str
    reason: str
    duplicate_of: int | None = None


def own_decision(*, source_deleted: bool, disclosure: str | None, findings: list[Any]) -> Decision:
    """The record's decision on its own (no other source considered), from what is stored of it."""
    dmp = next((f["message"] for f in findings if f.get("rule") == DMP_RULE), None)
    return decide(
        source_deleted=source_deleted, disclosure=disclosure or "unknown", has_errors=has_errors(findings),
        narrowed_by=dmp,
    )  # fmt: skip


def _edges(session: Session, ids: Sequence[int]) -> list[tuple[int, int]]:
    """Pairs of records of different sources sharing an identity key, one side in `ids`.

    In steps that each read an index (a self-join of record_keys is planned badly by SQLite without statistics,
    scanning every key of a kind): the identity keys of `ids`, the records holding any of those keys, and — only
    when some other record does — their sources. The keys of `ids` are read by record and told apart here: asked
    for by kind as well, SQLite reads them through the (kind, value) index, every key of the kind, which made a
    harvest's page cost grow with the number of records stored.
    """
    own: set[tuple[str, str]] = set()
    for chunk in chunks(ids):
        rows = session.execute(select(_K.c.kind, _K.c.value).where(_K.c.record_id.in_(chunk)))
        own.update((kind, value) for kind, value in rows if kind in (PID, NUMBER))
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind in (PID, NUMBER):
        values = sorted(v for k, v in own if k == kind)
        for chunk in chunks(values):
            for record_id, value in session.execute(
                select(_K.c.record_id, _K.c.value).where(_K.c.kind == kind, _K.c.value.in_(chunk))
            ):
                holders[(kind, value)].add(record_id)
    shared = [sorted(held) for held in holders.values() if len(held) > 1]
    if not shared:
        return []
    source: dict[int, int] = {}
    for chunk in chunks(sorted({i for held in shared for i in held})):
        source.update(session.execute(select(_R.c.id, _R.c.source_id).where(_R.c.id.in_(chunk))).all())
    return [(a, b) for held in shared for a in held for b in held if a < b and source.get(a) != source.get(b)]


def _linked(session: Session, ids: Sequence[int]) -> set[int]:
    """Records tied to `ids` by `duplicate_of` either way (the duplicates of a served one, a duplicate's served one)."""
    out: set[int] = set()
    for chunk in chunks(ids):
        rows = session.execute(
            select(_R.c.id, _R.c.duplicate_of).where(
                or_(_R.c.duplicate_of.in_(chunk), and_(_R.c.id.in_(chunk), _R.c.duplicate_of.is_not(None)))
            )
        )
        for record_id, served in rows:
            out.update((record_id, served))
    return out


def _groups(session: Session, ids: Sequence[int]) -> tuple[dict[int, int], set[int]]:
    """Each record's group (a union-find root) over the closure of identity keys, and the records reached."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    linked = _linked(session, ids)
    reached: set[int] = set(ids) | linked
    frontier = sorted(reached)
    while frontier:
        found: set[int] = set()
        for a, b in _edges(session, frontier):
            parent[root(a)] = root(b)
            found.update((a, b))
        frontier = sorted(found - reached)
        reached |= found
    return {x: root(x) for x in reached}, linked


def _members(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    columns = (
        _R.c.id, _R.c.source_id, _R.c.local_id, _R.c.source_identifier, _R.c.source_deleted, _R.c.disclosure,
        _R.c.findings, _R.c.status, _R.c.status_reason, _R.c.duplicate_of, _S.c.name.label("source_name"),
        _S.c.priority,
    )  # fmt: skip
    out: dict[int, Any] = {}
    for chunk in chunks(ids):
        for row in session.execute(select(*columns).join(_S, _S.c.id == _R.c.source_id).where(_R.c.id.in_(chunk))):
            out[row.id] = row
    return out


def repository_identifier_of(session: Session) -> str:
    """The repository identifier the provider's identifiers were written with (for a caller without the
    configuration); the configuration's when nothing was ever published."""
    row = session.execute(
        select(Published.oai_identifier, Record.local_id).join(Record, Record.id == Published.record_id).limit(1)
    ).first()
    if row is not None and row.oai_identifier.endswith(":" + row.local_id):
        return row.oai_identifier[len("oai:") : -len(row.local_id) - 1]
    from gateway import config

    return config.load().repository.identifier


def _served_reason(winner: Any, repository_identifier: str) -> str:
    oai = publish.oai_identifier(repository_identifier, winner.local_id)
    return f"duplicate of {oai} (source {winner.source_name}, priority {winner.priority}), which is served instead"


def _decide_group(members: list[Any], repository_identifier: str) -> dict[int, Target]:
    own = {
        m.id: own_decision(
            source_deleted=bool(m.source_deleted), disclosure=m.disclosure, findings=list(m.findings or [])
        )
        for m in members
    }
    live = [m for m in members if own[m.id].status != DELETED]
    out = {m.id: Target(own[m.id].status, own[m.id].reason) for m in members}
    if len({m.source_id for m in live}) < 2:
        return out
    winner = min(live, key=lambda m: (_RANK.get(own[m.id].status, 2), -(m.priority or 0), m.id))
    for m in live:
        if m.source_id == winner.source_id:
            continue
        mine = own[m.id]
        if mine.status == PUBLISHED:
            out[m.id] = Target(WITHHELD, _served_reason(winner, repository_identifier), winner.id)
        else:
            out[m.id] = Target(mine.status, mine.reason, winner.id)
    return out


def redecide(
    session: Session,
    ids: Sequence[int],
    *,
    now: datetime,
    repository_identifier: str | None = None,
    publish_touched: bool = True,
    only_groups: bool = False,
) -> dict[int, Target]:
    """Decide `ids` and the records of their datasets again from what is stored, write what changed, and bring the
    publication tables in line; return the decision of each of `ids` that was made.

    A harvest page passes `only_groups` (its records were just decided on their own: only those in a group, or
    that were in one, are decided again) and not `publish_touched` (it publishes its own records after this, with
    the renderings it has); the records of other pages reached through the groups are always published here.
    """
    groups, linked = _groups(session, ids)
    touched = set(ids)
    by_group: dict[int, list[int]] = defaultdict(list)
    for record_id, group in groups.items():
        by_group[group].append(record_id)
    wanted = [
        record_id for members in by_group.values() if not only_groups or len(members) > 1 or set(members) & linked
        for record_id in members
    ]  # fmt: skip
    if not wanted:
        return {}
    repository_identifier = repository_identifier or repository_identifier_of(session)
    rows = _members(session, sorted(wanted))
    targets: dict[int, Target] = {}
    for members in by_group.values():
        present = [rows[i] for i in members if i in rows]
        if present:
            targets.update(_decide_group(present, repository_identifier))
    changed = [
        {"b_id": i, "status": t.status, "status_reason": t.reason, "duplicate_of": t.duplicate_of, "updated_at": now}
        for i, t in targets.items()
        if (t.status, t.reason, t.duplicate_of) != (rows[i].status, rows[i].status_reason, rows[i].duplicate_of)
    ]
    if changed:
        session.execute(update(_R).where(_R.c.id == bindparam("b_id")), changed)
    served_here = [i for i in targets if publish_touched or i not in touched]
    _publish(session, [(rows[i], targets[i]) for i in served_here], repository_identifier, now)
    history = [
        {"record_id": i, "run_id": None, "created_at": now, "status": targets[i].status,
         "findings": list(rows[i].findings or [])}
        for i in served_here if i not in touched and targets[i].status != rows[i].status
    ]  # fmt: skip
    if history:
        session.execute(insert(FindingSnapshot.__table__), history)
    return {i: t for i, t in targets.items() if i in touched}


def resettle_source(
    session: Session, source_id: int, *, now: datetime, repository_identifier: str | None = None
) -> None:
    """Decide again the datasets a source shares with others, after its priority changed (gateway.harvest.runner)."""
    served = select(_R.c.duplicate_of).where(_R.c.duplicate_of.is_not(None))
    ids = session.scalars(
        select(_R.c.id).where(_R.c.source_id == source_id, or_(_R.c.duplicate_of.is_not(None), _R.c.id.in_(served)))
    ).all()
    if ids:
        redecide(session, sorted(ids), now=now, repository_identifier=repository_identifier)


def _publish(session: Session, work: list[tuple[Any, Target]], repository_identifier: str, now: datetime) -> None:
    """Withdraw the records no longer served, and publish the ones served now (rendered from their canonical)."""
    entries: list[publish.Publication] = []
    coming = [row.id for row, target in work if target.status == PUBLISHED and row.status != PUBLISHED]
    rendered = _render(session, coming)
    for row, target in work:
        was, now_served = row.status == PUBLISHED, target.status == PUBLISHED
        if was and not now_served:
            entries.append(publish.Publication(row.id, row.local_id, target.status, None, None, None))
        elif now_served and not was:
            if row.id not in rendered:  # no canonical record to render: it cannot be served
                continue
            outputs, sets, about = rendered[row.id]
            entries.append(publish.Publication(row.id, row.local_id, PUBLISHED, outputs, sets, about))
    if entries:
        publish.write_page(session, entries, repository_identifier=repository_identifier, now=now)


def _render(session: Session, ids: list[int]) -> dict[int, tuple[dict[str, bytes], dict[str, str], bytes | None]]:
    """Every output format, the sets and the provenance of stored records, as a harvest would publish them."""
    out: dict[int, tuple[dict[str, bytes], dict[str, str], bytes | None]] = {}
    columns = (
        _R.c.id, _R.c.canonical_xml, _R.c.raw_format, _R.c.source_identifier, _R.c.source_datestamp,
        _R.c.harvested_at, _S.c.name, _S.c.kind, _S.c.location,
    )  # fmt: skip
    for chunk in chunks(ids):
        for row in session.execute(select(*columns).join(_S, _S.c.id == _R.c.source_id).where(_R.c.id.in_(chunk))):
            if not row.canonical_xml:
                continue
            canonical = parse_bytes(bytes(row.canonical_xml))
            outputs = {
                prefix: crosswalk.serialize(crosswalk.render(canonical, prefix)) for prefix in crosswalk.formats()
            }
            sets = sets_for(row.name, annex3.summarize(canonical))
            about = None
            if row.kind == "oai-pmh" and row.location:
                fmt = crosswalk.formats().get(row.raw_format or "")
                about = publish.provenance_xml(
                    base_url=row.location, identifier=row.source_identifier, datestamp=row.source_datestamp,
                    metadata_namespace=fmt.namespace if fmt else "", harvest_date=row.harvested_at,
                )  # fmt: skip
            out[row.id] = (outputs, sets, about)
    return out
