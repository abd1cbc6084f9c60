"""Storing harvested records: a page at a time, in a few bulk statements, whatever the page's size.

`SourceProcessor` takes a page of `HarvestedRecord`s of one source, tells what each one is (new, changed, unchanged,
deleted at the source, unreadable), has the new and changed ones mapped (`pipeline.map_record`, here or in worker
processes), decides each one (`policy.decide`), and writes the page: the `records` rows (inserted, their ids read back
by local id in one query, or updated), their funding references, the finding history, then the provider's tables
(`publish.write_page`). Database work per record is a few rows in a few driver executemany calls (`gateway.bulk`), not
ORM objects, and not SQLAlchemy's per-row parameter building either: both cost more than the database did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway import crosswalk, publish
from gateway.bulk import ids_by, insert_many, update_many
from gateway.config import Config, SourceConfig
from gateway.db import chunks
from gateway.dmp import duplicates, gating
from gateway.harvest import HarvestedRecord
from gateway.models import FindingSnapshot, Record, RecordFunding, RecordKey, Source
from gateway.pipeline import MapArgs, Mapped, map_args_record, raw_hash
from gateway.policy import QUARANTINED, decide, sets_for
from gateway.validate import Finding, finding, has_errors

_R = Record.__table__
_FUNDINGS = RecordFunding.__table__
_SNAPSHOTS = FindingSnapshot.__table__
_KEYS = RecordKey.__table__


class Mapper(Protocol):
    """Maps many records at once (see harvest.mapping): `map_record` arguments in, results in the same order.

    `submit` starts the work and returns what waits for its results, so that a harvest maps one page while it writes
    the one before.
    """

    def submit(self, args: list[MapArgs]) -> Callable[[], list[Mapped]]: ...


def _map_here(args: list[MapArgs]) -> Callable[[], list[Mapped]]:
    return lambda: [map_args_record(a) for a in args]


@dataclass
class Prepared:
    """A page told apart and handed to the mapper, waiting to be written (`SourceProcessor.finish`)."""

    outcomes: list[str]
    pending: list[Pending]
    unreadable: list[dict[str, Any]]
    now: datetime
    results: Callable[[], list[Mapped]] | None = None


@dataclass
class Stored:
    """What is stored of a record before its page is applied."""

    id: int
    raw_hash: str | None
    source_deleted: bool
    status: str
    findings: list[Any]


@dataclass
class Pending:
    """One record on its way to the database."""

    identifier: str
    stored: Stored | None  # None: a new record
    row: dict[str, Any]  # the `records` columns to write
    args: MapArgs | None = None  # what to map it with; None: deleted at the source
    #: what was repaired on the way in (warning findings); None keeps those the stored record has (a remap)
    repairs: list[str] | None = None
    mapped: Mapped | None = None
    record_id: int | None = None
    fundings: list[dict[str, Any]] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # gateway.dmp.keys, written to record_keys


def _harvest_findings(notes: list[str]) -> list[Finding]:
    return [finding("warning", "harvest", note) for note in notes]


class SourceProcessor:
    """Applies harvested records of one source to the database; one instance per harvest run or remap."""

    def __init__(self, config: Config, source: SourceConfig, source_row: Source, run_id: int | None) -> None:
        self.config = config
        self.source = source
        self.source_id = source_row.id
        self.run_id = run_id
        self.repository = source.repository_name or config.repository.name

    # -- reading what is stored ------------------------------------------------------------------------------------

    def load(self, session: Session, identifiers: list[str]) -> dict[str, Stored]:
        out: dict[str, Stored] = {}
        columns = (_R.c.id, _R.c.source_identifier, _R.c.raw_hash, _R.c.source_deleted, _R.c.status, _R.c.findings)
        for chunk in chunks(identifiers):
            rows = session.execute(
                select(*columns).where(_R.c.source_id == self.source_id, _R.c.source_identifier.in_(chunk))
            )
            for row in rows:
                out[row.source_identifier] = Stored(
                    row.id, row.raw_hash, bool(row.source_deleted), row.status, list(row.findings or [])
                )
        return out

    # -- a page of harvested records --------------------------------------------------------------------------------

    def process(self, session: Session, item: HarvestedRecord, now: datetime) -> str:
        """Store one harvested record; return 'new', 'changed', 'unchanged', 'deleted' or 'failed'."""
        return self.process_page(session, [item], now)[0]

    def process_page(
        self, session: Session, items: list[HarvestedRecord], now: datetime, *, mapper: Mapper | None = None
    ) -> list[str]:
        """Store a page of harvested records; return each one's outcome, as `process` would for it alone.

        An identifier listed twice in one page is applied in order: the page is cut before its second appearance.
        `mapper` maps records in bulk (a process pool); by default each record is mapped here.
        """
        outcomes: list[str] = []
        start = 0
        while start < len(items):
            seen: set[str] = set()
            end = start
            while end < len(items) and not (items[end].identifier and items[end].identifier in seen):
                if items[end].identifier:
                    seen.add(items[end].identifier)
                end += 1
            outcomes.extend(self._process_segment(session, items[start:end], now, mapper))
            start = end
        return outcomes

    def prepare(
        self, session: Session, items: list[HarvestedRecord], now: datetime, *, mapper: Mapper | None = None
    ) -> Prepared | None:
        """Tell a page's records apart and start mapping the new and changed ones; `finish` writes them.

        None when the page lists an identifier twice: it must be applied in order, by `process_page`. Between
        `prepare` and `finish`, nothing else may write this page's records (a harvest finishes the page before
        only if the two share none).
        """
        identifiers = [item.identifier for item in items if item.identifier]
        if len(set(identifiers)) != len(identifiers):
            return None
        prepared = self._classify(session, items, now)
        args = [p.args for p in prepared.pending if p.args is not None]
        if args:
            prepared.results = (mapper.submit if mapper is not None and len(args) > 1 else _map_here)(args)
        return prepared

    def finish(self, session: Session, prepared: Prepared) -> list[str]:
        """Write a prepared page; return each record's outcome, as `process_page` would."""
        if prepared.results is not None:
            to_map = [p for p in prepared.pending if p.args is not None]
            for p, mapped in zip(to_map, prepared.results(), strict=True):
                p.mapped = mapped
        insert_many(session, _R, prepared.unreadable)
        if prepared.pending:
            self.apply(session, prepared.pending, prepared.now)
        return prepared.outcomes

    def _process_segment(
        self, session: Session, items: list[HarvestedRecord], now: datetime, mapper: Mapper | None
    ) -> list[str]:
        prepared = self._classify(session, items, now)
        args = [p.args for p in prepared.pending if p.args is not None]
        if args:
            prepared.results = (mapper.submit if mapper is not None and len(args) > 1 else _map_here)(args)
        return self.finish(session, prepared)

    def _classify(self, session: Session, items: list[HarvestedRecord], now: datetime) -> Prepared:
        stored = self.load(session, [item.identifier for item in items if item.identifier])
        outcomes: list[str] = []
        pending: list[Pending] = []
        unreadable: list[dict[str, Any]] = []
        for item in items:
            known = stored.get(item.identifier) if item.identifier else None
            if item.error:
                if known is None and item.identifier:
                    unreadable.append(self._unreadable_row(item, now))
                # A record already stored keeps its last good version: a garbled delivery is no reason to withdraw it.
                outcomes.append("failed")
                continue
            if item.deleted:
                if known is None or known.source_deleted:
                    outcomes.append("deleted" if known is None else "unchanged")
                    continue
                row = {"source_deleted": True, "source_datestamp": item.datestamp, "run_id": self.run_id}
                row["harvested_at"] = now
                pending.append(Pending(item.identifier, known, row))
                outcomes.append("deleted")
                continue
            disclosure = item.disclosure or self.source.metadata_disclosure
            digest = raw_hash(item, disclosure)
            if known is not None and not known.source_deleted and known.raw_hash == digest:
                outcomes.append("unchanged")
                continue
            outcomes.append("new" if known is None else "changed")
            raw_format = item.prefix or self.source.metadata_prefix
            row = {
                "raw_format": raw_format,
                "raw_xml": item.raw,
                "raw_hash": digest,
                "source_datestamp": item.datestamp,
                "source_sets": list(item.sets),
                "source_deleted": False,
                "harvested_at": now,
                "run_id": self.run_id,
                "disclosure": disclosure,
                "private": dict(item.private),
            }
            args: MapArgs = (item.raw or b"", raw_format, self.source.profile, dict(item.private), self.repository)
            pending.append(Pending(item.identifier, known, row, args, list(item.warnings)))
        return Prepared(outcomes, pending, unreadable, now)

    def _unreadable_row(self, item: HarvestedRecord, now: datetime) -> dict[str, Any]:
        """A new record that could not be read is kept, quarantined with its reason, so that it is counted and seen."""
        return {
            "source_id": self.source_id,
            "source_identifier": item.identifier,
            "local_id": publish.local_id(self.source.name, item.identifier),
            "raw_format": item.prefix or self.source.metadata_prefix,
            "raw_xml": item.raw,
            "raw_hash": None,
            "source_datestamp": item.datestamp,
            "source_sets": list(item.sets),
            "source_deleted": False,
            "harvested_at": now,
            "run_id": self.run_id,
            "disclosure": item.disclosure or self.source.metadata_disclosure,
            "private": dict(item.private),
            "findings": [finding("error", "harvest", item.error or "unreadable record")],
            "annex3": {},
            "status": QUARANTINED,
            "status_reason": "the record could not be read",
            "updated_at": now,
        }

    # -- mapping results to rows ------------------------------------------------------------------------------------

    def apply(
        self, session: Session, pending: list[Pending], now: datetime, *, mapper: Mapper | None = None
    ) -> list[str]:
        """Map what needs mapping, decide, and write every record and its publication; each record at most once.

        Returns each record's publication outcome ('published', 'updated', 'deleted' or 'unchanged').
        """
        to_map = [p for p in pending if p.args is not None and p.mapped is None]
        if to_map:
            args = [p.args for p in to_map if p.args is not None]
            results = (mapper.submit if mapper is not None and len(args) > 1 else _map_here)(args)()
            for p, mapped in zip(to_map, results, strict=True):
                p.mapped = mapped
        for p in pending:
            p.keys = list(p.mapped.keys) if p.mapped is not None else []
        # The DMP's second gate: one lookup for the whole page (none when no record carries a grant number).
        gates = gating.dmp_findings(session, [p.keys for p in pending])
        for p, gate in zip(pending, gates, strict=True):
            self._decide(p, now, gate)
        self._write_records(session, pending, now)
        # One dataset, one record: only the page's records that share a dataset with another source's (or did)
        # are decided again; the records of other pages whose turn it is are published or withdrawn there.
        targets = duplicates.redecide(
            session,
            [p.record_id for p in pending if p.record_id is not None],
            now=now,
            repository_identifier=self.config.repository.identifier,
            publish_touched=False,
            only_groups=True,
        )
        for p in pending:
            target = targets.get(p.record_id) if p.record_id is not None else None
            if target is not None:
                p.row.update(status=target.status, status_reason=target.reason)
        self._write_snapshots(session, pending, now)
        entries = []
        for p in pending:
            outputs = sets = about = None
            summary = p.mapped.summary if p.mapped is not None else None
            if p.row["status"] == "published" and p.mapped is not None and summary is not None:
                outputs, sets = p.mapped.outputs, sets_for(self.source.name, summary)
                about = self._about(p)
            assert p.record_id is not None
            local = publish.local_id(self.source.name, p.identifier)
            entries.append(publish.Publication(p.record_id, local, p.row["status"], outputs, sets, about))
        return publish.write_page(session, entries, repository_identifier=self.config.repository.identifier, now=now)

    def _decide(self, p: Pending, now: datetime, gate: Finding | None = None) -> None:
        row, mapped = p.row, p.mapped
        if mapped is None:  # deleted at the source: findings stay as they were
            findings = p.stored.findings if p.stored is not None else []
        else:
            if p.repairs is None:
                old = p.stored.findings if p.stored is not None else []
                kept = [f for f in old if f.get("layer") == "harvest" and f.get("severity") != "error"]
            else:
                kept = _harvest_findings(p.repairs)
            findings = [*kept, *mapped.findings] if kept else list(mapped.findings)
            if gate is not None:
                findings.append(gate)
            summary = mapped.summary
            if mapped.detected_prefix:
                row["raw_format"] = mapped.detected_prefix
            row.update(
                canonical_xml=mapped.canonical,
                findings=findings,
                annex3=mapped.view,
                title=summary.title if summary else None,
                resource_type=summary.resource_type_uri if summary else None,
                access_right=summary.access_right if summary else None,
                available_date=summary.available_date if summary else None,
            )
            # The Funding fields are the RecordFunding columns, by design: one funding reference, stored as read.
            fundings = summary.fundings if summary else ()
            p.fundings = [{"position": i, **vars(f)} for i, f in enumerate(fundings)]  # flat: no asdict deep copy
        source_deleted = bool(row.get("source_deleted", p.stored.source_deleted if p.stored else False))
        # Only a record deleted at its source comes without a disclosure, and it is decided as deleted whatever it is.
        disclosure = row.get("disclosure") or "unknown"
        decision = decide(
            source_deleted=source_deleted,
            disclosure=disclosure,
            has_errors=has_errors(findings),
            narrowed_by=gate["message"] if gate is not None else None,
        )
        row.update(status=decision.status, status_reason=decision.reason, updated_at=now)

    def _write_records(self, session: Session, pending: list[Pending], now: datetime) -> None:
        new = [p for p in pending if p.stored is None]
        if new:
            rows = []
            for p in new:
                row = {
                    "source_id": self.source_id,
                    "source_identifier": p.identifier,
                    "local_id": publish.local_id(self.source.name, p.identifier),
                    "annex3": {},
                    "findings": [],
                    **p.row,
                }
                rows.append(row)
            insert_many(session, _R, rows)
            ids = ids_by(session, _R, "local_id", [row["local_id"] for row in rows])
            for p, row in zip(new, rows, strict=True):
                p.record_id = ids[row["local_id"]]
        # One executemany per shape of row (mapped records, records deleted at the source, remapped records).
        changed = []
        for p in pending:
            if p.stored is not None:
                p.record_id = p.stored.id
                changed.append({**p.row, "id": p.stored.id})
        update_many(session, _R, changed)
        mapped = [p for p in pending if p.mapped is not None]
        replaced = [p.record_id for p in mapped if p.stored is not None]
        for chunk in chunks(replaced):
            session.execute(delete(_FUNDINGS).where(_FUNDINGS.c.record_id.in_(chunk)))
        funding_rows = [{"record_id": p.record_id, **f} for p in mapped for f in p.fundings]
        insert_many(session, _FUNDINGS, funding_rows)
        # A record's keys are replaced with its mapping, and go with it when it is deleted at its source.
        rekeyed = [p.stored.id for p in pending if p.stored is not None]
        for chunk in chunks(rekeyed):
            session.execute(delete(_KEYS).where(_KEYS.c.record_id.in_(chunk)))
        key_rows = [{"record_id": p.record_id, "kind": k, "value": v} for p in mapped for k, v in p.keys]
        insert_many(session, _KEYS, key_rows)

    def _write_snapshots(self, session: Session, pending: list[Pending], now: datetime) -> None:
        mapped = [p for p in pending if p.mapped is not None]
        # Only changes are kept, so the table grows with what happens to records, not with the number of harvests.
        snapshots = [
            {
                "record_id": p.record_id,
                "run_id": self.run_id,
                "created_at": now,
                "status": p.row["status"],
                "findings": list(p.row["findings"]),
            }
            for p in mapped
            if p.stored is None or p.stored.status != p.row["status"] or p.stored.findings != p.row["findings"]
        ]
        insert_many(session, _SNAPSHOTS, snapshots)

    def _about(self, p: Pending) -> bytes | None:
        if self.source.kind != "oai-pmh" or not self.source.url:
            return None
        fmt = crosswalk.formats().get(p.row.get("raw_format") or "")
        return publish.provenance_xml(
            base_url=self.source.url,
            identifier=p.identifier,
            datestamp=p.row.get("source_datestamp"),
            metadata_namespace=fmt.namespace if fmt else "",
            harvest_date=p.row["harvested_at"],
        )

    # -- a remap -----------------------------------------------------------------------------------------------------

    def remap(
        self, session: Session, record_ids: list[int], now: datetime, *, mapper: Mapper | None = None
    ) -> list[str]:
        """Map stored raw records again (after a crosswalk changed) and publish or withdraw them accordingly."""
        columns = (
            _R.c.id, _R.c.source_identifier, _R.c.raw_hash, _R.c.source_deleted, _R.c.status, _R.c.findings,
            _R.c.raw_xml, _R.c.raw_format, _R.c.private, _R.c.disclosure, _R.c.source_datestamp, _R.c.harvested_at,
        )  # fmt: skip
        pending: list[Pending] = []
        for chunk in chunks(record_ids):
            for row in session.execute(select(*columns).where(_R.c.id.in_(chunk)).order_by(_R.c.id)):
                stored = Stored(row.id, row.raw_hash, bool(row.source_deleted), row.status, list(row.findings or []))
                values = {
                    "raw_format": row.raw_format,
                    "disclosure": row.disclosure,
                    "source_datestamp": row.source_datestamp,
                    "harvested_at": row.harvested_at,
                }
                private = dict(row.private or {})
                args: MapArgs = (row.raw_xml or b"", row.raw_format, self.source.profile, private, self.repository)
                pending.append(Pending(row.source_identifier, stored, values, args, None))
        return self.apply(session, pending, now, mapper=mapper) if pending else []
