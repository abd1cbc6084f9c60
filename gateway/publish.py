"""Keeping the provider's tables in step with the policy decision about each record.

A record enters `published` the first time it passes the gate and never leaves: when it stops being publishable it
becomes a deleted record with a new datestamp (deletedRecord=persistent), keeping its sets so that set-selective
harvesters learn of the deletion too. A record that was never published is never written here, so it cannot appear in
any response, not even as a deleted header.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote
from xml.sax.saxutils import escape

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

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
    """`sync` for many records (each at most once) in a few statements: one query for their rows in `published`,
    one flush for the new rows, one delete per table for replaced renderings, one bulk insert per table."""
    ids = [entry.record.id for entry in entries]
    pubs: dict[int, Published] = {}
    for start in range(0, len(ids), 500):
        pubs.update(
            (pub.record_id, pub)
            for pub in session.scalars(select(Published).where(Published.record_id.in_(ids[start : start + 500])))
        )
    outcomes: list[str] = []
    clear_formats: list[int] = []
    clear_sets: list[int] = []
    written: list[tuple[Published, dict[str, bytes], dict[str, str]]] = []
    set_names: dict[str, str] = {}
    for record, outputs, sets, about in entries:
        pub = pubs.get(record.id)
        if record.status == PUBLISHED:
            assert outputs is not None and sets is not None, "a published record needs its outputs and sets"
            digest = content_hash(outputs, sets, about)
            if pub is not None and not pub.deleted and pub.content_hash == digest:
                outcomes.append("unchanged")
                continue
            outcome = "updated" if pub is not None else "published"
            if pub is None:
                pub = Published(
                    record_id=record.id,
                    oai_identifier=oai_identifier(repository_identifier, record.local_id),
                    datestamp=now,
                    deleted=False,
                )
                session.add(pub)
            else:
                clear_formats.append(pub.id)
                clear_sets.append(pub.id)
            pub.datestamp = _after(pub.datestamp, now) if outcome == "updated" else now
            pub.deleted = False
            pub.content_hash = digest
            pub.about_xml = about
            written.append((pub, outputs, sets))
            set_names.update(sets)
            outcomes.append(outcome)
        elif pub is not None and not pub.deleted:
            pub.deleted = True
            pub.datestamp = _after(pub.datestamp, now)
            pub.content_hash = None
            pub.about_xml = None
            clear_formats.append(pub.id)
            outcomes.append("deleted")
        else:
            outcomes.append("unchanged")
    changed = [pub for pub, _, _ in written] + [
        pubs[e.record.id] for e, o in zip(entries, outcomes, strict=True) if o == "deleted"
    ]
    if changed:
        # One change number for the whole batch, taken when it is written: walks that began before see it as new.
        mark = PublicationChange(made_at=now)
        session.add(mark)
        session.flush()
        for pub in changed:
            pub.change = mark.id
        # The header as the provider serves it; a persistent deleted record keeps the sets it had.
        for pub, _, sets in written:
            pub.header_xml = header(pub.oai_identifier, pub.datestamp, False, sorted(sets)).encode("utf-8")
        gone = changed[len(written) :]
        kept_sets: dict[int, list[str]] = {pub.id: [] for pub in gone}
        for start in range(0, len(gone), 500):
            rows = session.execute(
                select(PublishedSet.published_id, PublishedSet.set_spec)
                .where(PublishedSet.published_id.in_([pub.id for pub in gone[start : start + 500]]))
                .order_by(PublishedSet.published_id, PublishedSet.set_spec)
            )
            for published_id, spec in rows:
                kept_sets[published_id].append(spec)
        for pub in gone:
            pub.header_xml = header(pub.oai_identifier, pub.datestamp, True, kept_sets[pub.id]).encode("utf-8")
    for model, pub_ids in ((PublishedFormat, clear_formats), (PublishedSet, clear_sets)):
        for start in range(0, len(pub_ids), 500):
            session.execute(
                delete(model)
                .where(model.published_id.in_(pub_ids[start : start + 500]))
                .execution_options(synchronize_session=False)
            )
    if written:
        session.flush()  # the new rows of `published` get their ids
        format_rows = [
            {"published_id": p.id, "prefix": k, "xml": x} for p, outputs, _ in written for k, x in outputs.items()
        ]
        set_rows = [{"published_id": p.id, "set_spec": spec} for p, _, sets in written for spec in sets]
        if format_rows:
            session.execute(insert(PublishedFormat), format_rows)
        if set_rows:
            session.execute(insert(PublishedSet), set_rows)
        _ensure_set_names(session, set_names)
    return outcomes


def _after(previous: datetime, now: datetime) -> datetime:
    # A change must never move a datestamp backwards (a clock step would hide it from incremental harvesters).
    return now if now >= previous else previous


def _ensure_set_names(session: Session, sets: dict[str, str]) -> None:
    # One query for all of a record's sets: this runs for every record published.
    existing = {s.set_spec: s for s in session.scalars(select(OaiSet).where(OaiSet.set_spec.in_(list(sets))))}
    for spec, name in sets.items():
        row = existing.get(spec)
        if row is None:
            session.add(OaiSet(set_spec=spec, name=name))
        elif row.name != name:
            row.name = name
