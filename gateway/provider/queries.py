"""The provider's reads. Only the publication tables are touched: `records` holds non-public data and is never read.

Lists are ordered by `published.id` and paged by keyset (`id > last`): ids never change, so a record updated during a
harvest keeps its place, and page 10,000 costs what page 1 costs. A page is two queries whatever its size: the rows
(with the stored format fragment when metadata is wanted) and their set memberships.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from gateway.models import OaiSet, Published, PublishedFormat, PublishedSet


@dataclass(frozen=True)
class Selection:
    """What a list request selects: a metadata format and optional set and datestamp range (upper is exclusive)."""

    prefix: str
    set_spec: str | None = None
    lower: datetime | None = None
    upper: datetime | None = None


@dataclass
class Item:
    """One record as served: header fields, set memberships and (for ListRecords/GetRecord) its stored fragments."""

    id: int
    identifier: str
    datestamp: datetime
    deleted: bool
    sets: list[str] = field(default_factory=list)
    metadata: bytes | None = None
    about: bytes | None = None


def _selected(stmt: Select[Any], selection: Selection) -> Select[Any]:
    # A deleted record has no stored formats yet is served, as a header, in every format.
    stmt = stmt.outerjoin(
        PublishedFormat,
        and_(PublishedFormat.published_id == Published.id, PublishedFormat.prefix == selection.prefix),
    ).where(or_(Published.deleted.is_(True), PublishedFormat.published_id.is_not(None)))
    if selection.lower is not None:
        stmt = stmt.where(Published.datestamp >= selection.lower)
    if selection.upper is not None:
        stmt = stmt.where(Published.datestamp < selection.upper)
    if selection.set_spec is not None:
        stmt = stmt.where(
            exists().where(PublishedSet.published_id == Published.id, PublishedSet.set_spec == selection.set_spec)
        )
    return stmt


def count_items(session: Session, selection: Selection) -> int:
    return session.scalar(_selected(select(func.count()).select_from(Published), selection)) or 0


def page_items(session: Session, selection: Selection, after: int, limit: int, *, with_metadata: bool) -> list[Item]:
    """Up to `limit` items with ids above `after`, in id order, with their sets (and fragments if asked)."""
    columns: list[Any] = [Published.id, Published.oai_identifier, Published.datestamp, Published.deleted]
    if with_metadata:
        columns += [PublishedFormat.xml, Published.about_xml]
    stmt = _selected(select(*columns), selection).where(Published.id > after).order_by(Published.id).limit(limit)
    items = []
    for row in session.execute(stmt):
        item = Item(id=row[0], identifier=row[1], datestamp=row[2], deleted=bool(row[3]))
        if with_metadata and not item.deleted:
            item.metadata, item.about = row[4], row[5]
        items.append(item)
    _attach_sets(session, items)
    return items


def _attach_sets(session: Session, items: list[Item]) -> None:
    if not items:
        return
    by_id = {item.id: item for item in items}
    memberships: dict[int, list[str]] = defaultdict(list)
    stmt = (
        select(PublishedSet.published_id, PublishedSet.set_spec)
        .where(PublishedSet.published_id.in_(by_id))
        .order_by(PublishedSet.published_id, PublishedSet.set_spec)
    )
    for published_id, set_spec in session.execute(stmt):
        memberships[published_id].append(set_spec)
    for published_id, specs in memberships.items():
        by_id[published_id].sets = specs


def find_item(session: Session, identifier: str) -> Item | None:
    """The header of one record by its OAI identifier (no fragments), or None."""
    row = session.execute(
        select(Published.id, Published.oai_identifier, Published.datestamp, Published.deleted).where(
            Published.oai_identifier == identifier
        )
    ).first()
    if row is None:
        return None
    return Item(id=row[0], identifier=row[1], datestamp=row[2], deleted=bool(row[3]))


def load_record(session: Session, item: Item, prefix: str) -> bool:
    """Fill `item` with its sets and, unless deleted, its fragment in `prefix`; False when it has none."""
    _attach_sets(session, [item])
    if item.deleted:
        return True
    row = session.execute(
        select(PublishedFormat.xml, Published.about_xml)
        .join(Published, Published.id == PublishedFormat.published_id)
        .where(PublishedFormat.published_id == item.id, PublishedFormat.prefix == prefix)
    ).first()
    if row is None:
        return False
    item.metadata, item.about = row[0], row[1]
    return True


def item_prefixes(session: Session, item_id: int) -> set[str]:
    return set(session.scalars(select(PublishedFormat.prefix).where(PublishedFormat.published_id == item_id)))


def has_sets(session: Session) -> bool:
    return session.scalar(select(exists().where(OaiSet.set_spec.is_not(None)))) or False


def count_sets(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OaiSet)) or 0


def page_sets(session: Session, after: str | None, limit: int) -> list[tuple[str, str]]:
    stmt = select(OaiSet.set_spec, OaiSet.name).order_by(OaiSet.set_spec).limit(limit)
    if after is not None:
        stmt = stmt.where(OaiSet.set_spec > after)
    return [(spec, name) for spec, name in session.execute(stmt)]


def earliest_datestamp(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Published.datestamp)))


def first_identifier(session: Session) -> str | None:
    return session.scalar(select(Published.oai_identifier).order_by(Published.id).limit(1))
