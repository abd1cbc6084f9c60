"""The DMP at the centre, end to end (issue 16's "done when"), on SQLite and PostgreSQL.

An AMED project (2021-04-01 to 2024-03-31) with a DMP of eight datasets: D-1 and D-2 under 制限共有 (one of each
kind), D-3, D-4, D-6 and D-7 非制限公開, D-5 制限公開, D-8 非公開. Records of six of them are held: D-1, D-3, D-4 and
D-5 from a repository harvested over OAI-PMH (a real local server), D-2, D-3 and D-6 from a GakuNin RDM report — D-3
in both, so one dataset from two sources — and the repository also holds D-9, which the DMP does not declare. A
paper for D-1 was accepted 14 months after the end (2025-05-31).

The same figures are asserted on every surface: the command line (JSON), the API, the dashboard and the provider.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from gateway.admin import auth
from gateway.app import create_app
from gateway.cli import cli
from gateway.config import load
from gateway.db import make_engine, session_factory, transaction
from tests.admin.logins import PASSWORD, login
from tests.support.amed_dmp import JGN, write_config, write_dmp
from tests.support.commonitem_rows import template, write_report
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.records import dataset
from tests.support.servers import serve_wsgi

OAI = "{http://www.openarchives.org/OAI/2.0/}"
_STAFF = "東京医科大学,佐藤花子,,"
DMP_ROWS = (
    f"D-1,臨床データ,臨床情報,100,1-10GB,制限共有（外部関係者と共有）,,自機関サーバー,{_STAFF}",
    f"D-2,オミックスデータ,オミックス解析,50,<1GB,制限共有（内部関係者と共有）,,自機関サーバー,{_STAFF}",
    f"D-3,画像データ,画像,10,<1GB,非制限公開,2024-03-31,NBDC,{_STAFF}",
    f"D-4,質問票データ,質問票,10,<1GB,非制限公開,2024-03-31,NBDC,{_STAFF}",
    f"D-5,検査値データ,検査値,10,<1GB,制限公開,2024-03-31,NBDC,{_STAFF}",
    f"D-6,解析コード,コード,1,<1GB,非制限公開,2024-03-31,GakuNin RDM,{_STAFF}",
    f"D-7,追跡調査データ,追跡,10,<1GB,非制限公開,2025-03-31,NBDC,{_STAFF}",
    f"D-8,試料管理データ,試料,10,<1GB,非公開,,,{_STAFF}",
)
REPOSITORY = [  # data number, title, access right, DOI
    ("D-1", "臨床データ", "restricted", "10.99999/amed.1"),
    ("D-3", "画像データ", "open", "10.99999/amed.3"),
    ("D-4", "質問票データ", "open", "10.99999/amed.4"),
    ("D-5", "検査値データ", "restricted", "10.99999/amed.5"),
    ("D-9", "DMPにないデータ", "open", "10.99999/amed.9"),
]
GRDM = [("D-2", "オミックスデータ", "共有", "10.99999/amed.2"), ("D-3", "画像データ", "公開", "10.99999/amed.3"),
        ("D-6", "解析コード", "公開", "10.99999/amed.6")]  # fmt: skip


def _repo_id(number: str) -> str:
    return f"repo/oai:repo.example.ac.jp:{number}"


#: what the reconciliation says, per DMP dataset: (number, section, record, how matched, access right)
RECONCILED = [
    ("D-1", "registered", _repo_id("D-1"), "data number", "restricted"),
    ("D-2", "registered", f"rdm/{JGN}/D-2", "data number", "restricted"),
    ("D-3", "registered", _repo_id("D-3"), "data number", "open"),  # the repository's: its priority is higher
    ("D-4", "registered", _repo_id("D-4"), "data number", "open"),
    ("D-5", "registered", _repo_id("D-5"), "data number", "restricted"),
    ("D-6", "registered", f"rdm/{JGN}/D-6", "data number", "open"),
    ("D-7", "not_registered", None, None, None),
    ("D-8", "not_registered", None, None, None),
    (None, "undeclared", _repo_id("D-9"), None, "open"),
]


@pytest.fixture
def scenario(db_url: str, tmp_path: Path):
    write_dmp(tmp_path / "dmp.csv", rows=DMP_ROWS)
    rows = []
    for number, title, access, doi in GRDM:
        row = template()
        row.update(jgn=JGN, data_number=number, title=f"{title}|{number}", access_rights=access,
                   repository_url=f"https://doi.org/{doi}", available_date="")  # fmt: skip
        rows.append(row)
    write_report(tmp_path / "report.csv", rows)
    records = [
        FixtureRecord(identifier=f"oai:repo.example.ac.jp:{number}", datestamp="2024-05-01T00:00:00Z",
                      metadata=dataset(title, title_en=number, data_no=number, jgn=JGN, access=access, doi=doi))
        for number, title, access, doi in REPOSITORY
    ]  # fmt: skip
    with serve_wsgi(FixtureRepository(records, page_size=2)) as base:
        path = write_config(
            tmp_path,
            f'\n[[sources]]\nname = "repo"\nkind = "oai-pmh"\nurl = "{base}/oai"\nmetadata_prefix = "jpcoar_2.0"\n'
            "priority = 10\n"
            '\n[[sources]]\nname = "rdm"\nkind = "grdm"\npath = "report.csv"\nmetadata_disclosure = "public"\n',
        )
        config = load(path, database_url=db_url)

        def gateway(*args: str, code: int = 0) -> str:
            result = CliRunner().invoke(cli, ["--config", str(path), "--database-url", db_url, *args])
            assert result.exit_code == code, result.output
            return result.output

        gateway("init")
        assert "8 rows imported, 0 held with errors" in gateway("dmp", "import", str(tmp_path / "dmp.csv"))
        harvest = gateway("harvest")
        assert "repo: succeeded — 5 new" in harvest and "rdm: succeeded — 3 new" in harvest, harvest
    gateway("dmp", "publication", JGN, "--date", "2025-05-31", "--kind", "paper", "--dataset", "D-1")
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "view", PASSWORD, "viewer")
        token = auth.create_token(s, "viewer-token", "view")
    app = create_app(config, engine)
    yield gateway, app, {"Authorization": f"Bearer {token}"}
    engine.dispose()


def _reconciled(rows: list[dict]) -> list[tuple]:
    return [(r["number"], r["section"], r["record"], r["how"], r["access_right"]) for r in rows]


def test_reconciliation_deadlines_transitions_and_counts_on_every_surface(scenario):
    gateway, app, token = scenario
    api = app.test_client()

    # reconciliation: six registered (each saying how), two not registered and overdue, one undeclared
    dmp = json.loads(gateway("report", "dmp", "--today", "2025-06-01", "--format", "json"))
    assert _reconciled(dmp) == RECONCILED
    assert [(r["number"], r["deadline"], r["days_overdue"]) for r in dmp if r["section"] == "not_registered"] == [
        ("D-7", "2024-05-31", 366), ("D-8", "2024-05-31", 366)]  # fmt: skip
    assert all(r["published"] for r in dmp if r["section"] != "not_registered")
    answer = api.get("/api/reports/dmp?today=2025-06-01", headers=token).get_json()
    assert answer["rows"] == dmp
    summary = {k: answer["projects"][0][k] for k in ("declared", "registered", "not_registered", "undeclared")}
    assert summary == {"declared": 8, "registered": 6, "not_registered": 2, "undeclared": 1}

    # deadlines: metadata and counts 61 days after the end, with the two datasets missing
    deadlines = json.loads(gateway("report", "deadlines", "--today", "2025-06-01", "--format", "json"))
    end = [r for r in deadlines if r["due"] == "end"]
    assert [(r["what"], r["deadline"], r["days_left"], r["datasets_due"], r["datasets_missing"], r["state"])
            for r in end] == [("metadata and counts", "2024-05-31", -366, 8, 2, "overdue")]  # fmt: skip
    assert end[0]["missing"] == "D-7 追跡調査データ; D-8 試料管理データ" and end[0]["records_held"] == 7
    assert deadlines[0] == end[0]  # overdue first
    assert api.get("/api/reports/deadlines?today=2025-06-01", headers=token).get_json()["deadlines"] == deadlines

    # transitions: D-1 by its paper (14 months after the end), D-2 at end + 2 years, and the two reviews
    moves = json.loads(gateway("report", "transitions", "--today", "2026-01-01", "--format", "json"))
    assert [(t["data_number"], t["state"], t["date"], t["days_left"], t["basis"]) for t in moves["transitions"]] == [
        ("D-1", "overdue", "2025-05-31", -215, "paper"), ("D-2", "due", "2026-03-31", 89, "end")]  # fmt: skip
    assert [(r["years_after_end"], r["date"], r["state"]) for r in moves["reviews"]] == [
        (2, "2026-03-31", "due"), (4, "2028-03-31", "upcoming")]  # fmt: skip
    assert api.get("/api/reports/transitions?today=2026-01-01", headers=token).get_json() == moves

    # counts: D-3 once, whichever source it came from; D-9 counted (it is held), nothing twice
    counts = json.loads(gateway("report", "counts", "--format", "json"))
    figures = {k: counts[0][k] for k in ("open", "restricted", "metadata_only", "embargoed", "total", "published")}
    assert figures == {"open": 4, "restricted": 3, "metadata_only": 0, "embargoed": 0, "total": 7, "published": 7}
    by_api = api.get("/api/reports/counts", headers=token).get_json()
    assert by_api["rows"] + [by_api["totals"]] == counts

    # the provider serves the dataset held twice once, from the source with the higher priority
    listed = etree.fromstring(api.get("/oai?verb=ListIdentifiers&metadataPrefix=jpcoar_2.0").data)
    served = sorted(h.findtext(f"{OAI}identifier") for h in listed.iter(f"{OAI}header")
                    if h.get("status") != "deleted")  # fmt: skip
    assert len(served) == 7 and f"oai:gateway.test.ac.jp:{_repo_id('D-3')}" in served
    assert f"oai:gateway.test.ac.jp:rdm/{JGN}/D-3" not in served
    shown = gateway("records", "show", f"oai:gateway.test.ac.jp:rdm/{JGN}/D-3")
    assert f"duplicate of oai:gateway.test.ac.jp:{_repo_id('D-3')} (source repo, priority 10)" in shown

    # the dashboard shows the same numbers
    assert login(api, "view").status_code in (302, 303)
    page = api.get("/admin/reports/dmp?today=2025-06-01&lang=en").get_data(as_text=True)
    numbers = {k: int(v) for k, v in re.findall(r'data-key="(\w+)">(\d+)<', page)}
    assert {k: numbers[k] for k in summary} == summary
    assert page.count('data-section="not_registered"') == 2
    transitions = api.get("/admin/transitions?today=2026-01-01&lang=en").get_data(as_text=True)
    assert "2025-05-31" in transitions and "-215" in transitions and "89" in transitions
