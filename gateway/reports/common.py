"""What every report shares: its error, the data access categories it counts by, and the small reading helpers.

What is counted (DESIGN section 7): every record the gateway *holds* — published, withheld or quarantined. A deleted
record (status "deleted": gone at its source, or withdrawn) is a tombstone kept for aggregators, not a record the
project has, so no report counts it: `HELD` is the condition every report's query starts from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from gateway.models import Record, Source

#: the records a report reads: every one the gateway holds, none deleted, and each dataset once (a record held
#: from a second source is the duplicate of the one served: gateway.dmp.duplicates)
HELD = and_(Record.status != "deleted", Record.duplicate_of.is_(None))
#: ids per IN (...) list: well under SQLite's bound variables limit
CHUNK = 500


class ReportError(ValueError):
    """A report cannot be made as asked (an unknown source, a format that needs a file, ...)."""


@dataclass(frozen=True)
class AccessCategory:
    key: str
    label_ja: str
    label_en: str
    access_right: str | None  # the value of Record.access_right; None for "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label_ja": self.label_ja, "label_en": self.label_en}


# In the order the funders' databases ask for them; "unknown" holds records without a valid access right (they are
# quarantined by validation, but still held and counted) and is shown only when it is not zero.
ACCESS_CATEGORIES: tuple[AccessCategory, ...] = (
    AccessCategory("open", "公開", "open access", "open"),
    AccessCategory("restricted", "共有", "restricted access", "restricted"),
    AccessCategory("metadata_only", "非公開・非共有", "metadata only access", "metadata-only"),
    AccessCategory("embargoed", "公開猶予", "embargoed access", "embargoed"),
    AccessCategory("unknown", "不明", "unknown", None),
)
_CATEGORY_BY_RIGHT = {c.access_right: c.key for c in ACCESS_CATEGORIES if c.access_right}


def category(access_right: str | None) -> str:
    """The key of the access category a record's access right falls in ("unknown" for none or an invalid one)."""
    return _CATEGORY_BY_RIGHT.get(access_right or "", "unknown")


def source_id(session: Session, source: str) -> int:
    """The id of the source named `source`; a ReportError that lists the known sources when there is none."""
    found = session.scalar(select(Source.id).where(Source.name == source))
    if found is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name))) or "none"
        raise ReportError(f"no source named {source!r} in the database (known: {known})")
    return found


_DATE_PREFIX = re.compile(r"^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_date(value: str | None) -> date | None:
    """The first day a W3CDTF date can mean (2030-04 is 2030-04-01): an embargo is reported early, never late."""
    match = _DATE_PREFIX.match(value or "")
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
