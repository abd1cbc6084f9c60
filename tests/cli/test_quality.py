"""`gateway validate` offline, and finding snapshots kept per record and run."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import cli
from gateway.config import load
from gateway.db import session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import FindingSnapshot, Record, Source
from tests.conftest import make_config
from tests.support import paths
from tests.support.records import dataset

FIXTURES = paths.FIXTURES / "validate"


def test_validate_flags_the_official_sample_and_exits_non_zero():
    result = CliRunner().invoke(cli, ["validate", str(FIXTURES / "cao.xml"), "--format", "json"])
    assert result.exit_code == 1, result.output
    rows = json.loads(result.output)
    assert any(r["rule"] == "annex3.data_type_mismatch" and r["item"] == 9 for r in rows)


def test_validate_passes_a_valid_file(tmp_path):
    (tmp_path / "ok.xml").write_text(dataset(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_snapshot_written_on_change_only(engine, db_url, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.xml").write_text(dataset(data_no="A-1"), encoding="utf-8")
    cfg = make_config(db_url, [{"name": "files", "kind": "directory", "path": str(folder)}])
    sessions = session_factory(engine)
    run_harvest(cfg, sessions, cfg.sources[0])
    (folder / "a.xml").write_text(dataset(data_no="A-1", omit=("funding",)), encoding="utf-8")
    run_harvest(cfg, sessions, cfg.sources[0])
    (folder / "a.xml").write_text(dataset(data_no="A-1", omit=("funding",), title_en="Other"), encoding="utf-8")
    run_harvest(cfg, sessions, cfg.sources[0])
    with sessions() as session:
        record = session.scalars(select(Record)).one()
        snaps = session.scalars(select(FindingSnapshot).order_by(FindingSnapshot.id)).all()
        assert record.status == "quarantined"
        assert [s.status for s in snaps][:2] == ["published", "quarantined"]
        assert len(snaps) == 2  # the third harvest changed the record but not its status or findings


# -- output formats, parsed back -----------------------------------------------------------------------------------

_FIELDS = ["severity", "rule", "item", "path", "value", "message"]
_TABLE_LINE = re.compile(r"^(?P<record>\S+)  (?P<severity>error|warning) (?P<rule>\S+)(?: \[item (?P<item>\d+)\])? "
                         r"(?P<path>\S*): (?P<message>.*)$")  # fmt: skip


def _quarantine_setup(db_url: str, tmp_path: Path) -> tuple[Path, object]:
    """Two directory sources, each with a quarantined record (of different faults) next to a published one."""
    folders = {}
    for name, broken in (("alpha", {"omit": ("funding",)}), ("beta", {"jgn": "18049069", "access": "embargoed"})):
        folder = tmp_path / name
        folder.mkdir()
        # one DOI each: records of two sources with one DOI would be one dataset (gateway.dmp.duplicates)
        good = dataset(f"{name} 良好", data_no=f"{name}-1", doi=f"10.99999/{name}.1")
        (folder / "good.xml").write_text(good, encoding="utf-8")
        bad = dataset(f"{name} 不良", data_no=f"{name}-2", doi=f"10.99999/{name}.2", **broken)
        (folder / "bad.xml").write_text(bad, encoding="utf-8")
        folders[name] = folder
    config = tmp_path / "gateway.toml"
    config.write_text(
        "[repository]\n"
        'name = "Test Gateway"\nbase_url = "http://127.0.0.1:8080/oai"\nidentifier = "gateway.test.ac.jp"\n'
        'admin_email = ["rdm@test.ac.jp"]\n'
        f'[database]\nurl = "{db_url}"\n'
        + "".join(f'[[sources]]\nname = "{n}"\nkind = "directory"\npath = "{f}"\n' for n, f in folders.items()),
        encoding="utf-8",
    )
    cfg = load(config)
    return config, cfg


def _stored(sessions, source: str | None) -> list[dict]:
    """The quarantined records' findings as stored, in the command's order (by local id, then finding order)."""
    rows = []
    with sessions() as session:
        query = select(Record).join(Source).where(Record.status == "quarantined").order_by(Record.local_id)
        if source:
            query = query.where(Source.name == source)
        for rec in session.scalars(query):
            for f in rec.findings:
                rows.append({"record": f"oai:gateway.test.ac.jp:{rec.local_id}", "source": rec.source.name,
                             **{k: f[k] for k in _FIELDS}})  # fmt: skip
    return rows


def _as_text(rows: list[dict]) -> list[dict]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("source", [None, "alpha", "beta"])
def test_quarantine_formats_list_exactly_the_stored_findings(engine, db_url, tmp_path, source):
    config, cfg = _quarantine_setup(db_url, tmp_path)
    sessions = session_factory(engine)
    for src in cfg.sources:
        assert run_harvest(cfg, sessions, src).status == "succeeded"
    expected = _stored(sessions, source)
    assert expected and {r["severity"] for r in expected} >= {"error"}
    assert {r["source"] for r in expected} == ({source} if source else {"alpha", "beta"})
    with sessions() as session:  # the published records are not listed
        published = {r.local_id for r in session.scalars(select(Record).where(Record.status == "published"))}
    assert len(published) == 2 and not any(r["record"].endswith(tuple(published)) for r in expected)
    where = ["--source", source] if source else []
    invoke = CliRunner().invoke

    result = invoke(cli, ["--config", str(config), "quarantine", *where, "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [{k: r[k] for k in ("record", "source", *_FIELDS)} for r in listed] == expected
    assert all(r["title"] and "不良" in r["title"] for r in listed)

    result = invoke(cli, ["--config", str(config), "quarantine", *where, "--format", "csv"])
    assert result.exit_code == 0, result.output
    parsed = list(csv.DictReader(io.StringIO(result.output)))
    assert [{k: r[k] for k in ("record", "source", *_FIELDS)} for r in parsed] == _as_text(expected)

    result = invoke(cli, ["--config", str(config), "quarantine", *where])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    matches = [_TABLE_LINE.match(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
    fields = ("record", "severity", "rule", "item", "path", "message")
    assert [{k: m[k] or "" for k in fields} for m in matches] == [{k: r[k] for k in fields} for r in _as_text(expected)]


def test_quarantine_of_a_source_with_nothing_held_back(engine, db_url, tmp_path):
    config, cfg = _quarantine_setup(db_url, tmp_path)
    (tmp_path / "alpha" / "bad.xml").unlink()
    sessions = session_factory(engine)
    assert run_harvest(cfg, sessions, cfg.source("alpha")).status == "succeeded"
    invoke = CliRunner().invoke
    assert (
        invoke(cli, ["--config", str(config), "quarantine", "--source", "alpha"]).output == "no quarantined records\n"
    )
    result = invoke(cli, ["--config", str(config), "quarantine", "--source", "alpha", "--format", "json"])
    assert json.loads(result.output) == []
    result = invoke(cli, ["--config", str(config), "quarantine", "--source", "alpha", "--format", "csv"])
    assert list(csv.DictReader(io.StringIO(result.output))) == []


def test_validate_csv_has_every_finding_of_the_json_output(tmp_path):
    (tmp_path / "ok.xml").write_text(dataset(), encoding="utf-8")
    (tmp_path / "broken.xml").write_text(dataset(jgn="18049069", omit=("funding",)), encoding="utf-8")
    shutil.copy(FIXTURES / "cao.xml", tmp_path / "cao.xml")
    runner = CliRunner()
    as_json = runner.invoke(cli, ["validate", str(tmp_path), "--format", "json"])
    as_csv = runner.invoke(cli, ["validate", str(tmp_path), "--format", "csv"])
    assert as_json.exit_code == as_csv.exit_code == 1, as_csv.output
    rows = json.loads(as_json.output)
    parsed = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert list(parsed[0]) == ["file", "record", "severity", "rule", "item", "path", "value", "message"]
    assert parsed == _as_text(rows)
    by_file = {Path(r["file"]).name for r in parsed if r["severity"] == "error"}
    assert by_file == {"broken.xml", "cao.xml"}  # the valid file has no error
    assert any(r["rule"] == "annex3.data_type_mismatch" and r["item"] == "9" for r in parsed)
    assert any(r["rule"] == "annex3.required_missing" and r["item"] == "1" for r in parsed)


def test_validate_csv_of_a_valid_file_is_a_header_only(tmp_path):
    (tmp_path / "ok.xml").write_text(dataset(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "ok.xml"), "--format", "csv"])
    assert result.exit_code == 0, result.output
    errors = [r for r in csv.DictReader(io.StringIO(result.output)) if r["severity"] == "error"]
    assert errors == []
