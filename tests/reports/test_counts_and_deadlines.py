"""The administrators' reports over records harvested through the real pipeline, on SQLite and PostgreSQL.

The mixed fixture: three projects and records without one, all four data access rights plus a record without any,
published, withheld and quarantined records, a record funded by two projects, and a record deleted by a re-import.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from gateway import reports
from gateway.cli import cli
from gateway.config import ConfigError, from_dict, load
from gateway.db import session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import Record
from gateway.reports.writers import display_width
from tests.support.records import dataset

CAA = "JPCACAA00000001"
JST = "JPMJPF2301"
JSPS = "JP22H00001"
PROJECTS = {  # funder ja, en, code; program ja, en, code; project ja, en
    CAA: ("消費者庁", "Consumer Affairs Agency", "1080",
          "食品健康影響評価技術研究", "Food Safety Research", "CA", "食品リスク研究", "Food risk study"),
    JST: ("科学技術振興機構", "Japan Science and Technology Agency", "1020",
          "未来社会創造事業", "Mirai Program", "MJPF", "未来研究", "Future study"),
    JSPS: ("日本学術振興会", "Japan Society for the Promotion of Science", "1010",
           "科学研究費助成事業", "KAKENHI", "JP", "基盤研究", "Basic research"),
}


def funding(jgn: str) -> str:
    # other grant numbers borrow JST's names: only the number matters to them
    f_ja, f_en, f_code, p_ja, p_en, stream, t_ja, t_en = PROJECTS.get(jgn, PROJECTS[JST])
    return (
        "<jpcoar:fundingReference>"
        f'<jpcoar:funderIdentifier funderIdentifierType="e-Rad_funder">{f_code}</jpcoar:funderIdentifier>'
        f'<jpcoar:funderName xml:lang="ja">{f_ja}</jpcoar:funderName>'
        f'<jpcoar:funderName xml:lang="en">{f_en}</jpcoar:funderName>'
        f'<jpcoar:fundingStreamIdentifier fundingStreamIdentifierType="JGN_fundingStream">{stream}'
        "</jpcoar:fundingStreamIdentifier>"
        f'<jpcoar:fundingStream xml:lang="ja">{p_ja}</jpcoar:fundingStream>'
        f'<jpcoar:fundingStream xml:lang="en">{p_en}</jpcoar:fundingStream>'
        f'<jpcoar:awardNumber awardNumberType="JGN">{jgn}</jpcoar:awardNumber>'
        f'<jpcoar:awardTitle xml:lang="ja">{t_ja}</jpcoar:awardTitle>'
        f'<jpcoar:awardTitle xml:lang="en">{t_en}</jpcoar:awardTitle>'
        "</jpcoar:fundingReference>"
    )


def record(
    name: str,
    *jgns: str,
    access: str = "open",
    available: str | None = None,
    omit: tuple[str, ...] = (),
    article: bool = False,
    no_access_right: bool = False,
) -> str:
    article_type = {"type_uri": "http://purl.org/coar/resource_type/c_6501", "type_label": "journal article"}
    kwargs = article_type if article else {}
    xml = dataset(f"データ {name}", access=access, available=available, data_no=f"D-{name}", doi=f"10.99999/{name}",
                  omit=omit + (() if jgns else ("funding",)), **kwargs)
    if jgns:
        xml = re.sub(r"<jpcoar:fundingReference>.*?</jpcoar:fundingReference>",
                     "".join(funding(j) for j in jgns), xml, count=1, flags=re.S)
    if no_access_right:
        xml = re.sub(r"<dcterms:accessRights .*?</dcterms:accessRights>", "", xml, flags=re.S)
    return xml


# name -> (record XML, disclosure); status and category follow from them through the policy gate
SOURCE_A = {
    "a1": (record("a1", CAA), "public"),
    "a2": (record("a2", CAA, access="restricted"), "public"),
    "a3": (record("a3", CAA, access="metadata-only"), "public"),
    "a4": (record("a4", CAA, access="embargoed", available="2030-04-01"), "public"),
    "a5": (record("a5", CAA), "shared"),  # withheld
    "a6": (record("a6", CAA, access="restricted", omit=("description",)), "public"),  # quarantined
    "a7": (record("a7", JST, JSPS, access="embargoed", available="2030-06-01"), "public"),  # two projects
    "a8": (record("a8", JST), "public"),  # deleted by the second import
    "a9": (record("a9", JST, access="metadata-only"), "private"),  # withheld
    "a10": (record("a10", article=True), "public"),  # no project
    "a11": (record("a11", JST, no_access_right=True), "public"),  # quarantined, access unknown
}
SOURCE_B = {
    "b1": (record("b1", JSPS), "public"),
    "b2": (record("b2", CAA, access="restricted"), "public"),
}
# What a person counting the fixture by hand gets (a8 is deleted; a7 is in JST and JSPS).
EXPECTED = {
    CAA: {"open": 2, "restricted": 3, "metadata_only": 1, "embargoed": 1, "unknown": 0, "total": 7,
          "published": 5, "withheld": 1, "quarantined": 1},
    JST: {"open": 0, "restricted": 0, "metadata_only": 1, "embargoed": 1, "unknown": 1, "total": 3,
          "published": 1, "withheld": 1, "quarantined": 1},
    JSPS: {"open": 1, "restricted": 0, "metadata_only": 0, "embargoed": 1, "unknown": 0, "total": 2,
           "published": 2, "withheld": 0, "quarantined": 0},
    None: {"open": 1, "restricted": 0, "metadata_only": 0, "embargoed": 0, "unknown": 0, "total": 1,
           "published": 1, "withheld": 0, "quarantined": 0},
    "total": {"open": 4, "restricted": 3, "metadata_only": 2, "embargoed": 3, "unknown": 1, "total": 13,
              "published": 9, "withheld": 2, "quarantined": 2},
}
NUMBERS = list(EXPECTED[CAA])


def write_folder(folder: Path, records: dict[str, tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, (xml, disclosure) in records.items():
        (folder / f"{name}.xml").write_text(xml, encoding="utf-8")
        if disclosure != "public":
            manifest.append(f'[records.{name}]\ndisclosure = "{disclosure}"\n')
    (folder / "manifest.toml").write_text("".join(manifest), encoding="utf-8")


def write_config(tmp_path: Path, projects: str = "") -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[repository]\nname = "Test"\nidentifier = "gateway.test.ac.jp"\nadmin_email = ["rdm@test.ac.jp"]\n'
        '[[sources]]\nname = "files-a"\nkind = "directory"\npath = "a"\n'
        '[[sources]]\nname = "files-b"\nkind = "directory"\npath = "b"\n' + projects,
        encoding="utf-8",
    )
    return path


def harvest_all(config, engine) -> None:
    sessions = session_factory(engine)
    for source in config.sources:
        run = run_harvest(config, sessions, source)
        assert run.status == "succeeded", run.message


@pytest.fixture
def mixed(engine, db_url, tmp_path):
    """The mixed fixture harvested, with a8 then deleted by a complete re-import: (config path, db url, engine)."""
    write_folder(tmp_path / "a", SOURCE_A)
    write_folder(tmp_path / "b", SOURCE_B)
    path = write_config(tmp_path)
    config = load(path, database_url=db_url)
    harvest_all(config, engine)
    (tmp_path / "a" / "a8.xml").unlink()
    harvest_all(config, engine)
    with session_factory(engine)() as s:
        status = {r.source_identifier: (r.status, r.access_right) for r in s.scalars(select(Record))}
    # The fixture is what it claims to be, so the expected numbers above are about the intended records.
    assert status["a5"][0] == status["a9"][0] == "withheld"
    assert status["a6"][0] == status["a11"][0] == "quarantined" and status["a11"][1] is None
    assert status["a8"][0] == "deleted" and status["a10"][0] == status["a7"][0] == "published"
    return path, db_url, engine


def numbers(row: dict) -> dict:
    return {k: row[k] for k in NUMBERS}


def gateway(path: Path, db_url: str, *args: str) -> bytes:
    result = CliRunner().invoke(cli, ["--config", str(path), "--database-url", db_url, "report", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_counts_of_the_mixed_fixture(mixed):
    _, _, engine = mixed
    with session_factory(engine)() as s:
        rows = reports.counts(s)
        by_jgn = {r.jgn: r.to_dict() for r in rows}
        assert [r.jgn for r in rows] == [*sorted([CAA, JST, JSPS]), None]
        assert rows[-1].row == "no_project"
        for jgn, expected in EXPECTED.items():
            got = reports.totals(rows).to_dict() if jgn == "total" else by_jgn[jgn]
            assert numbers(got) == expected, jgn
        caa = by_jgn[CAA]
        assert (caa["funder_code"], caa["funder_name_ja"], caa["funder_name_en"]) == (
            "1080", "消費者庁", "Consumer Affairs Agency")
        assert (caa["program_code"], caa["program_name_ja"], caa["project_name_en"]) == (
            "CA", "食品健康影響評価技術研究", "Food risk study")
        # Only one source's records, and only one project.
        only_b = {r.jgn: numbers(r.to_dict()) for r in reports.counts(s, source="files-b")}
        assert set(only_b) == {CAA, JSPS}
        assert only_b[CAA]["restricted"] == only_b[CAA]["total"] == only_b[CAA]["published"] == 1
        assert only_b[JSPS]["open"] == only_b[JSPS]["total"] == only_b[JSPS]["published"] == 1  # a7 is in source a
        only_jst = reports.counts(s, project=JST)
        assert [r.jgn for r in only_jst] == [JST] and numbers(only_jst[0].to_dict()) == EXPECTED[JST]
        assert reports.counts(s, project="JPNOSUCH0000") == []
        with pytest.raises(reports.ReportError, match="no source named 'nope'"):
            reports.counts(s, source="nope")


def test_counts_in_every_format(mixed, tmp_path):
    path, db_url, _ = mixed
    labels = {CAA: CAA, JST: JST, JSPS: JSPS, None: "(no project)", "total": "total"}

    as_json = json.loads(gateway(path, db_url, "counts", "--format", "json"))
    assert [r["row"] for r in as_json] == ["project"] * 3 + ["no_project", "total"]
    got = {r["jgn"] if r["row"] != "total" else "total": numbers(r) for r in as_json}
    assert got == EXPECTED

    raw_csv = gateway(path, db_url, "counts", "--format", "csv")
    assert raw_csv.startswith(b"\xef\xbb\xbf")  # the BOM Japanese Excel needs to read UTF-8
    table = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    header = table[0]
    columns = {c.key: c.header for c in reports.counts_columns(as_json)}
    assert "公開 open" in header and "非公開・非共有 metadata only" in header and "不明 unknown" in header
    index = {key: header.index(h) for key, h in columns.items()}
    by_label = {r[index["jgn"]]: r for r in table[1:]}
    assert set(by_label) == set(labels.values())
    for key, label in labels.items():
        assert {k: int(by_label[label][index[k]]) for k in NUMBERS} == EXPECTED[key], label
    assert by_label[CAA][index["funder_name_ja"]] == "消費者庁"

    text = gateway(path, db_url, "counts").decode("utf-8")
    lines = text.splitlines()
    assert "体系的番号" in lines[0] and "合計 total" in lines[0]
    for key, label in labels.items():
        line = next(line for line in lines if line.startswith(label + " "))
        figures = [int(x) for x in line.split()[-9:]]
        assert figures == [EXPECTED[key][k] for k in NUMBERS], line
    # Japanese names take two cells each, and the columns still line up.
    ends = {display_width(line) for line in lines[2:] if line.strip()}
    assert len(ends) == 1, lines

    out = tmp_path / "counts.xlsx"
    gateway(path, db_url, "counts", "--format", "xlsx", "--output", str(out))
    ws = load_workbook(out).active
    assert ws.title == "counts" and ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert all(c.font.bold for c in ws[1])
    assert header == [c.header for c in reports.counts_columns(as_json)]
    sheet = {row[0]: dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)}
    assert set(sheet) == set(labels.values())
    for key, label in labels.items():
        for k in NUMBERS:
            value = sheet[label][columns[k]]
            assert isinstance(value, int) and value == EXPECTED[key][k], (label, k)
    assert sheet[JST]["プロジェクト名 project (ja)"] == "未来研究"
    assert all(c.font.bold for c in ws[ws.max_row]) and ws.cell(ws.max_row, 1).value == "total"

    # Filters reach the command line; xlsx without a file is refused; an unknown source is one clear line.
    only = json.loads(gateway(path, db_url, "counts", "--project", JSPS, "--source", "files-b", "--format", "json"))
    assert [(r["jgn"], r["total"]) for r in only] == [(JSPS, 1), (None, 1)]
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(path), "--database-url", db_url, "report", "counts", "--format",
                                 "xlsx"])
    assert result.exit_code != 0 and "--output" in result.output
    result = runner.invoke(cli, ["--config", str(path), "--database-url", db_url, "report", "counts", "--source",
                                 "nope"])
    assert result.exit_code == 1 and "no source named 'nope'" in result.output and "Traceback" not in result.output


def test_unknown_column_is_shown_only_when_needed(mixed):
    _, _, engine = mixed
    with session_factory(engine)() as s:
        rows = reports.counts(s, source="files-b")
    buf = io.BytesIO()
    reports.write_counts(rows, "csv", buf)
    header = next(csv.reader(io.StringIO(buf.getvalue().decode("utf-8-sig"))))
    assert "不明 unknown" not in header and "公開猶予 embargoed" in header


EMBARGO_DAY = date(2030, 4, 1)


def test_embargoes_around_their_boundaries(engine, db_url, tmp_path):
    write_folder(tmp_path / "a", {
        "yesterday": (record("yesterday", JST, access="embargoed", available="2030-03-31"), "public"),
        "today": (record("today", JST, access="embargoed", available="2030-04-01"), "public"),
        "plus30": (record("plus30", CAA, access="embargoed", available="2030-05-01"), "shared"),
        "plus31": (record("plus31", JST, access="embargoed", available="2030-05-02"), "public"),
        "month": (record("month", JST, access="embargoed", available="2030-04"), "public"),
        "open-past": (record("open-past", JST, available="2020-01-01"), "public"),
        "gone": (record("gone", JST, access="embargoed", available="2029-01-01"), "public"),
        "undated": (record("undated", JST, access="embargoed"), "public"),
    })
    write_folder(tmp_path / "b", {})
    config = load(write_config(tmp_path), database_url=db_url)
    harvest_all(config, engine)
    (tmp_path / "a" / "gone.xml").unlink()
    harvest_all(config, engine)
    with session_factory(engine)() as s:
        rows = reports.embargoes(s, today=EMBARGO_DAY)
        got = {r["record"].split("/", 1)[1]: (r["state"], r["days_left"]) for r in rows}
        assert got == {
            "yesterday": ("overdue", -1),
            "today": ("due", 0),
            "month": ("due", 0),
            "plus30": ("due", 30),
            "undated": ("no_date", None),
        }
        assert rows[0]["record"].endswith("/yesterday") and rows[-1]["state"] == "no_date"
        plus30 = next(r for r in rows if r["record"].endswith("plus30"))
        assert plus30["status"] == "withheld" and plus30["jgn"] == CAA and plus30["data_number"] == "D-plus30"
        assert plus30["data_manager"] == "データ管理室" and plus30["source"] == "files-a"
        # One day later, the record due today is overdue and the one at +31 comes into the window.
        later = {r["record"].split("/", 1)[1]: r["state"] for r in reports.embargoes(s, today=date(2030, 4, 2))}
        assert later["today"] == "overdue" and later["plus31"] == "due"
        assert "plus31" not in {r["record"].split("/", 1)[1] for r in reports.embargoes(s, today=EMBARGO_DAY,
                                                                                          within_days=30)}
        assert {r["record"].split("/", 1)[1] for r in reports.embargoes(s, today=EMBARGO_DAY, within_days=0)} == {
            "yesterday", "today", "month", "undated"}
    listed = json.loads(gateway(tmp_path / "gateway.toml", db_url, "embargoes", "--today", "2030-04-01",
                                "--within", "31", "--format", "json"))
    assert {r["record"].split("/", 1)[1] for r in listed} == set(got) | {"plus31"}
    out = tmp_path / "embargoes.xlsx"
    gateway(tmp_path / "gateway.toml", db_url, "embargoes", "--today", "2030-04-01", "--format", "xlsx",
            "--output", str(out))
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    first = dict(zip(header, next(ws.iter_rows(min_row=2, values_only=True)), strict=True))
    assert first["公開予定日 available"] == datetime(2030, 3, 31) and first["days left"] == -1


PROJECT_TABLES = f"""
[[projects]]
jgn = "{CAA}"
name = "食品リスク研究"
start = 2022-04-01
end = 2025-03-31
funder = "消費者庁"
program = "CA"

