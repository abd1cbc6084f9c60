"""Seed data for the provider tests, written straight through the models.

Metadata fragments are minimal hand-written documents that are valid against the official schema of their format
(checked by a test), stored the way the publishing pipeline stores them: the root element, UTF-8, no declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from gateway.models import OaiSet, Published, PublishedFormat, PublishedSet, Record, Source

REPO_ID = "gateway.test.ac.jp"
BASE = datetime(2024, 3, 1, 9, 30, 0)
PREFIXES = ("jpcoar_2.0", "jpcoar_1.0", "oai_dc")

# Words that only non-public records carry: none of them may ever appear in a response.
SECRET_TITLE = "SECRET-UNPUBLISHED-TITLE"
SECRET_IDENTIFIER = "secret-unpublished-id"

SET_NAMES = {
    "source": "Sources",
    "source:weko": "Source: WEKO <institutional> & co",
    "source:rdm": "Source: GakuNin RDM",
    "funder": "Funders",
    "funder:jsps": "Japan Society for the Promotion of Science",
    "project": "Projects",
    "project:JP23K00001": "プロジェクト JP23K00001",
    "access": "Access rights",
    "access:open": "Open access",
    "access:restricted": "Restricted access",
}


def jpcoar2(title: str, ident: str) -> bytes:
    return (
        '<jpcoar:jpcoar xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/2.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<dc:title xml:lang="en">{escape(title)}</dc:title>'
        '<dc:type rdf:resource="http://purl.org/coar/resource_type/c_ddb1">dataset</dc:type>'
        f'<jpcoar:identifier identifierType="URI">https://data.test.ac.jp/{ident}</jpcoar:identifier>'
        "</jpcoar:jpcoar>"
    ).encode()


def jpcoar1(title: str, ident: str) -> bytes:
    return (
        '<jpcoar:jpcoar xmlns:jpcoar="https://github.com/JPCOAR/schema/blob/master/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<dc:title xml:lang="en">{escape(title)}</dc:title>'
        '<dc:type rdf:resource="http://purl.org/coar/resource_type/c_ddb1">dataset</dc:type>'
        f'<jpcoar:identifier identifierType="URI">https://data.test.ac.jp/{ident}</jpcoar:identifier>'
        "</jpcoar:jpcoar>"
    ).encode()


def oai_dc(title: str, ident: str) -> bytes:
    return (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(title)}</dc:title><dc:type>dataset</dc:type>"
        f"<dc:identifier>https://data.test.ac.jp/{ident}</dc:identifier>"
        "</oai_dc:dc>"
    ).encode()


RENDER = {"jpcoar_2.0": jpcoar2, "jpcoar_1.0": jpcoar1, "oai_dc": oai_dc}


def provenance(identifier: str, datestamp: str) -> bytes:
    return (
        '<provenance xmlns="http://www.openarchives.org/OAI/2.0/provenance">'
        '<originDescription harvestDate="2024-03-01T00:00:00Z" altered="true">'
        "<baseURL>https://weko.test.ac.jp/oai</baseURL>"
        f"<identifier>{escape(identifier)}</identifier>"
        f"<datestamp>{datestamp}</datestamp>"
        "<metadataNamespace>https://github.com/JPCOAR/schema/blob/master/2.0/</metadataNamespace>"
        "</originDescription></provenance>"
    ).encode()


@dataclass
class Seeded:
    """What was written, for the tests' expectations."""

    identifiers: list[str] = field(default_factory=list)  # every published record, in id order
    deleted: set[str] = field(default_factory=set)
    datestamps: dict[str, datetime] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)  # identifier -> setSpecs
    titles: dict[str, str] = field(default_factory=dict)
    with_about: set[str] = field(default_factory=set)
    formats: dict[str, set[str]] = field(default_factory=dict)  # identifier -> stored prefixes

    def live(self) -> list[str]:
        return [i for i in self.identifiers if i not in self.deleted]


def _sets_for(n: int) -> set[str]:
    source = "source:weko" if n % 3 else "source:rdm"
    sets = {"source", source, "access", "access:open" if n % 2 else "access:restricted"}
    if n % 4 == 0:
        sets |= {"funder", "funder:jsps", "project", "project:JP23K00001"}
    return sets


def add_published(
    session: Session,
    source: Source,
    n: int,
    datestamp: datetime,
    *,
    deleted: bool = False,
    prefixes: tuple[str, ...] = PREFIXES,
    sets: set[str] | None = None,
    about: bool = False,
    seeded: Seeded | None = None,
) -> str:
    """One published record (with its Record row), returning its OAI identifier."""
    local = f"{source.name}/{n:04d}"
    identifier = f"oai:{REPO_ID}:{local}"
    title = f"Dataset number {n} & <friends>"
    record = Record(
        source_id=source.id,
        source_identifier=f"oai:{source.name}:{n}",
        local_id=local,
        harvested_at=datestamp,
        disclosure="public",
        status="deleted" if deleted else "published",
        title=title,
        updated_at=datestamp,
    )
    session.add(record)
    session.flush()
    pub = Published(
        record_id=record.id,
        oai_identifier=identifier,
        datestamp=datestamp,
        deleted=deleted,
        about_xml=provenance(f"oai:{source.name}:{n}", "2024-02-01T00:00:00Z") if about and not deleted else None,
    )
    session.add(pub)
    session.flush()
    stored = set() if deleted else set(prefixes)
    for prefix in sorted(stored):
        session.add(PublishedFormat(published_id=pub.id, prefix=prefix, xml=RENDER[prefix](title, local)))
    member_of = _sets_for(n) if sets is None else sets
    for spec in sorted(member_of):
        session.add(PublishedSet(set_spec=spec, published_id=pub.id))
    if seeded is not None:
        seeded.identifiers.append(identifier)
        seeded.datestamps[identifier] = datestamp
        seeded.sets[identifier] = set(member_of)
        seeded.titles[identifier] = title
        seeded.formats[identifier] = stored
        if deleted:
            seeded.deleted.add(identifier)
        if about and not deleted:
            seeded.with_about.add(identifier)
    return identifier


