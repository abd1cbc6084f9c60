"""`gateway dmp import|history|list` on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from tests.dmp.files import AMED, CAA, amed, amed_dataset, bessi2, dataset, projects_sheet, write

V1 = [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2", metadata_disclosure="共有"),
      dataset("調査票", number="D-3")]
V2 = [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2"), dataset("新データ", number="D-4")]


@pytest.fixture
def run(engine, db_url, tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('[repository]\nname = "T"\nidentifier = "gateway.test.ac.jp"\nadmin_email = ["a@b.jp"]\n',
                      encoding="utf-8")

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(config), "--database-url", db_url, *args])

    return invoke


def test_import_says_what_each_version_changed(run, tmp_path):
    one = write(tmp_path / "v1.xlsx", bessi2(V1, with_number=True))
    result = run("dmp", "import", str(one))
    assert result.exit_code == 0, result.output
    assert f"{CAA}: version 1, 3 datasets (first version)" in result.output
    assert "v1.xlsx: 3 rows imported, 0 held with errors" in result.output
    two = write(tmp_path / "v2.csv", bessi2(V2, with_number=True))
    amed_file = write(tmp_path / "amed.csv", amed([amed_dataset("ゲノム", "制限共有（内部関係者と共有）")]))
    result = run("dmp", "import", str(two), str(amed_file))
    assert result.exit_code == 0, result.output
    assert (f"{CAA}: version 2, 3 datasets (+1 dataset (D-4); -1 dataset (D-3); D-2: metadata shared → public)"
            in result.output)
    assert f"{AMED}: version 1, 1 datasets (first version)" in result.output
    assert "v2.csv: 3 rows imported" in result.output and "amed.csv: 1 rows imported, 0 held" in result.output


def test_held_rows_exit_3_and_an_unreadable_file_exits_1_without_stopping_the_others(run, tmp_path):
    rows = bessi2([dataset("良い"), dataset("悪い", data_access="そのうち"), dataset("次")])
    held = write(tmp_path / "held.csv", rows)
    result = run("dmp", "import", str(held))
    assert result.exit_code == 3, result.output
    assert "held.csv: 2 rows imported, 1 held with errors" in result.output
    assert f"held: {held}: row 9, column '研究データ の公開/共有/ 非公開/非共有³': 'そのうち' is not" in result.output
    bad = write(tmp_path / "bad.csv", bessi2(V1, period="いつか"))
    good = write(tmp_path / "good.csv", amed([amed_dataset("ゲノム", "非制限公開")]))
    result = run("dmp", "import", str(bad), str(good))
    assert result.exit_code == 1, result.output
    assert f"error: {bad}: row 4, '研究期間': 'いつか'" in result.output and "Traceback" not in result.output
    assert f"{AMED}: version 1" in result.output  # the readable file was imported
    assert f"{CAA}: version 2" not in result.output
    listed = json.loads(run("dmp", "list", "--format", "json").output)
    assert [(p["jgn"], p["version"]) for p in listed] == [(AMED, 1), (CAA, 1)]


def test_history_in_every_format(run, tmp_path):
    run("dmp", "import", str(write(tmp_path / "v1.csv", bessi2(V1, with_number=True))))
    run("dmp", "import", str(write(tmp_path / "v2.csv", bessi2(V2, with_number=True))))
    run("dmp", "import", str(write(tmp_path / "v3.csv", bessi2(V2, with_number=True))))
    table = run("dmp", "history", CAA)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert "版 version" in lines[0] and "変更 changes" in lines[0]
    assert "first version" in lines[2] and "v1.csv" in lines[2]
    assert "+1 dataset (D-4)" in lines[3] and "no change" in lines[4]
    rows = json.loads(run("dmp", "history", CAA, "--format", "json").output)
    assert [(r["version"], r["current"], r["datasets"]) for r in rows] == [(1, False, 3), (2, False, 3), (3, True, 3)]
    assert rows[1]["changes"]["removed"] == [{"key": "d-3", "number": "D-3", "name": "調査票"}]
    data = run("dmp", "history", CAA, "--format", "csv").output
    parsed = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert parsed[0][0] == "版 version" and [r[0] for r in parsed[1:]] == ["1", "2", "3"]
    assert parsed[3][-1] == "変更なし"
    missing = run("dmp", "history", "JP99X99999")
    assert missing.exit_code == 1 and "no DMP of JP99X99999" in missing.output


def test_list_and_projects_import_make_versions_too(run, tmp_path):
    assert "no DMP imported" in run("dmp", "list").output
    run("dmp", "import", str(write(tmp_path / "v1.csv", bessi2(V1, with_number=True))))
    result = run("projects", "import", str(write(tmp_path / "p.csv", projects_sheet(
        [[CAA, "食品中の化学物質のリスク評価研究", "2023-04-01", "2027-03-31"]]))))
    assert result.exit_code == 0 and "1 project(s): 0 added, 1 updated, 0 unchanged" in result.output, result.output
    table = run("dmp", "list").output
    assert CAA in table and "2027-03-31" in table and "食品中の化学物質のリスク評価研究" in table
    (row,) = json.loads(run("dmp", "list", "--format", "json").output)
    assert (row["version"], row["datasets"], row["layout"], row["end"]) == (2, 3, "projects", "2027-03-31")
    history = json.loads(run("dmp", "history", CAA, "--format", "json").output)
    assert history[1]["summary"] == "period 2023-04-01–2026-03-31 → 2023-04-01–2027-03-31; datasets kept from version 1"
