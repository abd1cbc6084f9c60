"""Results publications of a project (a paper's acceptance, a patent application's publication), recorded by hand.

AMED moves data under 制限共有 to open at the earlier of two years after the project's end and the publication of
its results ("研究開発成果の公表時（論文採択、特許出願公開等の日をいう。）"); no DMP column says when that happened,
so a manager records it here (`gateway dmp publication`, the dashboard's transitions page, the API) and
gateway.reports.sharing_transitions reads it. A publication is of one dataset (its DMP dataset `key`, which stays the
same across DMP versions) or, without a dataset, of the whole project's results, which then counts for every
dataset of the project.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.dmp.keys import normal_number
from gateway.models import DmpDataset, DmpPublication

KINDS = ("paper", "patent")
#: what each kind of publication is, in the words of AMED's rule
KIND_LABELS = {
    "paper": ("論文採択", "paper accepted"),
    "patent": ("特許出願公開", "patent application published"),
}
MAX_NOTE = 2000
MAX_BY = 64
MAX_JGN = 64  # the column's length
MAX_DATASET = 600


class PublicationError(ValueError):
    """A publication that cannot be recorded as asked (no DMP, an unknown dataset or kind, a bad date)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def require_dmp(session: Session, jgn: str) -> None:
    """A PublicationError (field "project") unless the project has a DMP: publications are recorded against one."""
    from gateway.dmp.versions import current

    if len(jgn) > MAX_JGN or current(session, jgn) is None:
        raise PublicationError(f"no DMP is imported for project {jgn!r} (gateway dmp import FILE)", "project")


def read_day(text: str) -> date:
    """A date written YYYY-MM-DD, as the API and the dashboard's form send it."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise PublicationError("the date must be a date (YYYY-MM-DD)", "date") from None


def _current_datasets(session: Session, jgn: str) -> list[DmpDataset]:
    from gateway.dmp.versions import current_datasets

    require_dmp(session, jgn)
    return current_datasets(session, jgn)


def resolve_dataset(datasets: Sequence[DmpDataset], given: str) -> DmpDataset:
    """The dataset `given` names: its data number (compared in the normal form of gateway.dmp.keys), else, when it
    is a whole number that no data number equals, its position in the DMP (1 = the first dataset)."""
    wanted = normal_number(given)
    if not wanted:
        raise PublicationError("the dataset is empty: give its data number or its position in the DMP", "dataset")
    for dataset in datasets:
        if dataset.number and normal_number(dataset.number) == wanted:
            return dataset
    digits = unicodedata.normalize("NFKC", given).strip()
    ordered = sorted(datasets, key=lambda d: d.position)
    if re.fullmatch(r"[0-9]{1,6}", digits):
        index = int(digits) - 1
        if 0 <= index < len(ordered):
            return ordered[index]
    known = ", ".join(f"{n}: {d.number or '(no data number)'} {d.name}" for n, d in enumerate(ordered, 1))
    raise PublicationError(
        f"the DMP has no dataset {given!r} (give a data number or a position; the datasets: {known or 'none'})",
        "dataset",
    )


def record(
    session: Session,
    jgn: str,
    *,
    published_on: date,
    kind: str,
    dataset: str | None = None,
    note: str | None = None,
    recorded_by: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record one publication (the caller commits); the stored row, as `publications` lists it."""
    jgn = unicodedata.normalize("NFKC", jgn or "").strip()
    if kind not in KINDS:
        raise PublicationError(f"the kind must be one of: {', '.join(KINDS)}", "kind")
    if not isinstance(published_on, date):
        raise PublicationError("the date must be a date (YYYY-MM-DD)", "date")
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise PublicationError(f"the note is longer than {MAX_NOTE} characters", "note")
    datasets = _current_datasets(session, jgn)
    found = resolve_dataset(datasets, dataset) if dataset not in (None, "") else None
    row = DmpPublication(
        jgn=jgn,
        dataset_key=found.key if found else None,
        kind=kind,
        published_on=published_on,
        note=note,
        recorded_at=(now or datetime.now(UTC)).replace(tzinfo=None),
        recorded_by=(recorded_by or None) and recorded_by[:MAX_BY],
    )
    session.add(row)
    session.flush()
    return _as_dict(row, _ordinals(datasets))


def record_body(session: Session, jgn: str, body: dict[str, Any], *, recorded_by: str | None) -> dict[str, Any]:
    """`record` from a request body (the API's, the dashboard form's): date, kind, dataset and note as text."""
    return record(
        session,
        jgn,
        published_on=read_day(str(body.get("date") or "")),
        kind=str(body.get("kind") or ""),
        dataset=(str(body.get("dataset") or "").strip() or None),
        note=body.get("note") or None,
        recorded_by=recorded_by,
    )


def remove(session: Session, jgn: str, publication_id: int) -> None:
    """Remove one recorded publication (the caller commits); a PublicationError when the project has none by that id."""
    done = session.execute(delete(DmpPublication).where(DmpPublication.id == publication_id, DmpPublication.jgn == jgn))
    if not done.rowcount:
        raise PublicationError(f"project {jgn!r} has no recorded publication {publication_id}", "id")


def stored(session: Session, jgn: str | None = None) -> list[DmpPublication]:
    query = select(DmpPublication).order_by(DmpPublication.jgn, DmpPublication.published_on, DmpPublication.id)
    if jgn:
        query = query.where(DmpPublication.jgn == jgn)
    return list(session.scalars(query))


def publications(session: Session, jgn: str | None = None) -> list[dict[str, Any]]:
    """The recorded publications (of one project, or all), oldest first, with the dataset each one names."""
    from gateway.dmp.versions import current_datasets

    rows = stored(session, jgn)
    of_project = {project: _ordinals(current_datasets(session, project)) for project in {r.jgn for r in rows}}
    return [_as_dict(r, of_project[r.jgn]) for r in rows]


def _ordinals(datasets: Sequence[DmpDataset]) -> dict[str, tuple[int, DmpDataset]]:
    """Dataset key -> (its position in the DMP counted from 1, the dataset)."""
    ordered = sorted(datasets, key=lambda d: d.position)
    return {d.key: (n, d) for n, d in enumerate(ordered, 1)}


def _as_dict(row: DmpPublication, datasets: dict[str, tuple[int, DmpDataset]]) -> dict[str, Any]:
    position, found = datasets.get(row.dataset_key or "", (None, None))
    ja, en = KIND_LABELS.get(row.kind, (row.kind, row.kind))
    return {
        "id": row.id,
        "jgn": row.jgn,
        "dataset_key": row.dataset_key,
        "dataset_position": position,
        "data_number": found.number if found else None,
        "dataset_name": found.name if found else None,
        # a dataset the current DMP no longer declares: the publication is kept, and says so
        "dataset_in_dmp": (found is not None) if row.dataset_key else None,
        "kind": row.kind,
        "kind_ja": ja,
        "kind_en": en,
        "date": row.published_on.isoformat(),
        "note": row.note,
        "recorded_at": row.recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "recorded_by": row.recorded_by,
    }


def earliest(found: Iterable[DmpPublication], dataset_key: str) -> DmpPublication | None:
    """The earliest publication that counts for a dataset: its own, or one of the whole project (pure)."""
    counted = [p for p in found if p.dataset_key in (None, dataset_key)]
    return min(counted, key=lambda p: (p.published_on, p.id or 0), default=None)
