"""The DMP as a second gate: a record whose DMP dataset says its metadata is shared or private is not published.

The food-safety guideline has the principal investigator register only the metadata the DMP marks 公開 (§6). The
source's own disclosure is the first gate (gateway.policy); the project's current DMP is the second, and it can only
narrow: a dataset whose メタデータの公開/共有/非共有 is 共有 (shared) or 非共有 (private) keeps its record withheld
even when the source calls it public, and a DMP saying 公開 never publishes what its source withholds.

What the DMP says of a record is a finding (rule `dmp-disclosure`, severity warning, naming the project, the DMP
version and the dataset), kept with the record's findings, so that every later decision — a harvest, a remap, the
duplicate rule (gateway.dmp.duplicates) — reads it from the stored record without the DMP. `dmp_findings` is how a
harvest finds it, one query per page (the current DMP datasets of the page's grant numbers, matched by the records'
keys); `regate` re-decides the records of projects whose DMP was just imported (gateway.dmp.versions calls it inside
the import's transaction) and brings the publication tables in line.

A record is matched to a dataset of its project's DMP in the order the reconciliation uses (gateway.dmp.matching):
the data number under the grant number, a DOI, another persistent identifier, then the normalised title — a title
only where the dataset and the record do not both carry a data number (two numbers that differ tell them apart).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from gateway.commonitems import split_pair
from gateway.db import chunks
from gateway.dmp import duplicates
from gateway.dmp.keys import JGN, NUMBER, PID, TITLE, normal_jgn, normal_number, normal_title, pid_scheme
from gateway.models import DmpDataset, DmpVersion, FindingSnapshot, Record, RecordKey
from gateway.validate import Finding, finding

RULE = duplicates.DMP_RULE
#: the DMP's metadata disclosures that keep a record unpublished
NARROWING = {"shared": "共有", "private": "非共有"}
_HOW = ("data number", "doi", "identifier", "title")
_R = Record.__table__
_K = RecordKey.__table__


@dataclass
class _Declared:
    """One dataset of a project's current DMP version, with its keys in the records' normal forms."""

    jgn: str
    version: int
    position: int
    name: str
    disclosure: str | None
    keys: dict[str, set[str]] = field(default_factory=dict)



def _declared(session: Session, jgns: set[str]) -> dict[str, list[_Declared]]:
    """The datasets of the current DMP version of each of `jgns`, in DMP order (one query per 500 projects)."""
    out: dict[str, list[_Declared]] = defaultdict(list)
    columns = (
        DmpVersion.jgn, DmpVersion.version, DmpDataset.position, DmpDataset.number, DmpDataset.name,
        DmpDataset.pids, DmpDataset.metadata_disclosure, DmpDataset.items,
    )  # fmt: skip
    for chunk in chunks(sorted(jgns)):
        query = (
            select(*columns)
            .join(DmpVersion, DmpVersion.id == DmpDataset.version_id)
            .where(DmpVersion.current.is_(True), DmpVersion.jgn.in_(chunk))
            .order_by(DmpVersion.jgn, DmpDataset.position, DmpDataset.id)
        )
        for jgn, version, position, number, name, pids, disclosure, items in session.execute(query):
            keys: dict[str, set[str]] = {how: set() for how in _HOW}
            if number and normal_number(number):
                keys["data number"].add(normal_number(number))
            for pid in pids or []:
                keys[pid_scheme(str(pid))].add(str(pid))
            names = [name, *split_pair(str((items or {}).get("name") or ""))]
            keys["title"] = {t for t in (normal_title(n) for n in names if n) if t}
            out[normal_jgn(jgn)].append(_Declared(normal_jgn(jgn), version, position, name, disclosure, keys))
    return out


def _record_keys(keys: Iterable[tuple[str, str]]) -> tuple[list[str], dict[str, dict[str, set[str]]]]:
    """A record's grant numbers, and its keys by how they match under each grant number."""
    jgns: list[str] = []
    pids: dict[str, set[str]] = {"doi": set(), "identifier": set()}
    numbers: dict[str, set[str]] = defaultdict(set)
    titles: dict[str, set[str]] = defaultdict(set)
    for kind, value in keys:
        if kind == JGN:
            jgns.append(value)
        elif kind == PID:
            pids[pid_scheme(value)].add(value)
        elif kind in (NUMBER, TITLE):
            jgn, _, rest = value.partition("/")
            (numbers if kind == NUMBER else titles)[jgn].add(rest)
    out = {j: {"data number": numbers[j], "doi": pids["doi"], "identifier": pids["identifier"], "title": titles[j]}
           for j in jgns}  # fmt: skip
    return jgns, out


