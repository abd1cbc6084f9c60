"""The DMP report: per project, what its DMP declares against what the gateway holds.

The guideline asks the principal investigator to grasp, through the DMP, the registration status and the total
number of metadata (§5 3)-2); this report gives it from the gateway's side. Per project with a DMP (its current
version, gateway.dmp.versions), one row per declared dataset — registered (matched to a held record: which, how, its
access right, whether it is published) or not (with its due date from the deadlines rule, gateway.reports.
registration_deadlines, and the days overdue; none for a dataset whose metadata the DMP keeps 共有 or 非共有, which the
guideline says not to register, §6) — and one row per held record the DMP does not declare. The DMP's own
登録状況 column is checked against what is held: it says registered (登録済み) but nothing matches, or not registered
(未登録, 登録予定) while a record is held, and the row says "status disagrees" with both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.dmp import matching, values
from gateway.models import DmpDataset, Published, Record
from gateway.reports.common import ReportError
from gateway.reports.registration_deadlines import (
    NOT_FOR_REGISTRATION,
    declared_on,
    due_dates,
    due_of,
    periods,
    to_register,
)
from gateway.reports.writers import Column, render

REGISTERED, NOT_REGISTERED, UNDECLARED = "registered", "not_registered", "undeclared"
DISAGREES = "status disagrees"


def _oai_identifiers(session: Session, records: Sequence[Record]) -> dict[int, str]:
    ids = [r.id for r in records]
    if not ids:
        return {}
    query = select(Published.record_id, Published.oai_identifier).where(
        Published.record_id.in_(ids), Published.deleted.is_(False)
    )
    return dict(session.execute(query).all())


def _record_fields(record: Record | None, oai: dict[int, str]) -> dict[str, Any]:
    if record is None:
        return {"record": None, "oai_identifier": None, "title": None, "access_right": None, "status": None,
                "published": None}
    return {
        "record": record.local_id,
        "oai_identifier": oai.get(record.id),
        "title": record.title,
        "access_right": record.access_right,
        "status": record.status,
        "published": record.status == "published" and record.id in oai,
    }


def status_check(dataset: DmpDataset, held: bool) -> dict[str, Any]:
    """The DMP's 登録状況 as written and read, and whether it disagrees with what the gateway holds."""
    written = str((dataset.items or {}).get("registration_status") or "").strip()
    state = values.read_status(written)["state"] if written else None
    disagrees = (state == "registered" and not held) or (state in ("not_registered", "planned") and held)
    return {
        "dmp_status": written or None,
        "dmp_status_state": state,
        "status_check": DISAGREES if disagrees else None,
        "gateway_status": "held" if held else "not held",
    }


def project_rows(session: Session, found: matching.Reconciliation, period: dict[str, Any] | None, *,
                 today: date) -> list[dict[str, Any]]:
    """The rows of one project's reconciliation."""
    version = found.version
    dues = due_dates(period["start"], period["end"]) if period else []
    declared = declared_on(session, version.jgn)
    oai = _oai_identifiers(session, [m.record for m in found.matches if m.record] + found.undeclared)
    base = {"jgn": version.jgn, "project": version.name_ja or version.name_en, "version": version.version}
    rows = []
    for match in found.matches:
        d = match.dataset
        held = match.record is not None
        due = due_of(d, dues, declared) if dues and to_register(d) else None
        if held:
            section, state, overdue = REGISTERED, REGISTERED, None
        elif not to_register(d):
            section, state, overdue = NOT_REGISTERED, NOT_FOR_REGISTRATION, None
        elif due is None:
            section, state, overdue = NOT_REGISTERED, "period unknown", None
        else:
            overdue = max(0, (today - due.day).days)
            section, state = NOT_REGISTERED, "overdue" if today > due.day else "open"
        rows.append({
            **base, "section": section, "position": d.position, "number": d.number, "dataset": d.name,
            "metadata_disclosure": d.metadata_disclosure, "declared_access": d.access_right, "how": match.how,
            **_record_fields(match.record, oai),
            "deadline": due.day.isoformat() if due and not held else None, "days_overdue": overdue, "state": state,
            **status_check(d, held),
        })
    for record in found.undeclared:
        rows.append({
            **base, "section": UNDECLARED, "position": None, "number": None, "dataset": None,
            "metadata_disclosure": None, "declared_access": None, "how": None, **_record_fields(record, oai),
            "deadline": None, "days_overdue": None, "state": UNDECLARED,
            "dmp_status": None, "dmp_status_state": None, "status_check": None, "gateway_status": "held",
        })
    return rows


