"""The provider's reads. Only the publication tables are touched: `records` holds non-public data and is never read.

Lists are ordered by `published.id` and paged by keyset (`id > last`): ids never change, so a record updated during a
harvest keeps its place, and page 10,000 costs what page 1 costs. A set-selective list is driven by the primary key of
`published_sets` (set_spec, published_id), which yields the members of one set in id order without reading the others.
A page is one query whatever its size: the rows, with their stored headers (and the stored format fragment when metadata
is wanted); only rows written before headers were stored need a second query, for their set memberships.

Why not (datestamp, id), the other common keyset: a record changed during a walk would move behind the position and be
served twice, or, with the walk capped at its start, be skipped. Ordering by id keeps every record where it was.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from gateway.models import OaiSet, Published, PublishedFormat, PublishedSet

# Above this many records completeListSize is omitted (it is optional): counting a million rows for every walk that
# starts would cost more than the pages themselves. Below it the count is exact.
EXACT_COUNT_LIMIT = 100_000


@dataclass(frozen=True)
class Selection:
    """What a list request selects: a metadata format and optional set and datestamp range (upper is exclusive).

    `seen` and `top` describe the walk a resumed request belongs to: records that existed when it began (id up to
    `top`) and were changed after the last publication change it could see (`change` above `seen`) stay in an
    `until`-bounded list although their new datestamp is past the bound. Otherwise such a record would silently drop
    out of the walk that was listing it, and a walk must return every record that was in its list and is still public.
    Change numbers, not datestamps, decide: a record changed just before the walk began is not taken along. Both are
    None on a first page.
    """

    prefix: str
    set_spec: str | None = None
    lower: datetime | None = None
    upper: datetime | None = None
    seen: int | None = None
    top: int | None = None


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
    header: bytes | None = None  # the header as stored at publish time (None for rows written before it was)


def _key(selection: Selection) -> Any:
    # The same value either way (the join is on it), but only a condition on the driving table's own column lets the
    # planner walk that table's index from the position on.
    return PublishedSet.published_id if selection.set_spec is not None else Published.id


def _selected(stmt: Select[Any], selection: Selection, after: int | None = None) -> Select[Any]:
    if selection.set_spec is not None:
        # A join, not EXISTS: the primary key (set_spec, published_id) makes it one row per member, in id order.
        stmt = stmt.select_from(PublishedSet).join(
            Published, and_(Published.id == PublishedSet.published_id, PublishedSet.set_spec == selection.set_spec)
        )
    formats = and_(PublishedFormat.published_id == Published.id, PublishedFormat.prefix == selection.prefix)
    if after is not None:
        # Implied by the join, but stated so that a merge join starts reading formats at the position, not at id 1.
        formats = and_(formats, PublishedFormat.published_id > after)
    # A deleted record has no stored formats yet is served, as a header, in every format.
    stmt = stmt.outerjoin(PublishedFormat, formats).where(
        or_(Published.deleted.is_(True), PublishedFormat.published_id.is_not(None))
    )
    if selection.lower is not None:
        stmt = stmt.where(Published.datestamp >= selection.lower)
    if selection.upper is not None:
        in_range: Any = Published.datestamp < selection.upper
        if selection.seen is not None and selection.top is not None:
            changed = and_(Published.change > selection.seen, Published.id <= selection.top)
            in_range = or_(in_range, changed)
        stmt = stmt.where(in_range)
    return stmt


def count_items(session: Session, selection: Selection, limit: int | None = None) -> tuple[int | None, int, int]:
    """The number of items selected (None when above `limit`), the highest record id and the last publication change
    visible now, in one query."""
    limit = EXACT_COUNT_LIMIT if limit is None else limit
    members = _selected(select(Published.id), selection).limit(limit + 1).subquery()
    counted = select(func.count()).select_from(members).scalar_subquery()
    highest = select(func.max(Published.id)).scalar_subquery()
    last_change = select(func.max(Published.change)).scalar_subquery()
    row = session.execute(select(counted, highest, last_change)).one()
    count = int(row[0] or 0)
    return (count if count <= limit else None), int(row[1] or 0), int(row[2] or 0)


def page_items(session: Session, selection: Selection, after: int, limit: int, *, with_metadata: bool) -> list[Item]:
    """Up to `limit` items with ids above `after`, in id order, with their sets (and fragments if asked)."""
    columns: list[Any] = [Published.id, Published.oai_identifier, Published.datestamp, Published.deleted]
    columns.append(Published.header_xml)
    if with_metadata:
        columns += [PublishedFormat.xml, Published.about_xml]
    key = _key(selection)
    stmt = _selected(select(*columns), selection, after).where(key > after).order_by(key).limit(limit)
    items = []
    # Core rows through the session's connection: the ORM's result machinery costs more than the rows themselves.
    for row in session.connection().execute(stmt):
        item = Item(id=row[0], identifier=row[1], datestamp=row[2], deleted=bool(row[3]), header=row[4])
        if with_metadata and not item.deleted:
            item.metadata, item.about = row[5], row[6]
        items.append(item)
    # Set memberships are read only for rows that predate stored headers.
    _attach_sets(session, [item for item in items if item.header is None])
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
    for published_id, set_spec in session.connection().execute(stmt):
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


def get_item(session: Session, identifier: str, prefix: str) -> tuple[Item | None, bool]:
    """One record by its OAI identifier with its stored header and its fragment in `prefix`, in one query; and
    whether it is available in that format (a deleted record is, as a header)."""
    formats = and_(PublishedFormat.published_id == Published.id, PublishedFormat.prefix == prefix)
    row = session.connection().execute(
        select(
            Published.id, Published.oai_identifier, Published.datestamp, Published.deleted, Published.header_xml,
            PublishedFormat.xml, Published.about_xml,
        )
        .outerjoin(PublishedFormat, formats)
        .where(Published.oai_identifier == identifier)
    ).first()  # fmt: skip
    if row is None:
        return None, False
    item = Item(id=row[0], identifier=row[1], datestamp=row[2], deleted=bool(row[3]), header=row[4])
    if item.header is None:
        _attach_sets(session, [item])  # a row written before headers were stored
    if item.deleted:
        return item, True
    item.metadata, item.about = row[5], row[6]
    return item, row[5] is not None


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
