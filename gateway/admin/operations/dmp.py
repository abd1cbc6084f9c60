"""The DMPs as the dashboard and the API show them, and DMP files uploaded through the API imported as versions.

The same functions as `gateway dmp list|history|import` (gateway.dmp.versions), answered as plain data, so that the
three surfaces give the same numbers. An upload is read whole before anything is stored: one file that cannot be
read refuses the whole request and changes nothing; held rows are listed in the answer, and the rest is imported.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gateway.dmp import reading, versions

__all__ = ["dmp_history", "dmp_projects", "held_row", "import_uploads", "upload_name"]


def dmp_projects(session: Session) -> dict[str, Any]:
    return {"projects": versions.projects(session)}


def dmp_history(session: Session, jgn: str) -> dict[str, Any] | None:
    """A project's versions, oldest first; None when no DMP of it was imported."""
    rows = versions.history(session, jgn)
    if not rows:
        return None
    return {"project": jgn, "versions": rows}


def held_row(held: reading.HeldRow) -> dict[str, Any]:
    return {
        "file": held.file,
        "row": held.row,
        "column": held.column,
        "value": held.value,
        "message": held.message,
        "expected": held.expected,
        "text": str(held),
    }


def upload_name(name: str | None) -> str:
    """The file name of an upload, without any folder a browser or client put in front of it; DmpImportError when it
    is not a .xlsx or .csv name (the reader tells the two apart by it)."""
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    if not base or any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        raise reading.DmpImportError("the upload has no usable file name (a .xlsx or .csv file is expected)")
    if not base.lower().endswith(reading.SUFFIXES):
        raise reading.DmpImportError(f"{base}: not a .xlsx or .csv file")
    return base


def import_uploads(
    sessions: sessionmaker[Session], uploads: list[tuple[str, bytes]], *, repository_identifier: str | None = None
) -> dict[str, Any]:
    """Read every uploaded file (name, bytes), then import each as `gateway dmp import` does."""
    read = [(name, reading.parse(data, name)) for name, data in uploads]  # raises before anything is stored
    files = []
    for name, dmp in read:
        result = versions.store(sessions, dmp, file_name=name, repository_identifier=repository_identifier)
        files.append({
            "file": name,
            "layout": result.layout,
            "rows": result.rows,
            "imported": result.imported,
            "held_rows": result.held_rows,
            "projects": [
                {
                    "jgn": p.jgn,
                    "version": p.version,
                    "datasets": p.datasets,
                    "period": p.period,
                    "changes": p.changes,
                    "summary": p.summary("en"),
                    "summary_ja": p.summary("ja"),
                }
                for p in result.projects
            ],
            "held": [held_row(h) for h in result.held],
        })
    return {
        "files": files,
        "rows": sum(f["rows"] for f in files),
        "held_rows": sum(f["held_rows"] for f in files),
    }