def reconciliation(session: Session, config: Config | None = None, *, today: date,
                   project: str | None = None) -> list[dict[str, Any]]:
    """The rows of every project with a DMP (or of `project`), by project, then declared datasets in the DMP's
    order, then the records the DMP does not declare. A project whose DMP declares no dataset (a sheet of project
    periods, `gateway projects import`) is left out of the listing of all projects: every record of it would be
    "undeclared", which says nothing; asked for by `project`, it is shown."""
    jgns = [project] if project else matching.projects_with_dmp(session)
    known = periods(session, config)
    rows: list[dict[str, Any]] = []
    for jgn in jgns:
        found = matching.reconcile(session, jgn)
        if found is None:
            raise ReportError(f"no DMP imported for project {jgn!r} (import one with `gateway dmp import FILE`)")
        if found.matches or project:
            rows += project_rows(session, found, known.get(found.jgn), today=today)
    return rows


def summary(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per project: datasets declared, registered, not registered, overdue; records undeclared; disagreements."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(r["jgn"], {"jgn": r["jgn"], "project": r["project"], "version": r["version"],
                                      "declared": 0, "registered": 0, "not_registered": 0, "overdue": 0,
                                      "undeclared": 0, "published": 0, "status_disagrees": 0})
        if r["section"] != UNDECLARED:
            s["declared"] += 1
        s[r["section"]] += 1
        s["overdue"] += r["state"] == "overdue"
        s["published"] += bool(r["published"]) and r["section"] == REGISTERED
        s["status_disagrees"] += r["status_check"] == DISAGREES
    return list(out.values())


DMP_COLUMNS = (
    Column("jgn", "体系的番号 JGN"),
    Column("project", "プロジェクト名 project", in_table=False),
    Column("version", "DMP版 DMP version", "int", in_table=False),
    Column("section", "区分 section"),  # registered | not_registered | undeclared
    Column("number", "データNo. data number"),
    Column("dataset", "管理対象データ名称 dataset"),
    Column("metadata_disclosure", "メタデータの公開区分 metadata disclosure", in_table=False),
    Column("declared_access", "DMPのアクセス権 declared access", in_table=False),
    Column("how", "照合方法 matched by"),
    Column("record", "レコード record"),
    Column("oai_identifier", "OAI識別子 OAI identifier", in_table=False),
    Column("title", "データの名称 title", in_table=False),
    Column("access_right", "アクセス権 access right"),
    Column("status", "レコードの状態 record status", in_table=False),
    Column("published", "公開中 published", "bool"),
    Column("deadline", "登録期限 deadline", "date"),
    Column("days_overdue", "超過日数 days overdue", "int"),
    Column("state", "状態 state"),
    Column("dmp_status", "DMPの登録状況 DMP registration status", in_table=False),
    Column("status_check", "登録状況の照合 status check"),
)
SUMMARY_COLUMNS = (
    Column("jgn", "体系的番号 JGN"),
    Column("project", "プロジェクト名 project"),
    Column("declared", "DMP記載 declared", "int"),
    Column("registered", "登録済み registered", "int"),
    Column("not_registered", "未登録 not registered", "int"),
    Column("overdue", "期限超過 overdue", "int"),
    Column("undeclared", "DMP未記載 undeclared", "int"),
    Column("status_disagrees", "登録状況の不一致 status disagrees", "int"),
)


def write_reconciliation(rows: Sequence[dict[str, Any]], fmt: str, out: IO[bytes]) -> None:
    """The rows; on a terminal, each project's totals below them."""
    render(rows, DMP_COLUMNS, fmt, out, sheet="dmp")
    if fmt == "table" and rows:
        out.write(b"\n")
        render(summary(rows), SUMMARY_COLUMNS, fmt, out)
