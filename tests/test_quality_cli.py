"""`gateway validate` offline, and finding snapshots kept per record and run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import cli
from gateway.db import session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import FindingSnapshot, Record
from tests.conftest import make_config
from tests.records import dataset

FIXTURES = Path(__file__).parent / "fixtures" / "validate"


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
