"""What the gateway knows about one record, for `gateway records show` (and later the dashboard)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.models import FindingSnapshot, Published, Record, Source


def find_record(session: Session, config: Config, oai_id: str) -> Record | None:
    """Look a record up by its OAI identifier, its local id, or `source:source-identifier`."""
    prefix = f"oai:{config.repository.identifier}:"
    local = oai_id[len(prefix) :] if oai_id.startswith(prefix) else oai_id
    record = session.scalar(select(Record).where(Record.local_id == local))
    if record is None and "/" in local:
        source_name, ident = local.split("/", 1)
        record = session.scalar(
            select(Record).join(Source).where(Source.name == source_name, Record.source_identifier == ident)
        )
    return record


def describe_record(session: Session, config: Config, oai_id: str) -> dict[str, Any] | None:
    record = find_record(session, config, oai_id)
    if record is None:
        return None
    pub = session.scalar(select(Published).where(Published.record_id == record.id))
    history = session.scalars(
        select(FindingSnapshot)
        .where(FindingSnapshot.record_id == record.id)
        .order_by(FindingSnapshot.created_at.desc(), FindingSnapshot.id.desc())
        .limit(20)
    ).all()
    return {
        **duplicates_of(session, config, record),
        "oai_identifier": f"oai:{config.repository.identifier}:{record.local_id}",
        "source": record.source.name,
        "source_identifier": record.source_identifier,
        "source_datestamp": record.source_datestamp,
        "raw_format": record.raw_format,
        "status": record.status,
        "status_reason": record.status_reason,
        "disclosure": record.disclosure,
        "published": bool(pub and not pub.deleted),
        "published_datestamp": pub.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ") if pub else None,
        "served_as_deleted": bool(pub and pub.deleted),
        "access_right": record.access_right,
        "title": record.title,
        "findings": record.findings,
        "history": [
            {
                "at": snap.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "run": snap.run_id,
                "status": snap.status,
                "errors": sum(1 for f in snap.findings if f.get("severity") == "error"),
                "warnings": sum(1 for f in snap.findings if f.get("severity") == "warning"),
            }
            for snap in history
        ],
        "annex3": record.annex3,
        "private": record.private,
        "raw": record.raw_xml.decode("utf-8", "replace") if record.raw_xml else None,
        "canonical": record.canonical_xml.decode("utf-8", "replace") if record.canonical_xml else None,
    }


def _named(config: Config, record: Record) -> str:
    oai = f"oai:{config.repository.identifier}:{record.local_id}"
    return f"{oai} (source {record.source.name}, priority {record.source.priority})"


def duplicates_of(session: Session, config: Config, record: Record) -> dict[str, Any]:
    """The record this one is a duplicate of (gateway.dmp.duplicates), and the records that are duplicates of it:
    "oai id (source S, priority p)" each."""
    served = session.get(Record, record.duplicate_of) if record.duplicate_of is not None else None
    copies = session.scalars(select(Record).where(Record.duplicate_of == record.id).order_by(Record.id)).all()
    return {
        "duplicate_of": _named(config, served) if served is not None else None,
        "duplicates": [_named(config, r) for r in copies],
    }
