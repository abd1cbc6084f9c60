"""What the current DMPs declare: each project's current version and its datasets, read without importing anything.

Kept apart from gateway.dmp.versions (which re-exports both functions) because the import of a DMP ends by calling
the DMP gate (gateway.dmp.gating), and the gate and the matching need these reads: they import this module, never
gateway.dmp.versions, so there is no import loop.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import DmpDataset, DmpVersion

__all__ = ["current", "current_datasets"]


def current(session: Session, jgn: str) -> DmpVersion | None:
    """The current (newest) DMP version of a project, or None when none was imported."""
    return session.scalar(select(DmpVersion).where(DmpVersion.jgn == jgn, DmpVersion.current.is_(True)))


def current_datasets(session: Session, jgn: str | None = None) -> list[DmpDataset]:
    """The datasets of each project's current version (of one project with `jgn`), by project and DMP order."""
    query = (
        select(DmpDataset)
        .join(DmpVersion, DmpVersion.id == DmpDataset.version_id)
        .where(DmpVersion.current.is_(True))
        .order_by(DmpVersion.jgn, DmpDataset.position)
    )
    if jgn is not None:
        query = query.where(DmpVersion.jgn == jgn)
    return list(session.scalars(query))