def _match(declared: list[_Declared], held: dict[str, set[str]]) -> _Declared | None:
    for how in _HOW:
        for dataset in declared:
            if how == "title" and dataset.keys["data number"] and held["data number"]:
                continue
            if dataset.keys[how] & held[how]:
                return dataset
    return None


def _finding(dataset: _Declared) -> Finding:
    disclosure = dataset.disclosure or ""
    message = (
        f"withheld by the DMP: project {dataset.jgn}, DMP version {dataset.version}, dataset {dataset.position} "
        f"'{dataset.name}' says its metadata is {NARROWING[disclosure]} ({disclosure}), not 公開 (public)"
    )
    return finding("warning", "policy", message, rule=RULE, value=disclosure)


def dmp_findings(session: Session, keysets: Sequence[Iterable[tuple[str, str]]]) -> list[Finding | None]:
    """For each record (given by its keys: gateway.dmp.keys.keys_of_view), the finding of the DMP dataset that keeps
    it withheld, or None; one query for all of them (none when no record has a grant number)."""
    records = [_record_keys(keys) for keys in keysets]
    wanted = {j for jgns, _ in records for j in jgns}
    declared = _declared(session, wanted) if wanted else {}
    out: list[Finding | None] = []
    for jgns, held in records:
        found = None
        for jgn in jgns:
            dataset = _match(declared.get(jgn, []), held[jgn]) if jgn in declared else None
            if dataset is not None and dataset.disclosure in NARROWING:
                found = _finding(dataset)
                break
        out.append(found)
    return out



def regate(session: Session, jgns: Iterable[str], *, now: datetime, repository_identifier: str | None = None) -> int:
    """Re-decide the stored records of these projects against their current DMP, and publish or withdraw them.

    Called at the end of a DMP import, in its transaction. A record the new version narrows becomes an OAI-PMH
    deleted record if it was published; one the DMP withheld and no longer does is published again (rendered from its
    stored canonical record: no source is read). Returns how many records changed status.
    """
    values = sorted({normal_jgn(j) for j in jgns if j and normal_jgn(j)})
    ids: list[int] = []
    for chunk in chunks(values):
        ids += session.scalars(
            select(_K.c.record_id)
            .join(_R, _R.c.id == _K.c.record_id)
            .where(_K.c.kind == JGN, _K.c.value.in_(chunk), _R.c.source_deleted.is_(False))
        ).all()
    ids = sorted(set(ids))
    if not ids:
        return 0
    keys: dict[int, list[tuple[str, str]]] = defaultdict(list)
    stored: dict[int, Any] = {}
    for chunk in chunks(ids):
        for record_id, kind, value in session.execute(
            select(_K.c.record_id, _K.c.kind, _K.c.value).where(_K.c.record_id.in_(chunk))
        ):
            keys[record_id].append((kind, value))
        for row in session.execute(select(_R.c.id, _R.c.findings, _R.c.status).where(_R.c.id.in_(chunk))):
            stored[row.id] = row
    gates = dmp_findings(session, [keys[i] for i in ids])
    changed: dict[int, list[Finding]] = {}
    for record_id, gate in zip(ids, gates, strict=True):
        old = list(stored[record_id].findings or [])
        new = [f for f in old if f.get("rule") != RULE] + ([gate] if gate else [])
        if new != old:
            changed[record_id] = new
    if changed:
        session.execute(
            update(_R).where(_R.c.id == bindparam("b_id")),
            [{"b_id": i, "findings": f} for i, f in changed.items()],
        )
    targets = duplicates.redecide(session, ids, now=now, repository_identifier=repository_identifier)
    moved = [i for i in ids if i in targets and targets[i].status != stored[i].status]
    history = [
        {"record_id": i, "run_id": None, "created_at": now, "status": targets[i].status if i in targets
         else stored[i].status, "findings": changed.get(i, list(stored[i].findings or []))}
        for i in ids if i in changed or i in moved
    ]  # fmt: skip
    if history:
        session.execute(insert(FindingSnapshot.__table__), history)
    return len(moved)
