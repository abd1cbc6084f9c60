"""The records as the dashboard and the API show them: a search over title, identifiers, project and status, and
one record's whole story (raw, canonical, each output format, findings, publication history).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gateway.admin.operations.common import stamp
from gateway.models import FindingSnapshot, Published, PublishedFormat, Record, RecordFunding, Source


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _local_part(ident: str) -> str:
    """`oai:<namespace>:<local id>` -> the local id (a namespace is domain-like: it has no colon)."""
    if ident.startswith("oai:") and ident.count(":") >= 2:
        return ident.split(":", 2)[2]
    return ident


def _counts_of(findings: list[dict[str, Any]] | None) -> tuple[int, int]:
    items = findings or []
    return (
        sum(1 for f in items if f.get("severity") == "error"),
        sum(1 for f in items if f.get("severity") == "warning"),
    )


def search_records(
    session: Session,
    *,
    q: str | None = None,
    status: str | None = None,
    project: str | None = None,
    source: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Records matching every given criterion, newest change first, and how many match in all.

    `q` matches the title, the identifier at the source and the local / OAI identifier (case-insensitive, anywhere);
    `project` a Japan Grant Number exactly or a project name partly.
    """
    conditions: list[Any] = []
    if q and q.strip():
        text = q.strip()
        pattern = _like(text)
        local = _like(_local_part(text))
        conditions.append(
            or_(
                Record.title.ilike(pattern, escape="\\"),
                Record.source_identifier.ilike(pattern, escape="\\"),
                Record.local_id.ilike(local, escape="\\"),
            )
        )
    if status:
        conditions.append(Record.status == status)
    if source:
        conditions.append(Source.name == source)
    if project and project.strip():
        name = _like(project.strip())
        conditions.append(
            Record.id.in_(
                select(RecordFunding.record_id).where(
                    or_(
                        RecordFunding.jgn == project.strip(),
                        RecordFunding.project_name_ja.ilike(name, escape="\\"),
                        RecordFunding.project_name_en.ilike(name, escape="\\"),
                    )
                )
            )
        )
    base = select(Record.id).join(Source, Source.id == Record.source_id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(
            Record.id,
            Record.local_id,
            Record.source_identifier,
            Record.title,
            Record.status,
            Record.access_right,
            Record.updated_at,
            Record.findings,
            Source.name,
            Published.oai_identifier,
        )
        .join(Source, Source.id == Record.source_id)
        .outerjoin(Published, Published.record_id == Record.id)
        .where(*conditions)
        .order_by(Record.updated_at.desc(), Record.id.desc())
        .limit(max(limit, 0))
        .offset(max(offset, 0))
    ).all()
    ids = [r.id for r in rows]
    projects: dict[int, list[str]] = {}
    if ids:
        for record_id, jgn in session.execute(
            select(RecordFunding.record_id, RecordFunding.jgn)
            .where(RecordFunding.record_id.in_(ids))
            .order_by(RecordFunding.position)
        ).all():
            if jgn:
                projects.setdefault(record_id, []).append(jgn)
    out = []
    for r in rows:
        errors, warnings = _counts_of(r.findings)
        out.append(
            {
                "id": r.id,
                "local_id": r.local_id,
                "oai_identifier": r.oai_identifier,
                "source": r.name,
                "source_identifier": r.source_identifier,
                "title": r.title,
                "status": r.status,
                "access_right": r.access_right,
                "projects": projects.get(r.id, []),
                "updated": stamp(r.updated_at),
                "errors": errors,
                "warnings": warnings,
            }
        )
    return out, total


def find_record(session: Session, ident: str) -> Record | None:
    """A record by its numeric id, its OAI identifier, its local id or `source/identifier-at-the-source`."""
    ident = (ident or "").strip()
    if not ident:
        return None
    if ident.isdigit():
        return session.get(Record, int(ident))
    local = _local_part(ident)
    record = session.scalar(select(Record).where(Record.local_id == local))
    if record is None and ident.startswith("oai:"):
        record = session.scalar(
            select(Record).join(Published, Published.record_id == Record.id).where(Published.oai_identifier == ident)
        )
    if record is None and "/" in local:
        source_name, source_ident = local.split("/", 1)
        record = session.scalar(
            select(Record)
            .join(Source, Source.id == Record.source_id)
            .where(Source.name == source_name, Record.source_identifier == source_ident)
        )
    return record