def make_source(session: Session, name: str) -> Source:
    existing = session.scalar(select(Source).where(Source.name == name))
    if existing is not None:
        return existing
    source = Source(name=name, kind="oai-pmh", metadata_prefix="jpcoar_2.0", location=None, created_at=BASE)
    session.add(source)
    session.flush()
    return source


def seed(engine: Engine, *, count: int = 23) -> Seeded:
    """`count` published records over several days (every 5th deleted, one jpcoar_2.0-only), plus hidden records.

    Record n is stamped BASE + n * 7 hours, so records spread over about a week, several on each day.
    """
    seeded = Seeded()
    with Session(engine) as session:
        weko = make_source(session, "weko")
        rdm = make_source(session, "rdm")
        for spec, name in SET_NAMES.items():
            session.add(OaiSet(set_spec=spec, name=name))
        for n in range(1, count + 1):
            source = weko if n % 3 else rdm
            add_published(
                session,
                source,
                n,
                BASE + timedelta(hours=7 * n),
                deleted=n % 5 == 0,
                prefixes=("jpcoar_2.0",) if n == 7 else PREFIXES,
                about=n % 2 == 1,
                seeded=seeded,
            )
        # Non-public records: stored with everything a record has, but never published.
        for k, disclosure in enumerate(("private", "shared", "unknown")):
            session.add(
                Record(
                    source_id=weko.id,
                    source_identifier=f"{SECRET_IDENTIFIER}-{k}",
                    local_id=f"weko/{SECRET_IDENTIFIER}-{k}",
                    harvested_at=BASE,
                    disclosure=disclosure,
                    status="withheld",
                    title=f"{SECRET_TITLE} {k}",
                    canonical_xml=jpcoar2(f"{SECRET_TITLE} {k}", f"{SECRET_IDENTIFIER}-{k}"),
                    raw_xml=jpcoar2(f"{SECRET_TITLE} {k}", f"{SECRET_IDENTIFIER}-{k}"),
                    updated_at=BASE,
                )
            )
        session.commit()
    return seeded


def _next_id(session: Session, table: Any) -> int:
    return (session.scalar(select(func.max(table.c.id))) or 0) + 1


def bulk_publish(
    engine: Engine,
    count: int,
    *,
    source_name: str = "bulk",
    start: datetime = BASE,
    step: timedelta = timedelta(seconds=30),
    prefixes: tuple[str, ...] = ("jpcoar_2.0", "oai_dc"),
    deleted_every: int = 0,
    batch: int = 5000,
) -> list[int]:
    """`count` published records written in batches straight into the tables (no pipeline): big lists, quickly.

    Record k (from 0) is stamped start + k * step; every `deleted_every`-th is a deleted record; sets as `_sets_for`.
    Returns the new published ids in order. Sequences are moved past the explicit ids, so the ORM can add more later.
    """
    records, published = Record.__table__, Published.__table__
    ids: list[int] = []
    with Session(engine) as session:
        source = make_source(session, source_name)
        session.commit()
        first_record, first_published = _next_id(session, records), _next_id(session, published)
        for offset in range(0, count, batch):
            rec_rows, pub_rows, fmt_rows, set_rows = [], [], [], []
            for k in range(offset, min(count, offset + batch)):
                local = f"{source_name}/{k:07d}"
                stamp = start + step * k
                deleted = bool(deleted_every) and k % deleted_every == deleted_every - 1
                rec_rows.append(
                    {
                        "id": first_record + k,
                        "source_id": source.id,
                        "source_identifier": f"oai:{source_name}:{k}",
                        "local_id": local,
                        "harvested_at": stamp,
                        "disclosure": "public",
                        "status": "deleted" if deleted else "published",
                        "source_sets": [],
                        "source_deleted": False,
                        "private": {},
                        "findings": [],
                        "annex3": {},
                        "updated_at": stamp,
                    }
                )
                pub_id = first_published + k
                ids.append(pub_id)
                pub_rows.append(
                    {
                        "id": pub_id,
                        "record_id": first_record + k,
                        "oai_identifier": f"oai:{REPO_ID}:{local}",
                        "datestamp": stamp,
                        "deleted": deleted,
                    }
                )
                if not deleted:
                    title = f"Bulk dataset {k}"
                    fmt_rows += [
                        {"published_id": pub_id, "prefix": prefix, "xml": RENDER[prefix](title, local)}
                        for prefix in prefixes
                    ]
                set_rows += [{"published_id": pub_id, "set_spec": spec} for spec in _sets_for(k)]
            session.execute(insert(records), rec_rows)
            session.execute(insert(published), pub_rows)
            if fmt_rows:
                session.execute(insert(PublishedFormat.__table__), fmt_rows)
            session.execute(insert(PublishedSet.__table__), set_rows)
            session.commit()
        for spec, name in SET_NAMES.items():
            if session.get(OaiSet, spec) is None:
                session.add(OaiSet(set_spec=spec, name=name))
        session.commit()
        if engine.dialect.name == "postgresql":
            for table in ("records", "published"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
            session.commit()
    return ids
