"""The harvest history as `gateway runs` shows it: retries, pages, warnings, per source, as a table and as JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.db import session_factory
from gateway.harvest.runner import run_harvest
from tests.conftest import make_config
from tests.harvest.faults.faulty_source import N, source


def test_runs_command_shows_the_history(engine, db_url, repo, endpoint, waits, tmp_path):
    repo.plan = {1: "503"}
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[repository]\nname = "T"\nbase_url = "http://127.0.0.1:8080/oai"\nidentifier = "gateway.test.ac.jp"\n'
        'admin_email = ["a@test.ac.jp"]\n[database]\nurl = "sqlite:///x.db"\n'
        f'[[sources]]\nname = "weko"\nkind = "oai-pmh"\nurl = "{endpoint}"\nmax_retries = 2\n'
    )
    cfg = make_config(db_url, [source(endpoint)])
    sessions = session_factory(engine)
    run_harvest(cfg, sessions, cfg.source("weko"))
    run_harvest(cfg, sessions, cfg.source("weko"))
    from gateway.cli import cli

    base = ["--config", str(config), "--database-url", db_url, "runs"]
    result = CliRunner().invoke(cli, [*base, "--format", "json", "--limit", "1"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 1 and rows[0]["mode"] == "incremental" and rows[0]["source"] == "weko"
    result = CliRunner().invoke(cli, [*base, "--format", "json", "--source", "weko"])
    rows = json.loads(result.output)
    assert [r["status"] for r in rows] == ["succeeded", "succeeded"]
    first = rows[-1]
    assert first["retries"] == 1 and first["records"]["new"] == N and first["pages"] == 4
    assert any("HTTP 503" in w for w in first["warnings"])
    table = CliRunner().invoke(cli, base)
    assert table.exit_code == 0 and "weko" in table.output and "succeeded" in table.output
    bad = CliRunner().invoke(cli, [*base, "--source", "nope"])
    assert bad.exit_code != 0 and "nope" in bad.output
