"""One record through the stages: map (crosswalk), validate, gate (policy), publish.

`map_record` is pure (bytes in, findings and renderings out) so that `gateway validate`, harvests and `gateway remap`
share it; `apply` stores its result on a record and brings the provider's tables in step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

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
        record = self.find(session, item.identifier) if item.identifier else None
        if item.error:
            if record is None and item.identifier:
                self._store_unreadable(session, item, now)
            # A record already stored keeps its last good version: a garbled delivery is no reason to withdraw it.
            return "failed"
        if item.deleted:
            if record is None or record.source_deleted:
                return "deleted" if record is None else "unchanged"
            record.source_deleted = True
            record.source_datestamp = item.datestamp
            record.run_id = self.run_id
            record.harvested_at = now
            self._decide_and_publish(session, record, None, now)
            return "deleted"
        disclosure = item.disclosure or self.source.metadata_disclosure
        digest = raw_hash(item, disclosure)
        if record is not None and not record.source_deleted and record.raw_hash == digest:
            return "unchanged"
        outcome = "new" if record is None else "changed"
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
        mapped = self.map(record)
        session.flush()
        self.apply(session, record, mapped, now)
        return outcome

    def map(self, record: Record) -> Mapped:
        return map_record(
            record.raw_xml or b"",
            prefix=record.raw_format,
            profile=self.source.profile,
            private=record.private,
            repository=self.source.repository_name or self.config.repository.name,
        )

    def _store_unreadable(self, session: Session, item: HarvestedRecord, now: datetime) -> None:
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
        session.flush()

    def apply(self, session: Session, record: Record, mapped: Mapped, now: datetime) -> str:
        """Store a mapping result on the record, decide, and publish or withdraw."""
        before = (record.status, record.findings) if record.id is not None else None
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
        outcome = self._decide_and_publish(session, record, mapped, now)
        # Only changes are kept, so the table grows with what happens to records, not with the number of harvests.
        if before is None or before[0] != record.status or (before[1] or []) != (record.findings or []):
            session.add(
                FindingSnapshot(
                    record_id=record.id,
                    run_id=self.run_id,
                    created_at=now,
                    status=record.status,
                    findings=list(record.findings or []),
                )
            )
            session.flush()
        return outcome

    def _decide_and_publish(self, session: Session, record: Record, mapped: Mapped | None, now: datetime) -> str:
        decision = decide(
            source_deleted=record.source_deleted,
            disclosure=record.disclosure,
            has_errors=has_errors(record.findings or []),
        )
        record.status = decision.status
        record.status_reason = decision.reason
        record.updated_at = now
        session.flush()
        outputs = sets = about = None
        if mapped is not None and mapped.summary is not None:
            outputs = mapped.outputs
            sets = sets_for(self.source.name, mapped.summary)
            about = self._about(record)
        return publish.sync(
            session,
            record,
            repository_identifier=self.config.repository.identifier,
            outputs=outputs,
            sets=sets,
            about=about,
            now=now,
        )

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
