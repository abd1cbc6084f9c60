"""A project's DMP kept as versions: every import is a new version, the newest is current, and what it changed is kept.

The food-safety guideline asks the principal investigator to keep the DMP's history (§5 2)-3) and AMED asks for a
DMP at the start, on every change and at the end; the gateway therefore never overwrites a DMP. `import_file` reads a
whole file first (gateway.dmp.reading: a file that cannot be read changes nothing; bad rows are held and the rest
imports), then, in one transaction, stores each of its projects as a new `DmpVersion` with its `DmpDataset`s, marks
it current, records what changed against the version before (gateway.dmp.changes), updates the project's period in
the `projects` table (which the registration deadlines read), and lets the DMP gate re-decide the project's records
(gateway.dmp.gating). A sheet of project periods only (`gateway projects import`) is a DMP layout too: its version
keeps the datasets of the version before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.db import transaction, utcnow
from gateway.dmp import changes as changes_mod
from gateway.dmp import gating
from gateway.dmp.declared import current, current_datasets
from gateway.dmp.reading import DmpFile, DmpImportError, HeldRow, Project, read_file
from gateway.models import DmpDataset, DmpVersion
from gateway.models import Project as StoredProject

__all__ = [
    "ORIGIN_DMP",
    "DmpImportError",
    "DmpImportResult",
    "ProjectImport",
    "current",
    "current_datasets",
    "history",
    "import_file",
    "projects",
    "store",
]

ORIGIN_DMP = "dmp"  # projects.origin of a period that came from a DMP


@dataclass(frozen=True)
class ProjectImport:
    """What one import did to one project."""

    jgn: str
    version: int
    datasets: int  # the datasets of the new version (carried over ones included)
    changes: dict[str, Any]
    period: str  # added | updated | unchanged: the project's row in the `projects` table

    def summary(self, lang: str = "en") -> str:
        return changes_mod.describe(self.changes, lang)


@dataclass
class DmpImportResult:
    file: str
    layout: str  # table | form | projects
    projects: list[ProjectImport] = field(default_factory=list)
    held: list[HeldRow] = field(default_factory=list)
    imported: int = 0  # datasets read from the file and stored
    rows: int = 0  # rows (AMED's form: dataset columns) imported

    @property
    def versions(self) -> list[tuple[str, int]]:
        return [(p.jgn, p.version) for p in self.projects]

    @property
    def held_rows(self) -> int:
        """Rows held (a row with several errors counts once; in AMED's form, a dataset's column)."""
        if self.layout == "form":
            return len({h.column for h in self.held})
        return len({h.row for h in self.held})

    def count(self, state: str) -> int:
        """Projects whose stored period was `state` (added, updated, unchanged)."""
        return sum(1 for p in self.projects if p.period == state)


def import_file(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    now: datetime | None = None,
    repository_identifier: str | None = None,
) -> DmpImportResult:
    """Read and check the whole file, then store each of its projects as a new current version in one transaction;
    the rows held with errors are in `.held`. Raises `DmpImportError` (nothing stored) for a file that cannot be read.
    `repository_identifier` (the configuration's) names the OAI identifiers of records the DMP gate re-publishes.
    """
    dmp = read_file(path)
    return store(sessions, dmp, file_name=path.name, now=now, repository_identifier=repository_identifier)


def store(
    sessions: sessionmaker[Session],
    dmp: DmpFile,
    *,
    file_name: str | None,
    now: datetime | None = None,
    repository_identifier: str | None = None,
) -> DmpImportResult:
    """Store a DMP already read (see `import_file`)."""
    when = now or utcnow()
    result = DmpImportResult(file=file_name or "", layout=dmp.layout, held=list(dmp.held))
    with transaction(sessions) as session:
        for project in dmp.projects:
            result.projects.append(_store_project(session, project, dmp, file_name, when))
            result.rows += len(project.rows)
            if dmp.declares_datasets:
                result.imported += len(project.datasets)
        session.flush()
        jgns = [p.jgn for p in dmp.projects]
        if jgns:
            gating.regate(session, jgns, now=when, repository_identifier=repository_identifier)
    return result



def _snapshots(datasets: list[DmpDataset]) -> list[dict[str, Any]]:
    return [
        changes_mod.snapshot(d.key, d.number, d.name, {f: getattr(d, f) for f in changes_mod.FIELDS})
        for d in datasets
    ]


def _store_project(session: Session, project: Project, dmp: DmpFile, file_name: str | None,
                   when: datetime) -> ProjectImport:
    before = current(session, project.jgn)
    number = (session.scalar(select(func.max(DmpVersion.version)).where(DmpVersion.jgn == project.jgn)) or 0) + 1
    previous = _datasets_of(session, before) if before is not None else []
    first_seen: dict[str, int] = dict(
        session.execute(
            select(DmpDataset.key, func.min(DmpDataset.first_version))
            .join(DmpVersion, DmpVersion.id == DmpDataset.version_id)
            .where(DmpVersion.jgn == project.jgn)
            .group_by(DmpDataset.key)
        ).all()
    )
    if before is not None:
        before.current = False
        session.flush()  # one current version per project at any moment, also to a reader of the same transaction
    carried = not dmp.declares_datasets
    keep = before if carried else None  # a sheet of periods says nothing of the datasets, nor of the PI
    version = DmpVersion(
        jgn=project.jgn,
        version=number,
        current=True,
        dmp_date=project.dmp_date or (keep.dmp_date if keep else None),
        imported_at=when,
        file_name=file_name,
        layout=dmp.layout,
        declares_datasets=dmp.declares_datasets,
        name_ja=project.name_ja,
        name_en=project.name_en,
        program=project.program,
        funder=project.funder,
        start_date=project.start,
        end_date=project.end,
        investigator=dict(project.investigator or (keep.investigator if keep else {})),
        private=dict(project.private or (keep.private if keep else {})),
        revisions=list(project.revisions or (keep.revisions if keep else [])),
        changes={},
    )
    session.add(version)
    session.flush()
    stored: list[DmpDataset] = []
    kept: list[DmpDataset] = []
    if carried:
        stored = [_copy(d, version.id, d.position) for d in previous]
    else:
        for position, d in enumerate(project.datasets, 1):
            stored.append(DmpDataset(
                version_id=version.id, position=position, key=d.key, number=d.number, name=d.name,
                metadata_disclosure=d.metadata_disclosure, access_right=d.access_right, sharing=d.sharing,
                planned_date=d.planned_date, first_version=first_seen.get(d.key, number), pids=list(d.pids),
                staff=list(d.staff), items=dict(d.items), row=d.where,
            ))
        # A dataset whose row is held is not dropped from the DMP (which would make its record undeclared and so
        # free of the DMP's narrowing): the version before's entry stands for it until the row is fixed.
        new_keys = {d.key for d in stored}
        earlier = {d.key: d for d in previous}
        for key in project.held_keys:
            if key in earlier and key not in new_keys:
                kept.append(_copy(earlier[key], version.id, len(stored) + len(kept) + 1))
        stored += kept
    session.add_all(stored)
    version.changes = changes_mod.compare(
        _snapshots(previous) if before is not None else None,
        _snapshots(stored),
        period_before=(before.start_date, before.end_date) if before is not None else None,
        period_after=(project.start, project.end),
        name_before=(before.name_ja or before.name_en) if before is not None else None,
        name_after=project.name_ja or project.name_en,
        carried_from=before.version if carried and before is not None else None,
    )
    if kept and before is not None:
        version.changes = {**version.changes, "kept": [
            {"key": d.key, "number": d.number, "name": d.name, "version": before.version} for d in kept]}
    period = _store_period(session, project, dmp.layout, file_name, when)
    return ProjectImport(project.jgn, number, len(stored), version.changes, period)


def _copy(d: DmpDataset, version_id: int, position: int) -> DmpDataset:
    return DmpDataset(
        version_id=version_id, position=position, key=d.key, number=d.number, name=d.name,
        metadata_disclosure=d.metadata_disclosure, access_right=d.access_right, sharing=d.sharing,
        planned_date=d.planned_date, first_version=d.first_version, pids=list(d.pids or []),
        staff=list(d.staff or []), items=dict(d.items or {}), row=d.row,
    )


def _store_period(session: Session, project: Project, layout: str, file_name: str | None, when: datetime) -> str:
    """The project's row of the `projects` table (the registration deadlines read it): added, updated or unchanged.
    A sheet of periods gives every field; a DMP form that leaves out the funder, the program or a name keeps the
    stored one rather than erasing it."""
    fields = {
        "name_ja": project.name_ja,
        "name_en": project.name_en,
        "funder": project.funder,
        "program": project.program,
        "start_date": project.start,
        "end_date": project.end,
    }
    row = session.scalar(select(StoredProject).where(StoredProject.jgn == project.jgn))
    if row is None:
        session.add(StoredProject(jgn=project.jgn, origin=ORIGIN_DMP, file_name=file_name, imported_at=when, **fields))
        return "added"
    if layout != "projects":
        fields = {k: (getattr(row, k) if v is None else v) for k, v in fields.items()}
    state = "unchanged" if all(getattr(row, k) == v for k, v in fields.items()) else "updated"
    for key, value in fields.items():
        setattr(row, key, value)
    row.origin, row.file_name, row.imported_at = ORIGIN_DMP, file_name, when
    return state


def _datasets_of(session: Session, version: DmpVersion) -> list[DmpDataset]:
    return list(session.scalars(
        select(DmpDataset).where(DmpDataset.version_id == version.id).order_by(DmpDataset.position)
    ))


def history(session: Session, jgn: str) -> list[dict[str, Any]]:
    """Every version of a project's DMP, oldest first, as plain data (what the CLI, the API and the dashboard show)."""
    counts = dict(session.execute(
        select(DmpDataset.version_id, func.count(DmpDataset.id))
        .join(DmpVersion, DmpVersion.id == DmpDataset.version_id)
        .where(DmpVersion.jgn == jgn)
        .group_by(DmpDataset.version_id)
    ).all())
    out = []
    for v in session.scalars(select(DmpVersion).where(DmpVersion.jgn == jgn).order_by(DmpVersion.version)):
        out.append({
            "jgn": v.jgn,
            "version": v.version,
            "current": bool(v.current),
            "imported_at": v.imported_at.strftime("%Y-%m-%d %H:%M:%S"),
            "dmp_date": v.dmp_date.isoformat() if v.dmp_date else None,
            "file": v.file_name,
            "layout": v.layout,
            "start": v.start_date.isoformat(),
            "end": v.end_date.isoformat(),
            "datasets": int(counts.get(v.id, 0)),
            "changes": v.changes or {},
            "summary": changes_mod.describe(v.changes or {}, "en"),
            "summary_ja": changes_mod.describe(v.changes or {}, "ja"),
        })
    return out


def projects(session: Session) -> list[dict[str, Any]]:
    """Every project with a DMP: its current version, period and datasets, by Japan Grant Number."""
    counts = dict(session.execute(
        select(DmpVersion.jgn, func.count(DmpDataset.id))
        .join(DmpDataset, DmpDataset.version_id == DmpVersion.id)
        .where(DmpVersion.current.is_(True))
        .group_by(DmpVersion.jgn)
    ).all())
    out = []
    for v in session.scalars(select(DmpVersion).where(DmpVersion.current.is_(True)).order_by(DmpVersion.jgn)):
        out.append({
            "jgn": v.jgn,
            "name": v.name_ja or v.name_en,
            "name_en": v.name_en,
            "version": v.version,
            "versions": v.version,
            "start": v.start_date.isoformat(),
            "end": v.end_date.isoformat(),
            "datasets": int(counts.get(v.jgn, 0)),
            "dmp_date": v.dmp_date.isoformat() if v.dmp_date else None,
            "imported_at": v.imported_at.strftime("%Y-%m-%d %H:%M:%S"),
            "file": v.file_name,
            "layout": v.layout,
        })
    return out
