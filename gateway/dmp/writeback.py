"""A project's current DMP written back as a workbook, with メタデータ登録状況 filled in from what the gateway holds.

The guideline's form leaves 登録状況 to the researchers ("●月●日登録済み、●月●日登録予定", 別紙2 note 6), so the
column is only as good as the last time someone updated it; `gateway dmp export` writes the DMP as imported with that
column taken from the reconciliation (gateway.dmp.matching) instead: "YYYY年M月D日登録済み" for a dataset a held
record matches, "未登録（期限 YYYY-MM-DD）" with its due date (gateway.reports.registration_deadlines) for one that
none does.

The date of a registered dataset is the record's 掲載日 (Annex-3 item 6, date issued): the day its metadata says it
was published, which stays the same however often it is harvested again; without a readable one, the day the gateway
stored the record. The file is the food-safety form's shape (the project's lines, then one row per dataset, headers
in Japanese, in the item order of mappings/dmp/columns.toml), so it can be imported again as the next version. What
the DMP form marks as not published (the PI's address, telephone and e-mail) is never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.dmp import layout, matching
from gateway.models import Record
from gateway.reports.common import ReportError, parse_date
from gateway.reports.registration_deadlines import declared_on, due_dates, due_of, periods, to_register

STATUS = "registration_status"
#: a dataset whose metadata the DMP keeps 共有 or 非共有 is not registered, and has no deadline (§6)
NOT_FOR_REGISTRATION_TEXT = "未登録（メタデータ非公開のため登録対象外）"
#: the project's lines above the table: item key -> where its value is read
_PROJECT_LINES = ("jgn", "name", "program", "period", "pi_name", "pi_affiliation", "pi_title", "dmp_date")


@dataclass
class Exported:
    jgn: str
    version: int
    headers: list[str]
    rows: list[list[str]]  # one per dataset, in the DMP's order
    lines: list[str]  # the project's lines ("研究期間：…")
    registered: int = 0
    not_registered: int = 0


def registered_on(record: Record) -> date:
    """The day a record's metadata was registered: its 掲載日 (date issued), else the day the gateway stored it."""
    for entry in (record.annex3 or {}).get("date_issued") or []:
        value = entry.get("value") if isinstance(entry, dict) else entry
        found = parse_date(str(value or ""))
        if found is not None and len(str(value).strip()) >= 10:
            return found
    return record.harvested_at.date()


def registered_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日登録済み"


def not_registered_text(deadline: date | None) -> str:
    return f"未登録（期限 {deadline.isoformat()}）" if deadline else "未登録"


def exported(session: Session, jgn: str, *, today: date, config: Config | None = None) -> Exported:
    """The project's current DMP as rows, with 登録状況 from the gateway. `today` is the day of the export (kept for
    the command's --today: the status says what is held now, the deadline is a date, not a count of days)."""
    found = matching.reconcile(session, jgn)
    if found is None:
        raise ReportError(f"no DMP imported for project {jgn!r} (import one with `gateway dmp import FILE`)")
    version = found.version
    items = layout.by_key(layout.DATASET)
    used = {key for m in found.matches for key in (m.dataset.items or {})} | {"name", STATUS}
    keys = [key for key in items if key in used and not items[key].private]
    period = periods(session, config).get(version.jgn)
    dues = due_dates(period["start"], period["end"]) if period else []
    declared = declared_on(session, version.jgn)
    out = Exported(jgn=version.jgn, version=version.version, headers=[items[k].ja for k in keys], rows=[],
                   lines=_lines(version))
    for match in found.matches:
        cells = dict(match.dataset.items or {})
        if match.record is not None:
            cells[STATUS] = registered_text(registered_on(match.record))
            out.registered += 1
        else:
            if not to_register(match.dataset):
                cells[STATUS] = NOT_FOR_REGISTRATION_TEXT
            else:
                due = due_of(match.dataset, dues, declared) if dues else None
                cells[STATUS] = not_registered_text(due.day if due else None)
            out.not_registered += 1
        out.rows.append([str(cells.get(k) or "") for k in keys])
    return out


def _lines(version: Any) -> list[str]:
    project = layout.by_key(layout.PROJECT)
    investigator = version.investigator or {}
    values = {
        "jgn": version.jgn,
        "name": version.name_ja or version.name_en,
        "program": version.program,
        "period": f"{version.start_date.isoformat()}～{version.end_date.isoformat()}",
        "dmp_date": version.dmp_date.isoformat() if version.dmp_date else None,
        **{k: investigator.get(k) for k in ("pi_name", "pi_affiliation", "pi_title")},
    }
    return [f"{project[k].ja}：{values[k]}" for k in _PROJECT_LINES if values.get(k) and k in project]


def write_xlsx(found: Exported, out: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "DMP"
    for line in found.lines:
        sheet.append([line])
    sheet.append(found.headers)
    bold = Font(bold=True)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in found.rows:
        sheet.append([value or None for value in row])
    for index, header in enumerate(found.headers):
        longest = max([len(header)] + [len(r[index]) for r in found.rows])
        sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = min(max(longest + 4, 10), 50)
    book.save(out)
