"""AMED DataCat (gateway.reports.catalogue, `gateway export catalogue`, /api/reports/catalogue) on SQLite and
PostgreSQL: the items AMED publishes, per dataset, and none of those the DMP form keeps private.

The DMP (tests.support.amed_dmp) has a distinctive value in every private item: the PI's address, telephone and
e-mail, a data-related person whose 公表の可否 is 否 and one whose 公表の可否 is not given. The test first shows the
values are stored (so that their absence from the outputs means something), then looks for them in every format.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from gateway import reports
from gateway.admin import auth
from gateway.app import create_app
from gateway.cli import cli
from gateway.db import session_factory, transaction
from gateway.dmp import layout
from gateway.dmp.versions import import_file
from gateway.models import DmpDataset, DmpVersion
from gateway.reports.catalogue import ITEMS, published_items
from tests.conftest import make_config
from tests.support.amed_dmp import JGN, SECRETS, write_config, write_dmp


@pytest.fixture
def sessions(engine, tmp_path: Path):
    factory = session_factory(engine)
    import_file(factory, write_dmp(tmp_path / "dmp.csv"), now=datetime(2024, 4, 2))
    with factory() as s:
        stored = json.dumps(
            [v.private for v in s.scalars(select(DmpVersion))] + [d.items for d in s.scalars(select(DmpDataset))],
            ensure_ascii=False,
        )
    assert all(value in stored for value in SECRETS.values()), "the fixture's private values are not stored"
    return factory


def test_every_private_item_of_the_dmp_form_has_a_secret_in_the_fixture():
    # a private item added to mappings/dmp/columns.toml without a value here would go untested
    assert {item.key for item in layout.items() if item.private} <= set(SECRETS)
    assert not {source.split(":")[1] for _, source, _ in published_items()} & set(SECRETS)


def test_the_catalogue_rows_carry_the_published_items(sessions):
    with sessions() as s:
        rows = reports.catalogue(s, project=JGN)
    assert [(r["position"], r["data_number"], r["name"]) for r in rows] == [
        (1, "D-1", "臨床データ"),
        (2, "D-2", "オミックスデータ"),
        (3, "D-3", "公開データ"),
        (4, "D-4", "非公開データ"),
    ]
    first = rows[0]
    assert first["program"] == "ゲノム医療実現推進プラットフォーム事業" and first["jgn"] == JGN
    assert (first["project_name_ja"], first["project_name_en"]) == ("ゲノム研究", "Genome study")
    assert (first["pi_name"], first["pi_affiliation"], first["pi_title"]) == ("山田太郎", "東京医科大学", "教授")
    assert (first["description"], first["count"], first["size"]) == ("臨床情報の説明", "100", "1-10GB")
    assert first["sharing"] == "制限共有（外部関係者と共有） (restricted sharing (with external parties))"
    assert (first["planned_date"], first["repository"], first["institution"], first["manager"]) == (
        "2026-03-31",
        "自機関サーバー",
        "東京医科大学",
        "佐藤花子",
    )
    # only the person whose 公表の可否 is 可: not the one with 否, not the one without an answer
    assert first["staff"] == "公表一郎（東京医科大学）"
    assert rows[1]["staff"] is None and rows[3]["sharing"].startswith("非公開")
    assert set(first) == {key for key, _, _ in ITEMS}


def _leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def _gateway(db_url: str, *args: str, folder: Path, check: bool = True):
    config = str(write_config(folder))
    arguments = ["--config", config, "--database-url", db_url, "export", "catalogue", *args]
    return CliRunner().invoke(cli, arguments, catch_exceptions=not check)


def test_no_private_value_reaches_any_format_nor_the_api(sessions, db_url, tmp_path: Path):
    texts = {}
    for fmt in ("json", "csv", "xlsx"):
        out = tmp_path / f"catalogue.{fmt}"
        done = _gateway(db_url, "--format", fmt, "--output", str(out), folder=tmp_path)
        assert done.exit_code == 0 and "4 dataset(s)" in done.output, done.output
        if fmt == "xlsx":
            sheet = load_workbook(out).active
            cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
            assert len(cells) == 5 and cells[0][0] == "事業名 program"
            texts[fmt] = json.dumps(cells, ensure_ascii=False, default=str)
        else:
            texts[fmt] = out.read_text(encoding="utf-8-sig")
    assert [r["data_number"] for r in json.loads(texts["json"])] == ["D-1", "D-2", "D-3", "D-4"]
    header = next(csv.reader(io.StringIO(texts["csv"])))
    assert "データ関連人材 data-related staff" in header and not any("メール" in h or "電話" in h for h in header)
    assert "公表一郎" in texts["csv"] and "公表一郎" in texts["xlsx"]

    app = create_app(make_config(db_url), sessions.kw["bind"])
    with transaction(sessions) as s:
        auth.create_user(s, "viewer", "a long enough password", "viewer")
        token = auth.create_token(s, "t", "viewer")
    answer = app.test_client().get(
        f"/api/reports/catalogue?project={JGN}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and len(answer.get_json()["datasets"]) == 4
    texts["api"] = answer.get_data(as_text=True)
    # the other DMP surfaces must not leak them either
    for path in ("/api/reports/transitions?today=2026-01-01", f"/api/dmp/{JGN}/publications"):
        texts[path] = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert {where: _leaks(text) for where, text in texts.items()} == {where: [] for where in texts}
    # the same rows on every surface
    assert json.loads(texts["api"])["datasets"] == json.loads(texts["json"])


def test_an_unknown_project_is_an_error_not_an_empty_file(sessions, db_url, tmp_path: Path):
    out = tmp_path / "c.csv"
    done = _gateway(db_url, "--project", "JP00x", "--format", "csv", "--output", str(out), folder=tmp_path, check=False)
    assert done.exit_code == 1 and "no DMP is imported" in done.output and not out.exists()
