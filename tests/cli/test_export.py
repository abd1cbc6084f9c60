"""`gateway export spreadsheet`: the common-item layout, and import -> export -> import gives identical records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from gateway.cli.export import export_rows, write_sheet
from gateway.db import session_factory
from gateway.dmp.duplicates import own_decision
from gateway.harvest.runner import run_harvest
from gateway.models import Record
from tests.conftest import make_config
from tests.support import paths
from tests.support.paths import ROOT

FIXTURES = paths.FIXTURES / "grdm"


def records_of(sessions, source: str) -> dict[str, dict[str, Any]]:
    with sessions() as s:
        return {
            r.source_identifier: {
                "canonical": r.canonical_xml,
                "annex3": r.annex3,
                "disclosure": r.disclosure,
                # the status on its own: a re-import of the same datasets is their duplicate (gateway.dmp.duplicates)
                "status": own_decision(
                    source_deleted=r.source_deleted, disclosure=r.disclosure, findings=list(r.findings or [])
                ).status,
                "access_right": r.access_right,
                "available_date": r.available_date,
                "private": r.private,
                "findings": r.findings,
            }
            for r in s.scalars(select(Record).where(Record.source.has(name=source), Record.source_deleted.is_(False)))
        }


@pytest.mark.parametrize(("suffix", "lang"), [(".xlsx", "ja"), (".csv", "en"), (".csv", "ja"), (".xlsx", "en")])
def test_import_export_import_gives_identical_records(engine, db_url, tmp_path: Path, suffix: str, lang: str) -> None:
    sheet = tmp_path / f"export{suffix}"
    cfg = make_config(
        db_url,
        [
            {"name": "rdm", "kind": "grdm", "path": str(FIXTURES / "registration.json")},
            {"name": "sheet", "kind": "spreadsheet", "path": str(sheet)},
        ],
    )
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("rdm")).status == "succeeded"
    first = records_of(sessions, "rdm")
    assert {v["status"] for v in first.values()} == {"published", "withheld"}

    write_sheet(export_rows(sessions, source="rdm"), sheet, lang)
    run = run_harvest(cfg, sessions, cfg.source("sheet"))
    assert run.status == "succeeded", run.errors
    second = records_of(sessions, "sheet")
    assert second == first
    with sessions() as s:  # the same datasets: each re-imported record is the duplicate of the one served first
        copies = {r.source_identifier: r for r in s.scalars(select(Record).where(Record.source.has(name="sheet")))}
        served = {r.id: r.source_identifier for r in s.scalars(select(Record).where(Record.source.has(name="rdm")))}
        assert {ident: served.get(r.duplicate_of) for ident, r in copies.items()} == {i: i for i in copies}

    # and once more: the export of the re-import is the same sheet
    again = tmp_path / f"again{suffix}"
    write_sheet(export_rows(sessions, source="sheet"), again, lang)
    assert export_rows(sessions, source="sheet") == export_rows(sessions, source="rdm")


def test_xlsx_has_the_expected_cells(engine, db_url, tmp_path: Path) -> None:
    cfg = make_config(db_url, [{"name": "rdm", "kind": "grdm", "path": str(FIXTURES / "report_en.csv")}])
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("rdm")).status == "succeeded"
    out = tmp_path / "out.xlsx"
    write_sheet(export_rows(sessions, project="JPNE20240001"), out, "ja")
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    reference = (FIXTURES / "report_ja.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:30] == reference and header[30] == "メタデータのアクセス権"
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [r["データNo."] for r in rows] == ["NE-0001", "NE-0002", "NE-0003"]
    first = rows[0]
    assert first["資金配分機関情報"] == "NEDO"
    assert first["体系的番号"] == "JPNE20240001"
    assert first["データの名称"] == "充放電サイクル試験データ|Charge-discharge cycle test data"
    assert first["データ作成者"] == "電池 太郎|Taro Denchi;材料 次郎|Jiro Zairyo;解析 三郎|Saburo Kaiseki"
    assert first["データ作成者の研究者番号"] == "90002222;90003333;"
    assert first["管理対象データの利活用・提供方針(ライセンス)"] == "CCBY"
    assert first["データ管理者の所属機関の連絡先メールアドレス"] == "rdm-office@example.ac.jp"
    assert first["備考"] == "倫理審査済み（内部メモ）|Ethics review passed (internal note)"
    assert first["メタデータのアクセス権"] in (None, "")  # the CSV report does not say; nothing is invented
    assert rows[1]["公開予定日 (公開期間猶予の場合)"] == "2027-04-01"
    assert export_rows(sessions, project="JPXX00000000") == []


def test_cli_export(tmp_path: Path) -> None:
    database = tmp_path / "gw.db"
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[repository]\nname = "T"\nidentifier = "gateway.test.ac.jp"\nbase_url = "http://127.0.0.1:1/oai"\n'
        f'[database]\nurl = "sqlite:///{database}"\n'
        f'[[sources]]\nname = "rdm"\nkind = "grdm"\npath = "{FIXTURES / "project-rocrate.zip"}"\n',
        encoding="utf-8",
    )

    def gateway(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**os.environ},
        )

    assert gateway("init").returncode == 0
    assert gateway("harvest").returncode == 0
    done = gateway(
        "export", "spreadsheet", "--lang", "en", "--project", "JPNE20240001", "--output", str(tmp_path / "o.csv")
    )
    assert done.returncode == 0, done.stderr
    assert "3 record(s)" in done.stdout
    data = (tmp_path / "o.csv").read_bytes()
    assert data.startswith(b'\xef\xbb\xbf"Funder",')
    bad = gateway("export", "spreadsheet", "--output", str(tmp_path / "o.txt"))
    assert bad.returncode != 0 and "must end in .xlsx or .csv" in bad.stderr and "Traceback" not in bad.stderr


def test_a_project_with_held_rows_exports_and_reimports_to_the_same_counts(engine, db_url, tmp_path: Path) -> None:
    """Held (quarantined) rows are exported too: what a project must register is every record it holds."""
    from gateway import reports
    from tests.support.commonitem_rows import WORDINGS, bad_rows, project_rows, write_report

    report = write_report(tmp_path / "report.csv", project_rows(WORDINGS["report-ja"]) + bad_rows())
    sheet = tmp_path / "export.xlsx"
    cfg = make_config(
        db_url,
        [
            {"name": "rdm", "kind": "grdm", "path": str(report), "metadata_disclosure": "public"},
            {"name": "sheet", "kind": "spreadsheet", "path": str(sheet), "priority": 1},
        ],
    )
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("rdm")).status != "failed"
    rows = export_rows(sessions, source="rdm")
    assert len(rows) == 8
    write_sheet(rows, sheet, "en")
    with sessions() as s:
        (first,) = reports.counts(s, source="rdm")
    # the re-import's records are the same datasets, from a source of higher priority: they are counted instead
    assert run_harvest(cfg, sessions, cfg.source("sheet")).status != "failed"
    with sessions() as s:
        (second,) = reports.counts(s, source="sheet")
    assert first.by_access == second.by_access and first.by_access["unknown"] == 1
    assert (second.total, second.published, second.quarantined) == (8, 6, 2)
