"""Rows that cannot be read are held, not fatal: GakuNin RDM reports, RO-Crate, registration JSON and spreadsheets.

A six-row project written in the guideline's, GakuNin RDM's and AMED's wordings is imported in every form (the
Japanese report, its English-header form, CP932 with CRLF, UTF-8 with a BOM, .xlsx and the gateway's own export) and
must count 2 open / 2 restricted / 1 metadata only / 1 embargoed in `gateway report counts`.  Two bad rows added to it
are held in quarantine (with a finding naming file, row, column, value and what is expected), counted in the project,
and never served; the six good rows are imported as usual.  Storage is tested on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from gateway.app import create_app
from gateway.cli import cli
from gateway.cli.export import export_rows, write_sheet
from gateway.config import load
from gateway.db import session_factory
from gateway.harvest.runner import remap, run_harvest
from gateway.models import PublishedFormat, Record
from tests.support import paths
from tests.support.commonitem_rows import (
    EXPECTED,
    JGN,
    WORDINGS,
    bad_rows,
    project_rows,
    write_form,
    write_report,
)

FIXTURES = paths.FIXTURES / "grdm"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
REPO = "gateway.test.ac.jp"
COUNTED = ("open", "restricted", "metadata_only", "embargoed", "unknown")


# ---------------------------------------------------------------------------------------------------------- running


def write_config(tmp_path: Path, db_url: str, sources: list[dict[str, str]]) -> Path:
    lines = [
        "[repository]",
        'name = "Held rows"',
        f'identifier = "{REPO}"',
        'base_url = "http://127.0.0.1:8080/oai"',
        'admin_email = ["rdm@test.ac.jp"]',
        "page_size = 100",
        "[database]",
        f'url = "{db_url}"',
    ]
    for source in sources:
        lines.append("[[sources]]")
        lines.extend(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in source.items())
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def gateway(config: Path, db_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--config", str(config), "--database-url", db_url, *args])


def counts_of(config: Path, db_url: str, source: str) -> dict[str | None, dict[str, Any]]:
    """`gateway report counts --format json` for one source, by Japan Grant Number (None: the "(no project)" row)."""
    result = gateway(config, db_url, "report", "counts", "--format", "json", "--source", source)
    assert result.exit_code == 0, result.output
    return {row["jgn"]: row for row in json.loads(result.output) if row["row"] != "total"}


def by_access(row: dict[str, Any]) -> dict[str, int]:
    return {key: row.get(key, 0) for key in COUNTED}


def harvest(config: Path, db_url: str, engine, name: str):  # type: ignore[no-untyped-def]
    cfg = load(config, database_url=db_url)
    sessions = session_factory(engine)
    return cfg, sessions, run_harvest(cfg, sessions, cfg.source(name))


def records_of(sessions, source: str) -> dict[str, Record]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        rows = s.scalars(select(Record).where(Record.source.has(name=source), Record.source_deleted.is_(False)))
        return {r.source_identifier: r for r in rows}


def source_findings(record: Record) -> list[dict[str, Any]]:
    return [f for f in record.findings or [] if f["layer"] == "source"]


def oai(client, **query: str) -> etree._Element:  # type: ignore[no-untyped-def]
    return etree.fromstring(client.get("/oai", query_string=query).data)


# ---------------------------------------------------------------------------------------------------------- forms


@pytest.mark.parametrize("form", sorted(WORDINGS))
def test_each_form_in_the_guideline_wordings_counts_2_2_1_1(engine, db_url, tmp_path, form) -> None:
    path = write_form(form, tmp_path / "in", project_rows(WORDINGS[form]))
    config = write_config(
        tmp_path, db_url, [{"name": "rdm", "kind": "grdm", "path": str(path), "metadata_disclosure": "public"}]
    )
    if form == "xlsx":  # a GakuNin RDM source reads reports; a workbook comes through a spreadsheet source
        config = write_config(
            tmp_path,
            db_url,
            [{"name": "rdm", "kind": "spreadsheet", "path": str(path), "metadata_disclosure": "public"}],
        )
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status == "succeeded", run.errors
    records = records_of(sessions, "rdm")
    assert sorted(records) == [f"{JGN}/HR-{n:02d}" for n in range(1, 7)]
    assert {r.status for r in records.values()} == {"published"}, {k: r.findings for k, r in records.items()}
    rights = [records[f"{JGN}/HR-{n:02d}"].access_right for n in range(1, 7)]
    assert rights == ["open", "open", "restricted", "restricted", "metadata-only", "embargoed"]

    counts = counts_of(config, db_url, "rdm")
    assert list(counts) == [JGN]
    assert by_access(counts[JGN]) == EXPECTED
    assert (counts[JGN]["total"], counts[JGN]["published"], counts[JGN]["quarantined"]) == (6, 6, 0)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_gateways_own_export_imports_to_the_same_counts(engine, db_url, tmp_path, suffix) -> None:
    report = write_report(tmp_path / "report.csv", project_rows(WORDINGS["report-ja"]))
    sheet = tmp_path / f"export{suffix}"
    config = write_config(
        tmp_path,
        db_url,
        [
            {"name": "rdm", "kind": "grdm", "path": str(report), "metadata_disclosure": "public"},
            {"name": "sheet", "kind": "spreadsheet", "path": str(sheet), "priority": 1},
        ],
    )
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status == "succeeded"
    rdm_counts = by_access(counts_of(config, db_url, "rdm")[JGN])
    write_sheet(export_rows(sessions, source="rdm"), sheet, "ja")
    _cfg, sessions, run = harvest(config, db_url, engine, "sheet")
    assert run.status == "succeeded", run.errors
    counts = counts_of(config, db_url, "sheet")
    assert by_access(counts[JGN]) == EXPECTED and counts[JGN]["published"] == 6
    assert rdm_counts == by_access(counts[JGN])
    # the same six datasets from two sources are one record each (gateway.dmp.duplicates): the higher priority's
    # are served and counted, each rdm record is the duplicate of the sheet's with the same access right
    rdm, served = records_of(sessions, "rdm"), {r.id: r for r in records_of(sessions, "sheet").values()}
    assert len(rdm) == 6 and all(served[r.duplicate_of].access_right == r.access_right for r in rdm.values())
    assert JGN not in counts_of(config, db_url, "rdm")


# ---------------------------------------------------------------------------------------------------------- bad rows


def test_two_bad_rows_are_held_counted_and_never_served(engine, db_url, tmp_path) -> None:
    path = write_report(tmp_path / "report.csv", project_rows(WORDINGS["report-ja"]) + bad_rows())
    config = write_config(
        tmp_path, db_url, [{"name": "rdm", "kind": "grdm", "path": str(path), "metadata_disclosure": "public"}]
    )
    cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status != "failed", run.message
    assert run.records_new == 8
    # the run says what was held and why
    assert "2 row(s) held with errors (gateway quarantine lists them)" in run.warnings
    assert [w.split(",")[0] for w in run.warnings if w.startswith("held: ")] == [
        "held: report.csv: row 8",
        "held: report.csv: row 9",
    ]
    records = records_of(sessions, "rdm")
    good = [f"{JGN}/HR-{n:02d}" for n in range(1, 7)]
    undecided, wrong_date = f"{JGN}/HR-07", f"{JGN}/HR-08"
    assert sorted(records) == [*good, undecided, wrong_date]  # held under the identity a good row has
    assert {records[k].status for k in good} == {"published"}
    assert all(not source_findings(records[k]) for k in good)

    # held: quarantined, with one finding naming file, row, column, value and what is expected
    held = {k: records[k] for k in (undecided, wrong_date)}
    assert {r.status for r in held.values()} == {"quarantined"}
    (first,) = source_findings(held[undecided])
    assert first["severity"] == "error" and first["path"] == "access_rights"
    assert first["message"].startswith("report.csv: row 8, column 'アクセス権' (Access rights): 'その他（未定など）' ")
    assert "not decided" in first["message"] and "expected one of 公開 (open access)" in first["message"]
    (second,) = source_findings(held[wrong_date])
    assert second["path"] == "date" and second["value"] == "2024-02-30"
    assert second["message"].startswith(
        "report.csv: row 9, column '掲載日・掲載更新日' (Date (Issued / Updated)): '2024-02-30' is not a date"
    )
    # what could be read is kept: the project, the title, and the second row's access right
    assert held[undecided].access_right is None and held[wrong_date].access_right == "restricted"
    assert held[wrong_date].title == "日付誤りデータ"

    # `gateway quarantine` lists both with their findings
    listing = gateway(config, db_url, "quarantine", "--source", "rdm")
    assert listing.exit_code == 0, listing.output
    lines = [line for line in listing.output.splitlines() if "source.unreadable_value" in line]
    assert len(lines) == 2
    assert any(
        held[undecided].local_id in line and "アクセス権" in line and "その他（未定など）" in line for line in lines
    )
    assert any(
        held[wrong_date].local_id in line and "掲載日・掲載更新日" in line and "2024-02-30" in line for line in lines
    )

    # counted in the project: the first as unknown, the second by its access right
    counts = counts_of(config, db_url, "rdm")
    assert list(counts) == [JGN]
    assert by_access(counts[JGN]) == {"open": 2, "restricted": 3, "metadata_only": 1, "embargoed": 1, "unknown": 1}
    assert (counts[JGN]["total"], counts[JGN]["published"], counts[JGN]["quarantined"]) == (8, 6, 2)

    # never served: not listed, GetRecord says idDoesNotExist, no rendering holds their titles or the problems
    client = create_app(cfg, engine).test_client()
    listed = oai(client, verb="ListIdentifiers", metadataPrefix="jpcoar_2.0")
    identifiers = [e.text for e in listed.iter(f"{OAI}identifier")]
    assert len(identifiers) == 6 and listed.find(f".//{OAI}resumptionToken") is None
    for record in held.values():
        oai_id = f"oai:{REPO}:{record.local_id}"
        assert oai_id not in identifiers
        for prefix in ("jpcoar_2.0", "oai_dc"):
            answer = oai(client, verb="GetRecord", metadataPrefix=prefix, identifier=oai_id)
            assert answer.find(f"{OAI}error").get("code") == "idDoesNotExist"
    with sessions() as s:
        served = b"".join(s.scalars(select(PublishedFormat.xml)))
    assert "未定データ".encode() not in served and "日付誤りデータ".encode() not in served
    assert b"2024-02-30" not in served and b"not decided" not in served

    # the problems are in the raw records: a remap keeps them held, with the same findings
    remap(cfg, sessions)
    again = records_of(sessions, "rdm")
    assert {k: (again[k].status, source_findings(again[k])) for k in held} == {
        undecided: ("quarantined", [first]),
        wrong_date: ("quarantined", [second]),
    }
    assert {again[k].status for k in good} == {"published"}

    # fixed in the next export: published, and the counts follow
    fixed = bad_rows()
    fixed[0]["access_rights"], fixed[1]["date"] = "公開", "2024-02-29"
    write_report(path, project_rows(WORDINGS["report-ja"]) + fixed)
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status == "succeeded" and run.records_changed == 2
    assert {r.status for r in records_of(sessions, "rdm").values()} == {"published"}
    assert by_access(counts_of(config, db_url, "rdm")[JGN]) == {
        "open": 3,
        "restricted": 3,
        "metadata_only": 1,
        "embargoed": 1,
        "unknown": 0,
    }


def test_a_row_without_its_identity_is_held_under_its_place(engine, db_url, tmp_path) -> None:
    rows = project_rows(WORDINGS["report-ja"])
    rows[1]["jgn"] = ""  # row 3: no project
    rows[2]["data_number"] = ""  # row 4: no data number
    rows.append(dict(rows[0], title="二重|Twice"))  # row 8: the identity of row 2 again
    path = write_report(tmp_path / "report.csv", rows)
    config = write_config(
        tmp_path, db_url, [{"name": "rdm", "kind": "grdm", "path": str(path), "metadata_disclosure": "public"}]
    )
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status != "failed", run.message
    records = records_of(sessions, "rdm")
    held = {k: r for k, r in records.items() if r.status == "quarantined"}
    assert sorted(held) == ["duplicate:report.csv#row8", "unreadable:report.csv#row3", "unreadable:report.csv#row4"]
    assert records[f"{JGN}/HR-01"].status == "published"  # the first of the two keeps the identity
    assert records[f"{JGN}/HR-01"].title == "保留試験データ1"
    paths = {k: [f["path"] for f in source_findings(r)] for k, r in held.items()}
    assert paths == {
        "duplicate:report.csv#row8": ["data_number"],
        "unreadable:report.csv#row3": ["jgn"],
        "unreadable:report.csv#row4": ["data_number"],
    }
    (twice,) = source_findings(held["duplicate:report.csv#row8"])
    assert f"{JGN}/HR-01 is also at report.csv: row 2" in twice["message"]

    counts = counts_of(config, db_url, "rdm")
    # rows 4 and 8 still name the project; row 3 does not and is in the "(no project)" row
    assert (counts[JGN]["total"], counts[JGN]["quarantined"], counts[JGN]["published"]) == (6, 2, 4)
    assert (counts[None]["total"], counts[None]["quarantined"], counts[None]["open"]) == (1, 1, 1)

    # the same import again: the same identities, nothing changes
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert (run.records_new, run.records_changed, run.records_unchanged) == (0, 0, 7)


def test_a_file_that_cannot_be_read_changes_nothing(engine, db_url, tmp_path) -> None:
    path = write_report(tmp_path / "report.csv", project_rows(WORDINGS["report-ja"]) + bad_rows())
    config = write_config(
        tmp_path, db_url, [{"name": "rdm", "kind": "grdm", "path": str(path), "metadata_disclosure": "public"}]
    )
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    before = {k: (r.status, r.raw_hash, r.updated_at) for k, r in records_of(sessions, "rdm").items()}
    assert len(before) == 8

    text = path.read_text(encoding="utf-8").replace("アクセス権", "アクセス件", 1)  # an unknown column
    path.write_text(text, encoding="utf-8")
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status == "failed" and "アクセス件" in run.message and "report.csv" in run.message
    assert {k: (r.status, r.raw_hash, r.updated_at) for k, r in records_of(sessions, "rdm").items()} == before

    path.write_bytes(b"\x81\xff" * 40)  # neither UTF-8 nor CP932
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status == "failed" and "encoding" in run.message
    assert {k: (r.status, r.raw_hash, r.updated_at) for k, r in records_of(sessions, "rdm").items()} == before


# ---------------------------------------------------------------------------------------------------------- JSON forms


def _registration_with_bad_entries() -> bytes:
    registration = json.loads((FIXTURES / "registration.json").read_text(encoding="utf-8"))
    files = json.loads(registration["grdm-files"]["value"])
    files[1]["metadata"]["grdm-file:access-rights"]["value"] = "その他（未定など）"
    files.append("not a file entry")
    registration["grdm-files"]["value"] = json.dumps(files, ensure_ascii=False)
    return json.dumps(registration, ensure_ascii=False).encode()


def _crate_with_a_bad_entry() -> bytes:
    with zipfile.ZipFile(FIXTURES / "project-rocrate.zip") as archive:
        crate = json.loads(archive.read("ro-crate-metadata.json"))
    files = [e for e in crate["@graph"] if "RDMFileMetadata" in e.get("@type", [])]
    files[0]["text"] = files[0]["text"][: len(files[0]["text"]) // 2]  # cut in the middle: not JSON
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ro-crate-metadata.json", json.dumps(crate, ensure_ascii=False))
    return buffer.getvalue()


def test_registration_json_with_bad_file_entries_imports_the_rest(engine, db_url, tmp_path) -> None:
    path = tmp_path / "registration.json"
    path.write_bytes(_registration_with_bad_entries())
    config = write_config(tmp_path, db_url, [{"name": "rdm", "kind": "grdm", "path": str(path)}])
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status != "failed", run.message
    records = records_of(sessions, "rdm")
    statuses = {k: r.status for k, r in records.items()}
    assert statuses == {
        f"{JGN}/NE-0001": "published",
        f"{JGN}/NE-0002": "quarantined",  # its access right is not decided
        f"{JGN}/NE-0003": "withheld",  # closed metadata, as before
        "unreadable:registration.json#grdm-files[4]": "quarantined",  # not file metadata at all
    }
    (undecided,) = source_findings(records[f"{JGN}/NE-0002"])
    assert undecided["path"] == "access_rights"
    assert undecided["message"].startswith("registration.json: grdm-files[2], column 'アクセス権'")
    (entry,) = source_findings(records["unreadable:registration.json#grdm-files[4]"])
    assert entry["path"] is None and "'not a file entry' is a str, not file metadata" in entry["message"]
    counts = counts_of(config, db_url, "rdm")
    # both held entries belong to the project (its values come from the registration itself)
    assert (counts[JGN]["total"], counts[JGN]["unknown"], counts[JGN]["quarantined"]) == (4, 2, 2)


def test_ro_crate_with_a_bad_file_entry_imports_the_rest(engine, db_url, tmp_path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(_crate_with_a_bad_entry())
    config = write_config(tmp_path, db_url, [{"name": "rdm", "kind": "grdm", "path": str(path)}])
    _cfg, sessions, run = harvest(config, db_url, engine, "rdm")
    assert run.status != "failed", run.message
    records = records_of(sessions, "rdm")
    held = [k for k, r in records.items() if r.status == "quarantined"]
    assert len(records) == 3 and len(held) == 1
    (ident,) = held
    # the entry says which file it describes: the held record has that file's identity within the project
    assert ident.startswith(f"{JGN}/file:"), ident
    (problem,) = source_findings(records[ident])
    assert problem["message"].startswith("export.zip!ro-crate-metadata.json: @graph[")
    assert "not valid JSON" in problem["message"]
    assert {r.status for k, r in records.items() if k != ident} <= {"published", "withheld"}
    counts = counts_of(config, db_url, "rdm")
    assert (counts[JGN]["total"], counts[JGN]["quarantined"]) == (3, 1)
