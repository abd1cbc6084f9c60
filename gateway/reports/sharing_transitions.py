"""AMED's sharing transitions: when data under 制限共有 must move to open, and when the DMP is to be reviewed.

AMED's rule (its DMP guidance, "AMED研究開発データのシェアリング方法"): data is open at the end of the project as a
rule; data under 制限共有 (either kind: with external parties, or within the project) moves to open at the earlier of
"研究開発期間の終了後 2 年" and "研究開発成果の公表時（論文採択、特許出願公開等の日をいう。）". So for every dataset
of a project's current DMP whose sharing method is 制限共有, the transition date is the earlier of the end + 2 years
and the earliest results publication recorded (gateway.dmp.publications) for that dataset or for the whole project.
The rule is applied as written: a paper accepted before the end makes the transition date that earlier day.

The DMP's submission schedule adds two reviews, at end + 2 and end + 4 years ("④終了後２年・⑤終了後４年：制限共有の
場合には公開可能か"): they are listed for each project that still has data under 制限共有, with "done" when the
current DMP is dated (its DMP作成日) on or after the review's date.

A transition is listed when it is overdue or due within `within_days` (90 by default); a dataset leaves the list once
the record matched to it (gateway.dmp.matching) is held as open access — or once its DMP no longer says 制限共有.
On the transition date itself the transition is "due" with 0 days left; the day after, it is overdue (as embargoes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.dmp.publications import KIND_LABELS, earliest
from gateway.dmp.values import restricted_sharing, sharing_info
from gateway.models import DmpDataset, DmpPublication, DmpVersion
from gateway.reports.common import ReportError
from gateway.reports.writers import Column, render

TRANSITION_YEARS = 2
REVIEW_YEARS = (2, 4)
DEFAULT_WITHIN_DAYS = 90
#: state -> (Japanese, English)
STATE_LABELS = {
    "overdue": ("期限超過", "overdue"),
    "due": ("期限間近", "due"),
    "upcoming": ("予定", "upcoming"),
    "done": ("見直し済み", "reviewed"),
}
KIND_ROW_LABELS = {
    "transition": ("公開への移行", "move to open"),
    "review": ("DMPの見直し", "DMP review"),
}
END_BASIS = ("終了後2年", "2 years after the end")


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def transition_date(end: date, publication: DmpPublication | None) -> tuple[date, str]:
    """(the day the data moves to open, why: "end" or the publication's kind), AMED's rule (pure)."""
    limit = add_years(end, TRANSITION_YEARS)
    if publication is not None and publication.published_on < limit:
        return publication.published_on, publication.kind
    return limit, "end"


def _state(day: date, today: date, horizon: date) -> str:
    if day < today:
        return "overdue"
    return "due" if day <= horizon else "upcoming"


def _held_open(session: Session, dataset: DmpDataset) -> tuple[bool, Any]:
    from gateway.dmp.matching import record_for_dataset

    match = record_for_dataset(session, dataset)
    held = match.record if match is not None else None
    return (held is not None and held.access_right == "open"), held


def _current(session: Session, project: str | None) -> list[tuple[DmpVersion, list[DmpDataset]]]:
    from gateway.dmp.versions import current_datasets

    datasets = current_datasets(session, project)
    by_version: dict[int, list[DmpDataset]] = {}
    for dataset in datasets:
        by_version.setdefault(dataset.version_id, []).append(dataset)
    query = select(DmpVersion).where(DmpVersion.current.is_(True))
    if project:
        query = query.where(DmpVersion.jgn == project)
    versions = sorted(session.scalars(query), key=lambda v: v.jgn)
    return [(v, sorted(by_version.get(v.id, []), key=lambda d: d.position)) for v in versions]


def _publications(session: Session, jgns: Iterable[str]) -> dict[str, list[DmpPublication]]:
    wanted = sorted(set(jgns))
    out: dict[str, list[DmpPublication]] = {j: [] for j in wanted}
    if wanted:
        for row in session.scalars(select(DmpPublication).where(DmpPublication.jgn.in_(wanted))):
            out[row.jgn].append(row)
    return out


def transitions(
    session: Session, *, today: date, within_days: int = DEFAULT_WITHIN_DAYS, project: str | None = None
) -> dict[str, Any]:
    """{"today", "within_days", "transitions": [...], "reviews": [...]} (see the module's docstring)."""
    if within_days < 0:
        raise ReportError("the number of days ahead cannot be negative")
    horizon = today + timedelta(days=within_days)
    found = _current(session, project)
    if project and not found:
        raise ReportError(f"no DMP is imported for project {project!r}")
    published = _publications(session, (v.jgn for v, _ in found))
    moves: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    for version, datasets in found:
        pending = 0
        for position, dataset in enumerate(datasets, 1):
            if not restricted_sharing(dataset.sharing):
                continue
            is_open, held = _held_open(session, dataset)
            if is_open:
                continue
            pending += 1
            publication = earliest(published[version.jgn], dataset.key)
            day, basis = transition_date(version.end_date, publication)
            state = _state(day, today, horizon)
            if state == "upcoming":
                continue
            moves.append(_move(version, dataset, position, day, basis, publication, state, today, held))
        if pending:
            reviews += _reviews(version, pending, today, horizon)
    order = {"overdue": 0, "due": 1}
    moves.sort(key=lambda r: (order[r["state"]], r["date"], r["jgn"], r["position"]))
    reviews.sort(key=lambda r: (r["date"], r["jgn"], r["years_after_end"]))
    return {"today": today.isoformat(), "within_days": within_days, "transitions": moves, "reviews": reviews}


def _project(version: DmpVersion) -> dict[str, Any]:
    return {
        "jgn": version.jgn,
        "project_name_ja": version.name_ja,
        "project_name_en": version.name_en,
        "end": version.end_date.isoformat(),
    }


def _move(
    version: DmpVersion,
    dataset: DmpDataset,
    position: int,
    day: date,
    basis: str,
    publication: DmpPublication | None,
    state: str,
    today: date,
    held: Any,
) -> dict[str, Any]:
    sharing = sharing_info(dataset.sharing)
    basis_ja, basis_en = END_BASIS if basis == "end" else KIND_LABELS.get(basis, (basis, basis))
    return {
        "kind": "transition",
        "state": state,
        "date": day.isoformat(),
        "days_left": (day - today).days,
        **_project(version),
        "position": position,
        "data_number": dataset.number,
        "dataset": dataset.name,
        "sharing": dataset.sharing,
        "sharing_ja": sharing.get("ja"),
        "sharing_en": sharing.get("en"),
        "end_plus_2": add_years(version.end_date, TRANSITION_YEARS).isoformat(),
        "basis": basis,
        "basis_ja": basis_ja,
        "basis_en": basis_en,
        "publication_date": publication.published_on.isoformat() if publication is not None else None,
        "record": held.local_id if held is not None else None,
        "record_access_right": held.access_right if held is not None else None,
    }


def _reviews(version: DmpVersion, pending: int, today: date, horizon: date) -> list[dict[str, Any]]:
    out = []
    for years in REVIEW_YEARS:
        day = add_years(version.end_date, years)
        done = version.dmp_date is not None and version.dmp_date >= day
        out.append(
            {
                "kind": "review",
                "state": "done" if done else _state(day, today, horizon),
                "date": day.isoformat(),
                "days_left": (day - today).days,
                **_project(version),
                "years_after_end": years,
                "datasets_under_restricted_sharing": pending,
                "dmp_date": version.dmp_date.isoformat() if version.dmp_date else None,
            }
        )
    return out


def rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The transitions, then the reviews, as one list of rows with their labels, for the table, CSV and xlsx."""
    out = []
    for row in [*report["transitions"], *report["reviews"]]:
        kind_ja, kind_en = KIND_ROW_LABELS[row["kind"]]
        state_ja, state_en = STATE_LABELS[row["state"]]
        flat = dict(row)
        flat["kind_label"] = f"{kind_ja} {kind_en}"
        flat["state_label"] = f"{state_ja} {state_en}"
        if row["kind"] == "transition":
            flat["basis_label"] = f"{row['basis_ja']} {row['basis_en']}"
        else:
            flat["basis_label"] = f"終了後{row['years_after_end']}年 {row['years_after_end']} years after the end"
        out.append(flat)
    return out


TRANSITION_COLUMNS: Sequence[Column] = (
    Column("kind_label", "種別 kind"),
    Column("state_label", "状態 state"),
    Column("date", "期日 date", "date"),
    Column("days_left", "残り日数 days left", "int"),
    Column("jgn", "体系的番号 JGN"),
    Column("project_name_ja", "研究課題名 project", in_table=False),
    Column("project_name_en", "project name (en)", in_table=False),
    Column("end", "研究終了日 end", "date"),
    Column("position", "No.", "int"),
    Column("data_number", "データNo. data number"),
    Column("dataset", "データの名称 dataset"),
    Column("sharing_ja", "データシェアリング方法 sharing method", in_table=False),
    Column("basis_label", "根拠 basis"),
    Column("publication_date", "成果の公表日 results published", "date"),
    Column("end_plus_2", "終了後2年 end + 2 years", "date", in_table=False),
    Column("record", "レコード record"),
    Column("record_access_right", "アクセス権 access right", in_table=False),
    Column("datasets_under_restricted_sharing", "制限共有のデータ数 datasets under restricted sharing", "int",
           in_table=False),
    Column("dmp_date", "DMP作成日 DMP date", "date", in_table=False),
)  # fmt: skip


def write_transitions(report: dict[str, Any], fmt: str, out: IO[bytes]) -> None:
    if fmt == "json":  # the two lists as the API gives them
        out.write(json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        return
    render(rows(report), TRANSITION_COLUMNS, fmt, out, sheet="transitions")
