"""Keeping the provider's tables in step with the policy decision about each record.

A record enters `published` the first time it passes the gate and never leaves: when it stops being publishable it
becomes a deleted record with a new datestamp (deletedRecord=persistent), keeping its sets so that set-selective
harvesters learn of the deletion too. A record that was never published is never written here, so it cannot appear in
any response, not even as a deleted header.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import quote
from xml.sax.saxutils import escape

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from gateway.bulk import ids_by, insert_many, update_many
from gateway.db import chunks
from gateway.models import OaiSet, PublicationChange, Published, PublishedFormat, PublishedSet, Record
from gateway.namespaces import PROVENANCE
from gateway.policy import PUBLISHED
from gateway.provider.response import header

# Characters allowed unescaped in the local part of an oai-identifier (guidelines-oai-identifier, section 2.1).
_LOCAL_SAFE = "-_.!~*'();/?:@&=+$,"


def local_id(source_name: str, source_identifier: str) -> str:
    """A stable local identifier: the same source record always gets the same one, and no other record does."""
    return f"{source_name}/{quote(source_identifier, safe=_LOCAL_SAFE)}"


def oai_identifier(repository_identifier: str, local: str) -> str:
    return f"oai:{repository_identifier}:{local}"


def provenance_xml(
    *, base_url: str, identifier: str, datestamp: str | None, metadata_namespace: str, harvest_date: datetime
) -> bytes | None:
    """The <provenance> element for a harvested record (OAI-PMH provenance guidelines)."""
    stamp = _utc_datestamp(datestamp)
    if stamp is None:
        return None
    harvested = harvest_date.strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        f'<provenance xmlns="{PROVENANCE}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{PROVENANCE} http://www.openarchives.org/OAI/2.0/provenance.xsd">'
        f'<originDescription harvestDate="{harvested}" altered="true">'
        f"<baseURL>{escape(base_url)}</baseURL>"
        f"<identifier>{escape(identifier)}</identifier>"
        f"<datestamp>{escape(stamp)}</datestamp>"
        f"<metadataNamespace>{escape(metadata_namespace)}</metadataNamespace>"
        "</originDescription></provenance>"
    )
    return xml.encode("utf-8")


def _utc_datestamp(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value
    if len(value) == 20 and value.endswith("Z") and value[10] == "T":
        return value
    return None


def content_hash(outputs: dict[str, bytes], sets: dict[str, str], about: bytes | None) -> str:
    digest = hashlib.sha256()
    for prefix in sorted(outputs):
        digest.update(prefix.encode() + b"\0" + outputs[prefix] + b"\0")
    for spec in sorted(sets):
        digest.update(spec.encode() + b"\0")
    digest.update(about or b"")
    return digest.hexdigest()


class Entry(NamedTuple):
    """One record to bring in step: its renderings, sets and provenance when it is to be published."""

    record: Record
    outputs: dict[str, bytes] | None
    sets: dict[str, str] | None
    about: bytes | None


class Publication(NamedTuple):
    """What publishing needs of one record: its id, local id and status, and (when published) what to serve."""

    record_id: int
    local_id: str
    status: str
    outputs: dict[str, bytes] | None
    sets: dict[str, str] | None
    about: bytes | None


def sync(
    session: Session,
    record: Record,
    *,
    repository_identifier: str,
    outputs: dict[str, bytes] | None,
    sets: dict[str, str] | None,
    about: bytes | None,
    now: datetime,
) -> str:
    """Bring `published` in line with record.status; return 'published', 'updated', 'deleted' or 'unchanged'."""
    entry = Entry(record, outputs, sets, about)
    return sync_many(session, [entry], repository_identifier=repository_identifier, now=now)[0]


def sync_many(session: Session, entries: list[Entry], *, repository_identifier: str, now: datetime) -> list[str]:
    """`sync` for many records (each at most once): `write_page` for ORM records."""
    session.flush()  # the records need their ids
    work = [Publication(e.record.id, e.record.local_id, e.record.status, e.outputs, e.sets, e.about) for e in entries]
    return write_page(session, work, repository_identifier=repository_identifier, now=now)


_P = Published.__table__
_F = PublishedFormat.__table__
_S = PublishedSet.__table__
_CHANGES = PublicationChange.__table__


def write_page(session: Session, entries: list[Publication], *, repository_identifier: str, now: datetime) -> list[str]:
    """Bring `published` in line with each record's status, for a page of records (each at most once), in a few
    statements whatever the page's size: one query for their rows, one insert per table, one executemany update.

    Returns each record's outcome: 'published', 'updated', 'deleted' or 'unchanged'.
    """
    existing: dict[int, Any] = {}
    for ids in chunks([entry.record_id for entry in entries]):
        rows = session.execute(
            select(_P.c.id, _P.c.record_id, _P.c.oai_identifier, _P.c.datestamp, _P.c.deleted, _P.c.content_hash).where(
                _P.c.record_id.in_(ids)
            )
        )
        existing.update((row.record_id, row) for row in rows)
    outcomes: list[str] = []
    new: list[tuple[Publication, str, str]] = []  # (entry, oai identifier, content hash)
    updated: list[tuple[Publication, Any, str]] = []  # (entry, its published row, content hash)
    gone: list[Any] = []  # published rows of records no longer publishable
    for entry in entries:
        row = existing.get(entry.record_id)
        if entry.status == PUBLISHED:
            assert entry.outputs is not None and entry.sets is not None, "a published record needs outputs and sets"
            digest = content_hash(entry.outputs, entry.sets, entry.about)
            if row is not None and not row.deleted and row.content_hash == digest:
                outcomes.append("unchanged")
            elif row is None:
                new.append((entry, oai_identifier(repository_identifier, entry.local_id), digest))
                outcomes.append("published")
            else:
                updated.append((entry, row, digest))
                outcomes.append("updated")
        elif row is not None and not row.deleted:
            gone.append(row)
            outcomes.append("deleted")
        else:
            outcomes.append("unchanged")
    if not (new or updated or gone):
        return outcomes
    # One change number for the whole page, taken when it is written: walks that began before see it as new.
    mark = session.execute(insert(_CHANGES).values(made_at=now).returning(_CHANGES.c.id)).scalar_one()
    if new:
        rows = [
            {
                "record_id": entry.record_id,
                "oai_identifier": identifier,
                "datestamp": now,
                "deleted": False,
                "content_hash": digest,
                "about_xml": entry.about,
                "change": mark,
                "header_xml": header(identifier, now, False, sorted(entry.sets or ())).encode("utf-8"),
            }
            for entry, identifier, digest in new
        ]
        insert_many(session, _P, rows)
        ids = ids_by(session, _P, "record_id", [row["record_id"] for row in rows])
        written = [(ids[entry.record_id], entry) for entry, _, _ in new]
    else:
        written = []
    if updated:
        rows = []
        for entry, row, digest in updated:
            stamp = _after(row.datestamp, now)
            rows.append(
                {
                    "id": row.id,
                    "datestamp": stamp,
                    "deleted": False,
                    "content_hash": digest,
                    "about_xml": entry.about,
                    "change": mark,
                    "header_xml": header(row.oai_identifier, stamp, False, sorted(entry.sets or ())).encode("utf-8"),
                }
            )
            written.append((row.id, entry))
        update_many(session, _P, rows)
    if gone:
        # A persistent deleted record keeps the sets it had, in its header too.
        kept: dict[int, list[str]] = {row.id: [] for row in gone}
        for ids in chunks([row.id for row in gone]):
            for published_id, spec in session.execute(
                select(_S.c.published_id, _S.c.set_spec)
                .where(_S.c.published_id.in_(ids))
                .order_by(_S.c.published_id, _S.c.set_spec)
            ):
                kept[published_id].append(spec)
        rows = []
        for row in gone:
            stamp = _after(row.datestamp, now)
            rows.append(
                {
                    "id": row.id,
                    "datestamp": stamp,
                    "deleted": True,
                    "content_hash": None,
                    "about_xml": None,
                    "change": mark,
                    "header_xml": header(row.oai_identifier, stamp, True, kept[row.id]).encode("utf-8"),
                }
            )
        update_many(session, _P, rows)
    replaced = [row.id for _, row, _ in updated]
    for table, ids_to_clear in ((_F, replaced + [row.id for row in gone]), (_S, replaced)):
        for ids in chunks(ids_to_clear):
            session.execute(delete(table).where(table.c.published_id.in_(ids)))
    format_rows = [
        {"published_id": pub_id, "prefix": prefix, "xml": xml}
        for pub_id, entry in written
        for prefix, xml in (entry.outputs or {}).items()
    ]
    set_rows = [{"published_id": pub_id, "set_spec": spec} for pub_id, entry in written for spec in entry.sets or ()]
    insert_many(session, _F, format_rows)
    insert_many(session, _S, set_rows)
    names: dict[str, str] = {}
    for _, entry in written:
        names.update(entry.sets or {})
    _ensure_set_names(session, names)
    return outcomes


def _after(previous: datetime, now: datetime) -> datetime:
    # A change must never move a datestamp backwards (a clock step would hide it from incremental harvesters).
    return now if now >= previous else previous


def _ensure_set_names(session: Session, sets: dict[str, str]) -> None:
    if not sets:
        return
    table = OaiSet.__table__
    known: dict[str, str] = {}
    for specs in chunks(list(sets)):
        known.update(session.execute(select(table.c.set_spec, table.c.name).where(table.c.set_spec.in_(specs))).all())
    missing = [{"set_spec": spec, "name": name} for spec, name in sets.items() if spec not in known]
    renamed = [{"b_spec": spec, "name": name} for spec, name in sets.items() if spec in known and known[spec] != name]
    if missing:
        session.execute(insert(table), missing)
    if renamed:
        session.execute(update(table).where(table.c.set_spec == bindparam("b_spec")), renamed)
