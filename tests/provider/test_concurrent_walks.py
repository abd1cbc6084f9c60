"""Walks of the provider while records change: exactly once while another process adds, changes and withdraws records;
concurrent harvesters while a harvest writes; gunicorn workers sharing tokens on PostgreSQL.

Everything is bounded in count and time and runs on 127.0.0.1; timing targets live in benchmarks/serve.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.db import make_engine, migrate, session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import Published, PublishedFormat, Setting
from tests.conftest import make_config
from tests.provider.responses import errors_of, headers_of, parse, token_text
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.paths import ROOT
from tests.support.provider_fixtures import BASE, REPO_ID, bulk_publish, seed
from tests.support.records import dataset
from tests.support.servers import free_port, serve_wsgi

STEP = timedelta(seconds=30)  # bulk_publish's default spacing of datestamps


# ---------------------------------------------------------------------------------------------------------------
# a walk while another process adds, changes and withdraws records


def _in_list_now(engine: Engine, until: Any) -> set[str]:
    """The identifiers a jpcoar_2.0 list (optionally until-bounded) holds at this moment, from the tables."""
    with Session(engine) as session:
        stmt = (
            select(Published.oai_identifier)
            .outerjoin(
                PublishedFormat,
                (PublishedFormat.published_id == Published.id) & (PublishedFormat.prefix == "jpcoar_2.0"),
            )
            .where(or_(Published.deleted.is_(True), PublishedFormat.published_id.is_not(None)))
        )
        if until is not None:
            stmt = stmt.where(Published.datestamp <= until)
        return set(session.scalars(stmt))


def _public_now(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(
            session.scalars(
                select(Published.oai_identifier)
                .join(PublishedFormat, PublishedFormat.published_id == Published.id)
                .where(Published.deleted.is_(False), PublishedFormat.prefix == "jpcoar_2.0")
            )
        )


@pytest.mark.parametrize("bounded", [False, True], ids=["whole-list", "until-bounded"])
def test_walk_while_another_process_writes_is_exactly_once(engine: Engine, db_url: str, bounded: bool) -> None:
    count = 240
    bulk_publish(engine, count, deleted_every=11, prefixes=("jpcoar_2.0", "oai_dc"))
    until = BASE + STEP * (count * 2 // 3) if bounded else None
    client = create_app(make_config(db_url, page_size=7, token_secret="walk"), engine).test_client()
    args = {"verb": "ListIdentifiers", "metadataPrefix": "jpcoar_2.0"}
    if until is not None:
        args["until"] = until.strftime("%Y-%m-%dT%H:%M:%SZ")
    at_start = _in_list_now(engine, until)
    root = parse(client.get("/oai", query_string=args).data)
    seen = headers_of(root)
    token = token_text(root)
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.support.provider_writer", db_url, "6"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    done: dict[str, set[str]] = {"changed": set(), "withdrawn": set(), "added": set(), "hidden": set()}
    try:
        assert writer.stdin is not None and writer.stdout is not None
        while token:
            # One committed round of changes by the other process between every two pages.
            writer.stdin.write("step\n")
            writer.stdin.flush()
            reply = writer.stdout.readline()
            assert reply, "the writer process died"
            for key, values in json.loads(reply).items():
                done[key] |= set(values)
            response = client.get("/oai", query_string={"verb": "ListIdentifiers", "resumptionToken": token})
            root = parse(response.data)
            assert not errors_of(root)
            seen += headers_of(root)
            token = token_text(root)
        writer.stdin.write("quit\n")
        writer.stdin.flush()
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    served = Counter(identifier for identifier, _ in seen)
    assert done["changed"] & at_start and done["withdrawn"] & at_start and done["added"]
    # Nothing twice; everything that was in the list and is still public exactly once, changed records included.
    assert max(served.values()) == 1
    still_public = at_start & _public_now(engine)
    assert still_public <= set(served), sorted(still_public - set(served))[:5]
    assert done["changed"] & still_public - done["withdrawn"]
    # Withdrawn records not served yet come as deleted headers; records never published never come at all.
    assert {identifier for identifier, deleted in seen if deleted} <= at_start | done["withdrawn"]
    assert any(deleted and identifier in done["withdrawn"] for identifier, deleted in seen)
    assert not set(served) & done["hidden"]
    if until is not None:
        # Records added during the walk were not in the until-bounded list, nor is anything outside the range that
        # was not changed during the walk.
        assert not set(served) & done["added"]
        assert set(served) <= at_start | done["changed"] | done["withdrawn"]


# ---------------------------------------------------------------------------------------------------------------
# harvesters walking the provider while a harvest writes


def _upstream_records(n: int) -> list[FixtureRecord]:
    return [
        FixtureRecord(
            identifier=f"oai:upstream.example.ac.jp:{i:05d}",
            datestamp=f"2026-10-{i % 28 + 1:02d}T10:00:00Z",
            metadata=dataset(f"データ {i}", title_en=f"Data {i}", data_no=f"D-{i}", doi=f"10.99999/t.{i}"),
            sets=["even" if i % 2 == 0 else "odd"],
        )
        for i in range(n)
    ]


def _walk_http(http: requests.Session, base: str, verb: str, prefix: str) -> list[str]:
    response = http.get(base, params={"verb": verb, "metadataPrefix": prefix}, timeout=60)
    seen: list[str] = []
    while True:
        assert response.status_code == 200, response.status_code
        root = parse(response.content)
        codes = errors_of(root)
        if codes:
            assert codes == ["noRecordsMatch"] and not seen, codes  # only before anything is published
            return seen
        seen += [identifier for identifier, _ in headers_of(root)]
        token = token_text(root)
        if not token:
            return seen
        response = http.get(base, params={"verb": verb, "resumptionToken": token}, timeout=60)


def test_concurrent_harvesters_while_a_harvest_writes(engine: Engine, db_url: str) -> None:
    upstream = FixtureRepository(_upstream_records(90), page_size=10)
    problems: list[str] = []
    walks = Counter[str]()
    with serve_wsgi(upstream) as upstream_base:
        cfg = make_config(
            db_url,
            [{"name": "up", "kind": "oai-pmh", "url": upstream_base + "/oai", "metadata_prefix": "jpcoar_2.0"}],
            page_size=6,
        )
        harvest_done = threading.Event()

        def harvest() -> None:
            try:
                run = run_harvest(cfg, session_factory(engine), cfg.source("up"))
                if run.status != "succeeded":
                    problems.append(f"harvest: {run.message}")
            finally:
                harvest_done.set()

        with serve_wsgi(create_app(cfg, engine)) as base:

            def harvester(k: int) -> None:
                verb, prefix = [("ListRecords", "jpcoar_2.0"), ("ListIdentifiers", "oai_dc")][k % 2]
                http = requests.Session()
                try:
                    # Walk again and again while the harvest runs (bounded), then once more after it.
                    for _ in range(30):
                        finished = harvest_done.is_set()
                        seen = _walk_http(http, base + "/oai", verb, prefix)
                        if len(seen) != len(set(seen)):
                            problems.append(f"{verb}: a record served twice in one walk")
                        walks[verb] += 1
                        if finished:
                            break
                except Exception as exc:  # collected: a failing thread must fail the test, not vanish
                    problems.append(f"{verb}: {exc!r}")
                finally:
                    http.close()

            threads = [threading.Thread(target=harvester, args=(k,)) for k in range(6)]
            writer = threading.Thread(target=harvest)
            for thread in [*threads, writer]:
                thread.start()
            for thread in [writer, *threads]:
                thread.join(timeout=300)
            assert not any(thread.is_alive() for thread in [writer, *threads])
            final = _walk_http(requests.Session(), base + "/oai", "ListIdentifiers", "jpcoar_2.0")
    assert not problems, problems[:5]
    assert len(final) == 90 and sum(walks.values()) >= 6


# ---------------------------------------------------------------------------------------------------------------
# several processes: gunicorn workers against PostgreSQL


def test_gunicorn_workers_share_tokens_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    seeded = seed(engine)
    engine.dispose()
    port = free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[repository]\nname = "Workers"\nbase_url = "http://127.0.0.1:{port}/oai"\nidentifier = "{REPO_ID}"\n'
        f'admin_email = ["rdm@test.ac.jp"]\npage_size = 3\n[database]\nurl = "{pg_url}"\n',
        encoding="utf-8",
    )
    env = {**{k: v for k, v in os.environ.items() if k != "GATEWAY_DATABASE_URL"}, "GATEWAY_CONFIG": str(config)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "-w", "3", "-k", "gthread", "--threads", "2", "-b", f"127.0.0.1:{port}",
               "gateway.provider.wsgi:create()"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/oai"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url, params={"verb": "Identify"}, timeout=5)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        # Fresh connections, so that pages land on different workers: every worker must accept every token (the
        # generated secret is stored once, in the database, and read by all of them).
        seen: list[str] = []
        expected = [i for i in seeded.identifiers if i in seeded.deleted or "oai_dc" in seeded.formats[i]]
        for _ in range(4):
            http = requests.Session()
            http.headers["Connection"] = "close"
            seen = _walk_http(http, url, "ListIdentifiers", "oai_dc")
            assert seen == expected
        check = make_engine(pg_url)
        with Session(check) as session:
            assert session.get(Setting, "token_secret") is not None
        check.dispose()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