[[projects]]
jgn = "JPNOREC00001"
name = "No records yet"
start = "2023-01-01"
end = "2024-12-31"

[[projects]]
jgn = "JPWITHHELD01"
name = "Withheld only"
start = 2023-04-01
end = 2025-03-31
"""


def test_deadlines_around_end_plus_61_days(engine, db_url, tmp_path):
    write_folder(tmp_path / "a", {
        "registered": (record("registered", CAA), "public"),
        "unregistered": (record("unregistered", "JPWITHHELD01"), "shared"),
        "deleted": (record("deleted", "JPNOREC00001"), "public"),
    })
    write_folder(tmp_path / "b", {})
    path = write_config(tmp_path, PROJECT_TABLES)
    config = load(path, database_url=db_url)
    harvest_all(config, engine)
    (tmp_path / "a" / "deleted.xml").unlink()
    harvest_all(config, engine)

    def states(today: date) -> dict:
        with session_factory(engine)() as s:
            return {r["jgn"]: r for r in reports.deadlines(s, config, today=today) if r["due"] == "end"}

    on_deadline = states(date(2025, 5, 31))  # 2025-03-31 + 61 days
    withheld = on_deadline["JPWITHHELD01"]
    assert (withheld["deadline"], withheld["days_left"], withheld["state"]) == ("2025-05-31", 0, "open")
    assert (withheld["records_held"], withheld["records_published"], withheld["registered"]) == (1, 0, False)
    caa = on_deadline[CAA]
    assert (caa["state"], caa["records_held"], caa["records_published"], caa["funder"]) == (
        "registered", 1, 1, "消費者庁")
    no_records = on_deadline["JPNOREC00001"]  # its only record was deleted: nothing is held
    assert (no_records["deadline"], no_records["records_held"], no_records["state"]) == ("2025-03-02", 0, "overdue")
    assert states(date(2025, 3, 2))["JPNOREC00001"]["state"] == "open"
    day_after = states(date(2025, 6, 1))
    assert day_after["JPWITHHELD01"]["state"] == "overdue" and day_after["JPWITHHELD01"]["days_left"] == -1
    assert day_after[CAA]["state"] == "registered"

    # Each fiscal year that ends before the project does is due too (31 March + 61 days); overdue rows first.
    rows = json.loads(gateway(path, db_url, "deadlines", "--today", "2025-06-01", "--format", "json"))
    assert [(r["jgn"], r["deadline"], r["due"]) for r in rows] == [
        ("JPNOREC00001", "2023-05-31", "fiscal_year"),
        ("JPNOREC00001", "2024-05-31", "fiscal_year"),
        ("JPWITHHELD01", "2024-05-31", "fiscal_year"),
        ("JPNOREC00001", "2025-03-02", "end"),
        ("JPWITHHELD01", "2025-05-31", "end"),
        (CAA, "2023-05-31", "fiscal_year"),
        (CAA, "2024-05-31", "fiscal_year"),
        (CAA, "2025-05-31", "end"),
    ]
    raw = gateway(path, db_url, "deadlines", "--today", "2025-06-01", "--format", "csv").decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(raw)))
    ends = [r for r in parsed if r["期限の種類 due for"] == "end"]
    assert [(r["体系的番号 JGN"], r["登録期限 deadline"], r["state"], r["registered"]) for r in ends] == [
        ("JPNOREC00001", "2025-03-02", "overdue", "no"),
        ("JPWITHHELD01", "2025-05-31", "overdue", "no"),
        (CAA, "2025-05-31", "registered", "yes"),
    ]
    assert {r["登録するもの what is due"] for r in ends} == {"metadata and counts"}


def test_projects_configuration_errors_name_the_key():
    base = {"repository": {"identifier": "gateway.test.ac.jp"}}
    good = {"jgn": CAA, "name": "x", "start": date(2022, 4, 1), "end": "2025-03-31"}
    config = from_dict({**base, "projects": [good]})
    assert config.projects[0].end == date(2025, 3, 31) and config.projects[0].funder is None
    for change, key in (
        ({"end": "2025-02-30"}, f"projects.{CAA}.end"),
        ({"end": "31/03/2025"}, f"projects.{CAA}.end"),
        ({"end": date(2021, 1, 1)}, f"projects.{CAA}.end"),
        ({"start": None}, f"projects.{CAA}.start"),
        ({"jgn": "JP 1"}, "projects[0].jgn"),
        ({"name": ""}, f"projects.{CAA}.name"),
        ({"colour": "red"}, f"projects.{CAA}.colour"),
    ):
        project = {k: v for k, v in {**good, **change}.items() if v is not None}
        with pytest.raises(ConfigError) as err:
            from_dict({**base, "projects": [project]})
        assert err.value.key == key, (change, str(err.value))
    with pytest.raises(ConfigError, match="more than once"):
        from_dict({**base, "projects": [good, good]})
    with pytest.raises(ConfigError) as err:
        from_dict({**base, "projects": [{k: v for k, v in good.items() if k != "end"}]})
    assert err.value.key == f"projects.{CAA}.end" and "required" in str(err.value)
