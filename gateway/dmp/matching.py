"""Which held record is which dataset of a project's DMP: the reconciliation every DMP report starts from.

The guideline asks the principal investigator to know, through the DMP, what is registered (§5 3)-2); the gateway
answers by matching each dataset of the project's current DMP version to the records it holds for that project.
The keys are tried from the most to the least certain, each over every dataset before the next is tried, so that a
title never takes a record that a data number would have given to another dataset:

1. the data number (データNo.) under the project's grant number;
2. the DOI;
3. another persistent identifier (a Handle, an ARK);
4. the normalised title — unless the dataset and the record both have a data number and the numbers differ.

One record is matched to at most one dataset, and every match says how it was made. Records considered are those
the reports count: held (not deleted), not the duplicate of another record (gateway.dmp.gating), and carrying the
project's grant number in their fundings or their Annex-3 view. Keys are read from each record's Annex-3 view with
the same normal forms as the DMP's (gateway.dmp.keys), so the match does not depend on `record_keys` being filled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.commonitems import split_pair
from gateway.dmp import versions
from gateway.dmp.keys import NUMBER, PID, TITLE, keys_of_view, normal_jgn, normal_number, normal_title, pid_scheme
from gateway.models import DmpDataset, DmpVersion, Record, RecordFunding, RecordKey

#: how a match was made, in the order the keys are tried
HOW = ("data number", "doi", "identifier", "title")


@dataclass
class Match:
    dataset: DmpDataset
    record: Record | None = None
    how: str | None = None  # None (not matched) | one of HOW


@dataclass
class Reconciliation:
    version: DmpVersion
    matches: list[Match] = field(default_factory=list)  # one per dataset, in the DMP's order
    undeclared: list[Record] = field(default_factory=list)  # the project's records the DMP does not declare

    @property
    def jgn(self) -> str:
        return self.version.jgn


def project_records(session: Session, jgn: str) -> list[Record]:
    """The records of a project that the reports count, in a stable order (by local id)."""
    funded = select(RecordFunding.record_id).where(RecordFunding.jgn == jgn)
    keyed = select(RecordKey.record_id).where(RecordKey.kind == "jgn", RecordKey.value == jgn)
    query = (
        select(Record)
        .where(
            Record.status != "deleted",
            Record.duplicate_of.is_(None),
            or_(Record.id.in_(funded), Record.id.in_(keyed)),
        )
        .order_by(Record.local_id)
    )
    # record_keys too: a record whose funding rows miss the number (written by an older mapping) still belongs
    return list(session.scalars(query))


def _record_keys(record: Record, jgn: str) -> dict[str, set[str]]:
    """{"number": data numbers, "doi": DOIs, "identifier": other PIDs, "title": titles} of a record, under `jgn`."""
    out: dict[str, set[str]] = {how: set() for how in HOW}
    prefix = jgn + "/"
    for kind, value in keys_of_view(record.annex3 or {}):
        if kind == NUMBER and value.startswith(prefix):
            out["data number"].add(value[len(prefix):])
        elif kind == TITLE and value.startswith(prefix):
            out["title"].add(value[len(prefix):])
        elif kind == PID:
            out[pid_scheme(value)].add(value)
    return out


def _dataset_keys(dataset: DmpDataset) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {how: set() for how in HOW}
    if dataset.number:
        number = normal_number(dataset.number)
        if number:
            out["data number"].add(number)
    for pid in dataset.pids or []:
        out[pid_scheme(str(pid))].add(str(pid))
    names = [dataset.name, *split_pair(str((dataset.items or {}).get("name") or ""))]
    out["title"] = {t for t in (normal_title(n) for n in names if n) if t}
    return out


def _conflict(dataset: dict[str, set[str]], record: dict[str, set[str]]) -> bool:
    """A title is the weakest key: it does not join a dataset and a record that both carry data numbers and carry
    different ones (two surveys of one name, numbered apart, are two datasets). The DMP gate (gateway.dmp.gating)
    applies the same rule, so the report and the gate pair the same records."""
    numbers = "data number"
    return bool(dataset[numbers] and record[numbers] and not dataset[numbers] & record[numbers])


def match_records(
    datasets: Iterable[DmpDataset], records: Iterable[Record], jgn: str
) -> tuple[list[Match], list[Record]]:
    """The matches of `datasets` (in their order) among `records`, and the records left over (in theirs)."""
    datasets = list(datasets)
    records = list(records)
    matches = [Match(dataset=d) for d in datasets]
    wanted = [_dataset_keys(d) for d in datasets]
    held = [_record_keys(r, jgn) for r in records]
    taken: set[int] = set()
    for how in HOW:
        # An index per key, so a project of thousands of records is matched in one pass per key.
        index: dict[str, list[int]] = {}
        for position, keys in enumerate(held):
            for value in keys[how]:
                index.setdefault(value, []).append(position)
        for match, keys in zip(matches, wanted, strict=True):
            if match.record is not None:
                continue
            candidates = sorted({
                p for value in keys[how] for p in index.get(value, [])
                if p not in taken and not (how == "title" and _conflict(keys, held[p]))
            })
            if candidates:
                taken.add(candidates[0])
                match.record, match.how = records[candidates[0]], how
    undeclared = [r for position, r in enumerate(records) if position not in taken]
    return matches, undeclared


def reconcile(session: Session, jgn: str) -> Reconciliation | None:
    """The project's current DMP version matched against its records; None when the project has no DMP."""
    jgn = normal_jgn(jgn)
    version = versions.current(session, jgn)
    if version is None:
        return None
    datasets = sorted(versions.current_datasets(session, jgn), key=lambda d: (d.position, d.id))
    matches, undeclared = match_records(datasets, project_records(session, jgn), jgn)
    return Reconciliation(version=version, matches=matches, undeclared=undeclared)


def record_for_dataset(session: Session, dataset: DmpDataset) -> Match:
    """The match of one dataset, made as the whole project's reconciliation makes it (a record another dataset
    takes by a surer key is not this dataset's)."""
    jgn = session.scalar(select(DmpVersion.jgn).where(DmpVersion.id == dataset.version_id))
    found = reconcile(session, jgn) if jgn else None
    if found is not None:
        for match in found.matches:
            if match.dataset.id == dataset.id:
                return match
    # a dataset of an older version: matched on its own against the project's records
    records = project_records(session, jgn) if jgn else []
    return match_records([dataset], records, jgn or "")[0][0]


def projects_with_dmp(session: Session) -> list[str]:
    """The grant numbers that have a current DMP version, sorted."""
    return sorted(set(session.scalars(select(DmpVersion.jgn).where(DmpVersion.current.is_(True)))))
