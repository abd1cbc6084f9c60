"""Project periods from a DMP (`gateway projects import|list`), kept for the registration deadlines.

A sheet of project periods (体系的番号, 研究課題名, 研究開始日, 研究終了日, ...) is one of the DMP layouts
gateway.dmp.reading knows, so importing one is a DMP import (gateway.dmp.versions): every project of the file becomes
a new DMP version (keeping the datasets of the version before) and its period is stored in the `projects` table,
which the registration-deadline report (`gateway.reports.deadlines`) reads; a `[[projects]]` entry in the
configuration with the same Japan Grant Number wins. This module keeps the counts `gateway projects import` has always
reported (projects added, updated, unchanged) and the plain listing of the stored periods.

The file is read and every row checked before anything is stored. A row that cannot be read is *held*: reported with
its file, row, column, value and what is expected, and not stored; the other rows are imported. A file that cannot be
read at all is a `ProjectImportError` (the DMP reader's `DmpImportError`) and changes nothing. Projects not in the
file are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.dmp.reading import DmpImportError, HeldRow
from gateway.dmp.versions import ORIGIN_DMP
from gateway.dmp.versions import import_file as import_dmp
from gateway.models import Project

__all__ = ["ORIGIN_DMP", "HeldRow", "ImportResult", "ProjectImportError", "import_file", "stored"]

ProjectImportError = DmpImportError


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    held: tuple[HeldRow, ...] = ()

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    @property
    def held_rows(self) -> int:
        """Rows held (a row with several errors counts once)."""
        return len({h.row for h in self.held})


def import_file(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    now: datetime | None = None,
    repository_identifier: str | None = None,
) -> ImportResult:
    """Import a DMP (any layout) and count what happened to the projects' periods; rows held are in `.held`."""
    result = import_dmp(sessions, path, now=now, repository_identifier=repository_identifier)
    return ImportResult(result.count("added"), result.count("updated"), result.count("unchanged"),
                        tuple(result.held))


def stored(session: Session) -> list[dict[str, Any]]:
    """Every stored project, by Japan Grant Number, as plain data."""
    return [
        {
            "jgn": p.jgn,
            "name_ja": p.name_ja,
            "name_en": p.name_en,
            "funder": p.funder,
            "program": p.program,
            "start": p.start_date.isoformat(),
            "end": p.end_date.isoformat(),
            "origin": p.origin,
            "file": p.file_name,
            "imported_at": p.imported_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for p in session.scalars(select(Project).order_by(Project.jgn))
    ]