def _outputs(session: Session, record: Record, pub: Published | None) -> list[dict[str, Any]]:
    """Each output format: what the provider serves, or (for a record not served) what it would render."""
    from gateway import crosswalk
    from gateway.xmlsafe import XMLInputError, parse_bytes

    served: dict[str, bytes] = {}
    if pub is not None and not pub.deleted:
        served = {
            prefix: xml
            for prefix, xml in session.execute(
                select(PublishedFormat.prefix, PublishedFormat.xml).where(PublishedFormat.published_id == pub.id)
            ).all()
        }
    canonical = None
    if record.canonical_xml and set(served) != set(crosswalk.formats()):
        try:
            canonical = parse_bytes(record.canonical_xml)
        except XMLInputError:
            canonical = None
    out = []
    for prefix in crosswalk.formats():
        if prefix in served:
            out.append({"prefix": prefix, "served": True, "xml": served[prefix].decode("utf-8", "replace")})
            continue
        if canonical is None:
            out.append({"prefix": prefix, "served": False, "xml": None})
            continue
        try:
            rendered = crosswalk.serialize(crosswalk.render(canonical, prefix)).decode("utf-8", "replace")
        except crosswalk.CrosswalkError as exc:
            rendered = f"(cannot be rendered: {exc})"
        out.append({"prefix": prefix, "served": False, "xml": rendered})
    return out


def _snapshot_reason(status: str, findings: list[dict[str, Any]], record: Record) -> str | None:
    if status == "quarantined":
        first = next((f for f in findings if f.get("severity") == "error"), None)
        return first.get("message") if first else "validation errors"
    if status == "withheld":
        dmp = next((f for f in findings if f.get("rule") == "dmp-disclosure"), None)
        if dmp is not None and record.disclosure == "public":
            return str(dmp.get("message"))
        if record.disclosure == "public":  # public at its source, valid, and no DMP says no: another source's copy
            return "a duplicate of the record served for the same dataset"
        return f"metadata disclosure: {record.disclosure}"
    if status == "deleted":
        return "deleted at the source"
    if status == "published":
        return "public and valid"
    return None


def record_detail(session: Session, ident: str, *, repository_identifier: str | None = None) -> dict[str, Any] | None:
    """Everything the gateway knows about one record: raw, canonical, each output format, findings, history."""
    record = find_record(session, ident)
    if record is None:
        return None
    pub = session.scalar(select(Published).where(Published.record_id == record.id))
    snapshots = session.scalars(
        select(FindingSnapshot)
        .where(FindingSnapshot.record_id == record.id)
        .order_by(FindingSnapshot.created_at.desc(), FindingSnapshot.id.desc())
        .limit(50)
    ).all()
    if pub is not None:
        oai_id: str | None = pub.oai_identifier
    elif repository_identifier:
        oai_id = f"oai:{repository_identifier}:{record.local_id}"
    else:
        oai_id = None
    history = []
    for snap in snapshots:
        errors, warnings = _counts_of(snap.findings)
        history.append(
            {
                "at": stamp(snap.created_at),
                "run": snap.run_id,
                "status": snap.status,
                "reason": _snapshot_reason(snap.status, snap.findings or [], record),
                "errors": errors,
                "warnings": warnings,
            }
        )
    errors, warnings = _counts_of(record.findings)
    return {
        "id": record.id,
        "local_id": record.local_id,
        "oai_identifier": oai_id,
        "source": record.source.name,
        "source_identifier": record.source_identifier,
        "source_datestamp": record.source_datestamp,
        "harvested": stamp(record.harvested_at),
        "updated": stamp(record.updated_at),
        "run_id": record.run_id,
        "raw_format": record.raw_format,
        "status": record.status,
        "status_reason": record.status_reason,
        "disclosure": record.disclosure,
        "access_right": record.access_right,
        "available_date": record.available_date,
        "title": record.title,
        "published": bool(pub and not pub.deleted),
        "served_as_deleted": bool(pub and pub.deleted),
        "served_datestamp": pub.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ") if pub else None,
        "projects": [
            {
                "jgn": f.jgn,
                "funder_code": f.funder_code,
                "funder_ja": f.funder_name_ja,
                "funder_en": f.funder_name_en,
                "project_ja": f.project_name_ja,
                "project_en": f.project_name_en,
            }
            for f in record.fundings
        ],
        "errors": errors,
        "warnings": warnings,
        "findings": list(record.findings or []),
        "history": history,
        "annex3": record.annex3 or {},
        "private": record.private or {},
        "raw": record.raw_xml.decode("utf-8", "replace") if record.raw_xml else None,
        "canonical": record.canonical_xml.decode("utf-8", "replace") if record.canonical_xml else None,
        "outputs": _outputs(session, record, pub),
        **_duplicates(session, record, repository_identifier),
    }


def _duplicates(session: Session, record: Record, repository_identifier: str | None) -> dict[str, Any]:
    """One dataset, one record (gateway.dmp.duplicates): the record served in this one's place, and the records
    that are duplicates of this one, each with its source and the source's priority."""

    def named(other: Record) -> dict[str, Any]:
        oai = f"oai:{repository_identifier}:{other.local_id}" if repository_identifier else other.local_id
        return {"id": other.id, "oai_identifier": oai, "source": other.source.name, "priority": other.source.priority}

    served = session.get(Record, record.duplicate_of) if record.duplicate_of is not None else None
    copies = session.scalars(select(Record).where(Record.duplicate_of == record.id).order_by(Record.id)).all()
    return {"duplicate_of": named(served) if served is not None else None, "duplicates": [named(r) for r in copies]}
