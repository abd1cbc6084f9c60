"""One record through the stages: map (crosswalk), validate, gate (policy), publish.

`map_record` is pure (bytes in, findings and renderings out) so that `gateway validate`, harvests and `gateway remap`
share it; `apply` stores its result on a record and brings the provider's tables in step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gateway import annex3, crosswalk, publish
from gateway.annex3 import Summary
from gateway.config import Config, SourceConfig
from gateway.harvest import HarvestedRecord
from gateway.models import FindingSnapshot, Record, RecordFunding, Source
from gateway.policy import decide, sets_for
from gateway.validate import (
    Finding,
    annex3_applies,
    check_aggregator,
    check_annex3,
    check_schema,
    finding,
    has_errors,
)
from gateway.xmlsafe import XMLInputError, parse_bytes

# Private values shorter than this are too common to be told apart from ordinary text when checking for leaks.
_LEAK_MIN_LENGTH = 4


@dataclass
class Mapped:
    canonical: bytes | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    view: dict[str, Any] = field(default_factory=dict)
    summary: Summary | None = None
    detected_prefix: str | None = None


def map_record(
    raw: bytes,
    *,
    prefix: str | None,
    profile: str = "auto",
    private: dict[str, Any] | None = None,
    repository: str | None = None,
) -> Mapped:
    """Crosswalk a raw record to canonical JPCOAR 2.0, render every output format, and validate them all."""
    result = Mapped()
    try:
        root = parse_bytes(raw)
    except XMLInputError as exc:
        result.findings.append(finding("error", "crosswalk", f"the record is not usable XML: {exc}"))
        return result
    detected = crosswalk.detect_format(root)
    result.detected_prefix = detected or prefix
    if detected is None:
        ns = etree.QName(root).namespace or "(no namespace)"
        result.findings.append(
            finding("error", "crosswalk", f"unrecognised metadata format (root element in {ns})", path=root.tag)
        )
        return result
    try:
        canonical = crosswalk.to_canonical(root, detected)
    except crosswalk.CrosswalkError as exc:
        result.findings.append(finding("error", "crosswalk", f"{detected} -> jpcoar_2.0: {exc}"))
        return result
    result.canonical = crosswalk.serialize(canonical)
    result.findings.extend(check_schema(canonical, crosswalk.CANONICAL_PREFIX, label="canonical record"))
    for out_prefix in crosswalk.formats():
        try:
            rendered = crosswalk.render(canonical, out_prefix)
        except crosswalk.CrosswalkError as exc:
            result.findings.append(finding("error", "crosswalk", f"jpcoar_2.0 -> {out_prefix}: {exc}"))
            continue
        if out_prefix != crosswalk.CANONICAL_PREFIX:
            result.findings.extend(check_schema(rendered, out_prefix, label=f"{out_prefix} output"))
        result.outputs[out_prefix] = crosswalk.serialize(rendered)

    summary = annex3.summarize(canonical)
    result.summary = summary
    result.view = annex3.view(canonical)
    if repository and not result.view.get("repository"):
        # The aggregator adds the repository from where it harvests; the gateway knows it from the configuration.
        result.view["repository"] = [{"value": repository, "lang": "ja"}]
    if annex3_applies(profile, summary.resource_type_uri):
        result.findings.extend(check_annex3(result.view, summary.access_right))
    # The crosswalk repairs some faults; run the aggregator rules on the JPCOAR 2.0 record as received as well.
    raw_record = crosswalk._find_record(root)[0] if detected == crosswalk.CANONICAL_PREFIX else None
    result.findings.extend(check_aggregator(canonical, raw_record))
    result.findings.extend(_leak_findings(result.outputs, private or {}))
    return result


#: the arguments of `map_record` for one record: raw bytes, prefix, profile, private values, repository name
MapArgs = tuple[bytes, "str | None", str, "dict[str, Any]", "str | None"]


def map_args_record(args: MapArgs) -> Mapped:
    """`map_record` over `SourceProcessor.map_args` (a top-level function, so that a process pool can call it)."""
    raw, prefix, profile, private, repository = args
    return map_record(raw, prefix=prefix, profile=profile, private=private, repository=repository)


def _leak_findings(outputs: dict[str, bytes], private: dict[str, Any]) -> list[Finding]:
    """A last line of defence: a value that must never be published must not be in any rendering."""
    out = []
    for key, value in private.items():
        text = str(value or "").strip()
        if len(text) < _LEAK_MIN_LENGTH:
            continue
        needle = text.encode("utf-8")
        for prefix, xml in outputs.items():
            if needle in xml:
                out.append(
                    finding("error", "policy", f"the private value '{key}' would be published in {prefix}", path=key)
                )
    return out


def raw_hash(item: HarvestedRecord, disclosure: str) -> str:
    digest = hashlib.sha256(item.raw or b"")
    digest.update(b"\0" + disclosure.encode() + b"\0")
    digest.update(json.dumps(item.private, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


#: maps a list of records of one source at once (see gateway.harvest.mapping for the process pool)
Mapper = Callable[["SourceProcessor", list[Record]], list[Mapped]]


class SourceProcessor:
    """Applies harvested records of one source to the database; one instance per harvest run or remap."""

    def __init__(self, config: Config, source: SourceConfig, source_row: Source, run_id: int | None) -> None:
        self.config = config
        self.source = source
        self.source_row = source_row
        self.run_id = run_id

    def find(self, session: Session, identifier: str) -> Record | None:
        return session.scalar(
            select(Record).where(Record.source_id == self.source_row.id, Record.source_identifier == identifier)
        )

    def process(self, session: Session, item: HarvestedRecord, now: datetime) -> str:
        """Store one harvested record; return 'new', 'changed', 'unchanged', 'deleted' or 'failed'."""
        return self.process_page(session, [item], now)[0]

    def process_page(
        self, session: Session, items: list[HarvestedRecord], now: datetime, *, mapper: Mapper | None = None
    ) -> list[str]:
        """Store a page of harvested records; return each one's outcome, as `process` would for it alone.

        The database work is done for the page at once: one query loads the stored records, one flush writes them,
        and the provider's tables are brought in step in a few statements (a record at a time, a harvest spends most
        of its time in the ORM, not in mapping).  An identifier listed twice in one page is applied in order: the
        page is cut before its second appearance.  `mapper` maps records in bulk (a process pool); by default each
        record is mapped here.
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

    def load(self, session: Session, identifiers: list[str]) -> dict[str, Record]:
        """The stored records of some source identifiers (with their fundings), in one query per 500."""
        out: dict[str, Record] = {}
        for start in range(0, len(identifiers), 500):
            rows = session.scalars(
                select(Record)
                .where(
                    Record.source_id == self.source_row.id,
                    Record.source_identifier.in_(identifiers[start : start + 500]),
                )
                .options(selectinload(Record.fundings))
            )
            out.update((record.source_identifier, record) for record in rows)
        return out

    def _process_segment(
        self, session: Session, items: list[HarvestedRecord], now: datetime, mapper: Mapper | None
    ) -> list[str]:
        records = self.load(session, [item.identifier for item in items if item.identifier])
        outcomes: list[str] = []
        to_map: list[Record] = []
        to_delete: list[Record] = []
        for item in items:
            record = records.get(item.identifier) if item.identifier else None
            if item.error:
                if record is None and item.identifier:
                    self._store_unreadable(session, item, now, flush=False)
                # A record already stored keeps its last good version: a garbled delivery is no reason to withdraw it.
                outcomes.append("failed")
                continue
            if item.deleted:
                if record is None or record.source_deleted:
                    outcomes.append("deleted" if record is None else "unchanged")
                    continue
                record.source_deleted = True
                record.source_datestamp = item.datestamp
                record.run_id = self.run_id
                record.harvested_at = now
                to_delete.append(record)
                outcomes.append("deleted")
                continue
            disclosure = item.disclosure or self.source.metadata_disclosure
            digest = raw_hash(item, disclosure)
            if record is not None and not record.source_deleted and record.raw_hash == digest:
                outcomes.append("unchanged")
                continue
            outcomes.append("new" if record is None else "changed")
            if record is None:
                record = Record(
                    source_id=self.source_row.id,
                    source_identifier=item.identifier,
                    local_id=publish.local_id(self.source.name, item.identifier),
                    status="withheld",
                    disclosure=disclosure,
                    updated_at=now,
                )
                session.add(record)
            record.raw_format = item.prefix or self.source.metadata_prefix
            record.raw_xml = item.raw
            record.raw_hash = digest
            record.source_datestamp = item.datestamp
            record.source_sets = list(item.sets)
            record.source_deleted = False
            record.harvested_at = now
            record.run_id = self.run_id
            record.disclosure = disclosure
            record.private = dict(item.private)
            to_map.append(record)
        if to_map or to_delete:
            mapped = mapper(self, to_map) if mapper is not None else [self.map(record) for record in to_map]
            work: list[tuple[Record, Mapped | None]] = list(zip(to_map, mapped, strict=True))
            work.extend((record, None) for record in to_delete)
            self.apply_many(session, work, now)
        elif session.new:
            session.flush()
        return outcomes

    def map(self, record: Record) -> Mapped:
        return map_record(
            record.raw_xml or b"",
            prefix=record.raw_format,
            profile=self.source.profile,
            private=record.private,
            repository=self.source.repository_name or self.config.repository.name,
        )

    def map_args(self, record: Record) -> MapArgs:
        """What `map_record` needs for a record, as plain values (to send them to another process)."""
        return (
            record.raw_xml or b"",
            record.raw_format,
            self.source.profile,
            record.private,
            self.source.repository_name or self.config.repository.name,
        )

    def _store_unreadable(self, session: Session, item: HarvestedRecord, now: datetime, *, flush: bool = True) -> None:
        """A new record that could not be read is kept, quarantined with its reason, so that it is counted and seen."""
        record = Record(
            source_id=self.source_row.id,
            source_identifier=item.identifier,
            local_id=publish.local_id(self.source.name, item.identifier),
            raw_format=item.prefix or self.source.metadata_prefix,
            raw_xml=item.raw,
            source_datestamp=item.datestamp,
            source_sets=list(item.sets),
            source_deleted=False,
            harvested_at=now,
            run_id=self.run_id,
            disclosure=item.disclosure or self.source.metadata_disclosure,
            private=dict(item.private),
            findings=[finding("error", "harvest", item.error or "unreadable record")],
            status="quarantined",
            status_reason="the record could not be read",
            updated_at=now,
        )
        session.add(record)
        if flush:
            session.flush()

    def apply(self, session: Session, record: Record, mapped: Mapped, now: datetime) -> str:
        """Store a mapping result on the record, decide, and publish or withdraw."""
        return self.apply_many(session, [(record, mapped)], now)[0]

    def apply_many(self, session: Session, work: list[tuple[Record, Mapped | None]], now: datetime) -> list[str]:
        """Store mapping results on records (None: the record was deleted at its source), decide, and publish or
        withdraw them all; each record at most once.  Returns each record's publication outcome."""
        snapshots: list[tuple[Record, tuple[str, Any] | None]] = []
        for record, mapped in work:
            if mapped is None:
                continue
            snapshots.append((record, (record.status, record.findings) if record.id is not None else None))
            if mapped.detected_prefix:
                record.raw_format = mapped.detected_prefix
            record.canonical_xml = mapped.canonical
            record.findings = mapped.findings
            record.annex3 = mapped.view
            summary = mapped.summary
            record.title = summary.title if summary else None
            record.resource_type = summary.resource_type_uri if summary else None
            record.access_right = summary.access_right if summary else None
            record.available_date = summary.available_date if summary else None
            record.updated_at = now
            # The Funding fields are the RecordFunding columns, by design: one funding reference, stored as read.
            fundings = summary.fundings if summary else ()
            record.fundings = [RecordFunding(position=i, **dataclasses.asdict(f)) for i, f in enumerate(fundings)]
        for record, _ in work:
            decision = decide(
                source_deleted=record.source_deleted,
                disclosure=record.disclosure,
                has_errors=has_errors(record.findings or []),
            )
            record.status = decision.status
            record.status_reason = decision.reason
            record.updated_at = now
        session.flush()  # new records get their ids, in one batch
        entries = []
        for record, mapped in work:
            outputs = sets = about = None
            if mapped is not None and mapped.summary is not None:
                outputs = mapped.outputs
                sets = sets_for(self.source.name, mapped.summary)
                about = self._about(record)
            entries.append(publish.Entry(record, outputs, sets, about))
        outcomes = publish.sync_many(session, entries, repository_identifier=self.config.repository.identifier, now=now)
        # Only changes are kept, so the table grows with what happens to records, not with the number of harvests.
        session.add_all(
            FindingSnapshot(
                record_id=record.id,
                run_id=self.run_id,
                created_at=now,
                status=record.status,
                findings=list(record.findings or []),
            )
            for record, before in snapshots
            if before is None or before[0] != record.status or (before[1] or []) != (record.findings or [])
        )
        return outcomes

    def _about(self, record: Record) -> bytes | None:
        if self.source.kind != "oai-pmh" or not self.source.url:
            return None
        fmt = crosswalk.formats().get(record.raw_format or "")
        return publish.provenance_xml(
            base_url=self.source.url,
            identifier=record.source_identifier,
            datestamp=record.source_datestamp,
            metadata_namespace=fmt.namespace if fmt else "",
            harvest_date=record.harvested_at,
        )
