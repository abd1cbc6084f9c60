"""The command line as a repository manager uses it: real processes, one-line errors, the main job really serving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.request import urlopen

import pytest

from tests.support.paths import ROOT

EXAMPLE = ROOT / "config" / "example.toml"


def gateway(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_errors_are_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[repository]\nidentifier = "x"\n', encoding="utf-8")
    for args in (
        ["--config", str(bad), "sources"],
        ["--config", str(tmp_path / "missing.toml"), "init"],
        ["--config", str(EXAMPLE), "--database-url", f"sqlite:///{tmp_path}/empty.db", "sources"],
        ["--config", str(EXAMPLE), "--database-url", f"sqlite:///{tmp_path}/empty.db", "harvest", "nope"],
    ):
        result = gateway(*args)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "repository.identifier" in gateway("--config", str(bad), "sources").stderr
    empty = f"sqlite:///{tmp_path}/e.db"
    assert "gateway init" in gateway("--config", str(EXAMPLE), "--database-url", empty, "sources").stderr


def test_environment_chooses_config_and_database(tmp_path):
    env = {"GATEWAY_CONFIG": str(EXAMPLE), "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/env.db"}
    assert gateway("init", env=env).returncode == 0
    assert (tmp_path / "env.db").exists()
    harvest = gateway("harvest", "dspace", env=env)
    # The example holds one record in quarantine: the harvest succeeded, and its exit status says something is held.
    assert harvest.returncode == 3, harvest.stderr
    assert "dspace: succeeded" in harvest.stdout and "1 held" in harvest.stdout
    assert "held in quarantine" in harvest.stderr and "gateway quarantine" in harvest.stderr
    oai_id = "oai:gateway.example.ac.jp:dspace/oai:dspace.example.ac.jp:123456789/102"
    shown = gateway("records", "show", oai_id, env=env)
    assert shown.returncode == 0 and "A note on coastal upwelling indices" in shown.stdout
    assert "published" in shown.stdout
    # The finding history names the run that decided the record.
    history = shown.stdout.split("history (newest first):", 1)[1].split("--- raw record ---", 1)[0]
    assert "run 1" in history and "published" in history


def test_run_harvests_and_serves_until_stopped(tmp_path):
    """`gateway run` (the main job) harvests the bundled example at start and answers OAI-PMH."""
    port = free_port()
    db = f"sqlite:///{tmp_path}/run.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(EXAMPLE), "--database-url", db, "run", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = b""
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/oai?verb=ListIdentifiers&metadataPrefix=jpcoar_2.0"
                with urlopen(url, timeout=5) as resp:
                    body = resp.read()
                if body.count(b"<identifier>") == 7:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail(f"gateway run did not serve the harvested example in time; last answer: {body[:300]!r}")
        check = gateway("check", f"http://127.0.0.1:{port}/oai", timeout=180)
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr
        assert "0 failed" in check.stdout
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
