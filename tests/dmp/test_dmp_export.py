"""`gateway dmp export`: the project's current DMP written back with 登録状況 from the gateway, on SQLite and
PostgreSQL; the file imports again as the next version, whose 登録状況 then agrees with what is held."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from gateway import reports
from gateway.cli import cli
from gateway.db import session_factory
from gateway.dmp import versions, writeback
from tests.dmp.test_matching import DATASETS, harvest_project
from tests.reports.test_counts_and_deadlines import CAA, JST
from tests.support.dmp_files import write_dmp


@pytest.fixture
def project(engine, db_url, tmp_path):
    return harvest_project(engine, db_url, tmp_path)


def run(config, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config.path), "--database-url", config.database_url, *args])


def read_back(path) -> tuple[list[str], list[str], list[dict]]:
    rows = [[c for c in r] for r in load_workbook(path).active.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "データNo.")
    header = list(rows[header_at])
    lines = [r[0] for r in rows[:header_at]]
    return lines, header, [dict(zip(header, r, strict=True)) for r in rows[header_at + 1:]]


def test_export_fills_in_the_registration_status(project, tmp_path):
    config, engine, _ = project
    # The PI's e-mail is in the DMP: kept, never written back out.
    versions.import_file(session_factory(engine), write_dmp(
        tmp_path / "dmp.xlsx", CAA, DATASETS, more={"研究代表者名": "山田 花子", "メールアドレス": "pi@example.ac.jp"}),
        now=datetime(2022, 4, 1, 9))
    out = tmp_path / "back.xlsx"
    done = run(config, "dmp", "export", CAA, "--output", str(out), "--today", "2025-06-01")
    assert done.exit_code == 0, done.output
    assert "10 datasets (6 registered, 4 not registered)" in done.output
    lines, header, rows = read_back(out)
    assert lines == [f"体系的番号：{CAA}", "研究課題名：食品リスク研究", "研究期間：2022-04-01～2025-03-31",
                     "研究代表者名：山田 花子", "DMP作成日：2022-04-01"]
    # The items as imported, in the DMP's item order, with 登録状況 among them.
    assert header == ["データNo.", "管理対象データ名称", "メタデータの公開/共有/非共有", "メタデータ登録状況",
                      "リポジトリURL・DOIリンク"]
    status = [(r["データNo."] or r["管理対象データ名称"], r["メタデータ登録状況"]) for r in rows]
    # Registered: the 掲載日 of the matched record (2025-04-01 in every fixture record); else the deadline.
    assert status == [
        ("D-m1", "2025年4月1日登録済み"),
        ("D-X2", "2025年4月1日登録済み"),
        ("別名 3", "2025年4月1日登録済み"),
        ("ﾃﾞｰﾀ　M4", "2025年4月1日登録済み"),
        ("D-m5", "未登録（期限 2023-05-31）"),
        ("D-m6", "2025年4月1日登録済み"),
        ("D-a", "2025年4月1日登録済み"),
        ("「共通名」", "未登録（期限 2023-05-31）"),
        ("D-m9", "未登録（期限 2023-05-31）"),
        ("D-m10", "未登録（期限 2023-05-31）"),
    ]
    assert rows[1]["リポジトリURL・DOIリンク"] == "https://doi.org/10.99999/M2"
    assert rows[0]["メタデータの公開/共有/非共有"] == "公開"
    cells = " ".join(str(c) for r in load_workbook(out).active.iter_rows(values_only=True) for c in r if c)
    assert "pi@example.ac.jp" not in cells and "メールアドレス" not in cells

    # Imported again, the file is the next version, and its 登録状況 now agrees with what is held.
    result = versions.import_file(session_factory(engine), out, now=datetime(2025, 6, 1, 9))
    assert result.versions == [(CAA, 3)] and result.held == []
    with session_factory(engine)() as s:
        rows = reports.reconciliation(s, config, today=datetime(2025, 6, 1).date(), project=CAA)
    assert [r["status_check"] for r in rows] == [None] * len(rows)
    assert reports.dmp_summary(rows)[0]["registered"] == 6


def test_a_dataset_not_to_be_registered_says_so(project, tmp_path):
    config, engine, _ = project
    datasets = [{"number": "D-m1", "name": "データ m1"},
                {"number": "D-private", "name": "非公開データ", "metadata_disclosure": "非共有"}]
    versions.import_file(session_factory(engine), write_dmp(tmp_path / "v2.xlsx", CAA, datasets),
                         now=datetime(2022, 5, 1, 9))
    out = tmp_path / "back.xlsx"
    assert run(config, "dmp", "export", CAA, "--output", str(out)).exit_code == 0
    _, _, rows = read_back(out)
    assert [r["メタデータ登録状況"] for r in rows] == ["2025年4月1日登録済み", writeback.NOT_FOR_REGISTRATION_TEXT]


def test_export_refusals(project, tmp_path):
    config, _, _ = project
    no_dmp = run(config, "dmp", "export", JST, "--output", str(tmp_path / "x.xlsx"))
    assert no_dmp.exit_code != 0 and "no DMP imported" in no_dmp.output and not (tmp_path / "x.xlsx").exists()
    not_xlsx = run(config, "dmp", "export", CAA, "--output", str(tmp_path / "x.csv"))
    assert not_xlsx.exit_code == 2 and ".xlsx" in not_xlsx.output


def test_status_texts():
    assert writeback.registered_text(datetime(2024, 5, 1).date()) == "2024年5月1日登録済み"
    assert writeback.not_registered_text(datetime(2025, 5, 31).date()) == "未登録（期限 2025-05-31）"
    assert writeback.not_registered_text(None) == "未登録"
