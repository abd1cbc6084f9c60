"""The provider at scale: query plans, walks while another process writes, concurrent harvesters, abuse.

Everything is bounded in count and time and runs on 127.0.0.1; timing targets live in benchmarks/serve.py.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from sqlalchemy import Engine, event, or_, select, text
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.db import make_engine, migrate, session_factory, utcnow
from gateway.harvest.runner import run_harvest
from gateway.models import Published, PublishedFormat, Record, Setting
from gateway.provider import queries
from gateway.provider.tokens import Position, TokenCodec
from tests.conftest import make_config
from tests.oaiserver import FixtureRecord, FixtureRepository
from tests.provider_fixtures import BASE, REPO_ID, SECRET_IDENTIFIER, SECRET_TITLE, bulk_publish, seed
from tests.records import dataset
from tests.servers import serve_wsgi

ROOT = Path(__file__).resolve().parent.parent
NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
STEP = timedelta(seconds=30)  # bulk_publish's default spacing of datestamps


def parse(body: bytes) -> etree._Element:
    assert SECRET_TITLE.encode() not in body and SECRET_IDENTIFIER.encode() not in body
    return etree.fromstring(body)


def errors_of(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall("o:error", NS)]


def headers_of(root: etree._Element) -> list[tuple[str, bool]]:
    return [
        (h.findtext("o:identifier", namespaces=NS), h.get("status") == "deleted")
        for h in root.iterfind(".//o:header", NS)
    ]


def token_text(root: etree._Element) -> str | None:
    token = root.find(".//o:resumptionToken", NS)
    return token.text if token is not None and token.text else None


# ---------------------------------------------------------------------------------------------------------------
# (a) query plans on PostgreSQL


PLAN_ROWS = 20_000


@pytest.fixture
def big_pg(pg_url: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(pg_url)
    migrate(engine)
    bulk_publish(engine, PLAN_ROWS, deleted_every=7)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    yield pg_url, engine
    engine.dispose()


def _list_requests() -> list[dict[str, str]]:
    early, middle, late = (BASE + STEP * k for k in (2_000, PLAN_ROWS // 2, PLAN_ROWS - 1_500))

    def stamp(moment: Any) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    selections = [
        {},
        {"set": "source:weko"},  # two records in three
        {"set": "project:JP23K00001"},  # one in four
        {"from": stamp(middle)},
        {"from": stamp(late)},  # a typical daily increment: the newest few
        {"until": stamp(middle)},
        {"until": stamp(early)},
        {"from": stamp(early), "until": stamp(middle)},
        {"from": stamp(early), "until": stamp(middle), "set": "access:open"},
    ]
    return [
        {"verb": verb, "metadataPrefix": "jpcoar_2.0", **selection}
        for verb in ("ListRecords", "ListIdentifiers")
        for selection in selections
    ]


def test_list_queries_use_indexes_on_postgresql(big_pg: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    url, engine = big_pg
    # The exact count stops at EXACT_COUNT_LIMIT (100,000 in production, a tenth of a million-record table); here it
    # is the same tenth of this table, so the planner faces the same choice it faces in production.
    monkeypatch.setattr(queries, "EXACT_COUNT_LIMIT", PLAN_ROWS // 10)
    client = create_app(make_config(url, page_size=100, token_secret="plans"), engine).test_client()
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "published" in statement and statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    checked = 0
    for args in _list_requests():
        pages = [args]
        root = parse(client.get("/oai", query_string=args).data)
        assert not errors_of(root), args
        token = token_text(root)
        assert token, args  # every selection is larger than one page
        # A later page from the middle of the list: follow tokens until past a third of it.
        for _ in range(40):
            root = parse(client.get("/oai", query_string={"verb": args["verb"], "resumptionToken": token}).data)
            token = token_text(root) or token
        pages.append({"verb": args["verb"], "resumptionToken": token})
        for page in pages:
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            try:
                response = client.get("/oai", query_string=page)
                assert response.status_code == 200 and not errors_of(parse(response.data))
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            assert captured, page
            with engine.connect() as conn:
                for statement, parameters in captured:
                    plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                    assert "Seq Scan" not in plan, f"{page}\n{statement}\n{plan}"
                    assert "Index" in plan, f"{page}\n{statement}\n{plan}"
                    checked += 1
    assert checked >= len(_list_requests()) * 2 * 2  # every page: its rows and their sets, first pages: the count


# ---------------------------------------------------------------------------------------------------------------
# (b) a walk while another process adds, changes and withdraws records


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
        [sys.executable, "-m", "tests.provider_writer", db_url, "6"],
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
# (c) harvesters walking the provider while a harvest writes


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
# (d) abuse against a real server process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match
    return int(match.group(1))


@contextmanager
def gateway_server(tmp_path: Path, db_url: str, page_size: int = 10) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`gateway serve` (waitress) in its own process on a free port; yield its /oai URL and the process."""
    port = _free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(
        "[repository]\n"
        'name = "Abuse test"\n'
        f'base_url = "http://127.0.0.1:{port}/oai"\n'
        f'identifier = "{REPO_ID}"\n'
        'admin_email = ["rdm@test.ac.jp"]\n'
        f"page_size = {page_size}\n"
        f'[database]\nurl = "{db_url}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(config), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/oai"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url, params={"verb": "Identify"}, timeout=5)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {proc.stderr.read()!r}") from None
                time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _abusive_requests(token: str) -> Iterator[tuple[str, dict[str, Any], set[str] | set[int]]]:
    """(method, requests keyword arguments, acceptable outcome): OAI-PMH error codes, or HTTP statuses."""
    head, _, signature = token.partition(".")
    yield "GET", {"params": "verb=Bogus"}, {"badVerb"}
    yield "GET", {"params": "verb=ListRecords&verb=ListRecords&metadataPrefix=oai_dc"}, {"badVerb"}
    yield "GET", {"params": "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc"}, {"badArgument"}
    yield "GET", {"params": "verb=Identify&" + "&".join(f"x{i}=1" for i in range(500))}, {"badVerb"}
    yield "GET", {"params": "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Aa.b%3A%FF%FE"}, {"badArgument"}
    yield "GET", {"params": "verb=ListRecords&metadataPrefix=%C3%28"}, {"badArgument"}
    yield "GET", {"params": "verb=ListRecords&metadataPrefix=oai_dc&set=%E0%80%80"}, {"badArgument"}
    yield "GET", {"params": "verb=ListRecords&metadataPrefix=oai_dc&from=%ZZ"}, {"badArgument"}
    yield "GET", {"params": "verb=%%%%&%"}, {"badVerb"}
    yield "GET", {"params": "verb=ListIdentifiers&resumptionToken=" + "A" * 4000}, {"badResumptionToken"}
    yield "GET", {"params": "verb=ListIdentifiers&resumptionToken=" + "A" * 60_000}, {"badResumptionToken"}
    yield "GET", {"params": f"verb=ListIdentifiers&resumptionToken={head}.{signature[::-1]}"}, {"badResumptionToken"}
    yield "GET", {"params": f"verb=ListRecords&resumptionToken={token}"}, {"badResumptionToken"}
    yield "GET", {"params": f"verb=ListIdentifiers&resumptionToken={token}&resumptionToken={token}"}, {"badArgument"}
    yield "POST", {"data": {"verb": "NoSuchVerb"}}, {"badVerb"}
    yield "POST", {"data": b"verb=Identify&x=" + b"\xff" * 100}, {"badArgument"}
    # Far too large for any protocol request: the server refuses the request itself.
    yield "GET", {"params": "verb=Identify&x=" + "a" * 1_000_000}, {400, 413, 414, 431}
    yield "POST", {"data": b"verb=Identify&x=" + b"a" * 1_000_000}, {413}


def raw_get(url: str, target: bytes) -> tuple[int, bytes]:
    """GET with a request target sent byte for byte (clients would percent-encode it); the status and body."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return int(head.split()[1]), body


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + rest[:size], rest[size + 2 :]
    return out


def _outcome(response: requests.Response) -> str | int:
    if response.status_code != 200:
        return response.status_code
    codes = errors_of(parse(response.content))
    return codes[0] if codes else "ok"


def test_abuse_gets_protocol_errors_and_memory_stays_flat(engine: Engine, db_url: str, tmp_path: Path) -> None:
    seed(engine)
    with gateway_server(tmp_path, db_url) as (url, proc):
        http = requests.Session()
        first = parse(http.get(url, params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).content)
        token = token_text(first)
        assert token
        cases = list(_abusive_requests(token))

        def round_of_abuse() -> None:
            for method, kwargs, acceptable in cases:
                headers = {"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {}
                response = http.request(method, url, headers=headers, timeout=60, **kwargs)
                assert response.status_code != 500
                assert _outcome(response) in acceptable, (method, str(kwargs)[:120], _outcome(response))

        # Bytes that are not UTF-8 at all, straight on the wire: a protocol error, or the HTTP server refuses the line.
        for target, code in (
            (b"/oai?verb=Identify\xff\xfe", "badVerb"),
            (b"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:a.b:\xc3\x28", "badArgument"),
            (b"/oai?verb=ListRecords&resumptionToken=\xff" + b"A" * 5000, "badResumptionToken"),
        ):
            status, body = raw_get(url, target)
            assert status == 400 or (status == 200 and errors_of(parse(body)) == [code]), (target[:60], status)
        round_of_abuse()  # warm up: imports, caches, connection pool
        before = rss_kib(proc.pid)
        sent = 0
        deadline = time.monotonic() + 120
        # Unknown verbs at a high rate, interleaved with the other abusive requests; bounded in count and time.
        while sent < 2_000 and time.monotonic() < deadline:
            response = http.get(url, params={"verb": f"Evil{sent}", "x": "y" * (sent % 50)}, timeout=30)
            assert response.status_code == 200 and errors_of(parse(response.content)) == ["badVerb"]
            sent += 1
            if sent % 400 == 0:
                round_of_abuse()
        assert sent == 2_000, "the server became too slow to answer 2,000 requests in two minutes"
        after = rss_kib(proc.pid)
        assert proc.poll() is None
        # Still serving normally afterwards.
        root = parse(http.get(url, params={"verb": "ListRecords", "metadataPrefix": "oai_dc"}).content)
        assert headers_of(root) and not errors_of(root)
    # Generous: allocator noise and lazily grown pools are fine, a leak per request (2,000+) is not.
    assert after - before < 30 * 1024, (before, after)


# ---------------------------------------------------------------------------------------------------------------
# tokens: nothing beyond the published tables is reachable, even with the server's own secret


def test_no_token_reaches_unpublished_records(engine: Engine, db_url: str) -> None:
    seeded = seed(engine)
    client = create_app(make_config(db_url, page_size=4), engine).test_client()
    client.get("/oai", query_string={"verb": "ListRecords", "metadataPrefix": "oai_dc"})  # the secret is created
    with Session(engine) as session:
        secret = session.get(Setting, "token_secret").value.encode()
        hidden_ids = set(session.scalars(select(Record.id).where(Record.status == "withheld")))
    codec = TokenCodec(secret, 3600)
    published = set(seeded.identifiers)
    # Signed, so the server trusts them: every position, bound and walk mark a token could carry.
    positions = [
        Position(verb, prefix, spec, start, until, last, 0, total, seen, top)
        for verb in ("ListRecords", "ListIdentifiers")
        for prefix in ("jpcoar_2.0", "oai_dc", "marc21")
        for spec in (None, "source", "no:such:set")
        for start, until in ((None, None), ("1900-01-01", "2999-12-31"), ("2999-01-01T00:00:00Z", None))
        for last in (-(2**31), 0, 7, 2**31)
        for total, seen, top in ((None, 0, 0), (3, 0, 2**31), (10**9, 2**31, 2**31))
    ]
    served: set[str] = set()
    for position in positions:
        token, _ = codec.encode(position, utcnow())
        response = client.get("/oai", query_string={"verb": position.verb, "resumptionToken": token})
        assert response.status_code == 200
        root = parse(response.data)
        assert set(errors_of(root)) <= {"noRecordsMatch", "cannotDisseminateFormat", "badResumptionToken"}
        served |= {identifier for identifier, _ in headers_of(root)}
    assert served and served <= published
    assert not any(f"/{SECRET_IDENTIFIER}" in identifier for identifier in served)
    assert hidden_ids  # the non-public records exist, and no token found them


def test_complete_list_size_is_omitted_above_the_exact_count_limit(
    engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seed(engine)
    client = create_app(make_config(db_url, page_size=5), engine).test_client()
    args = {"verb": "ListIdentifiers", "metadataPrefix": "jpcoar_2.0"}
    exact = parse(client.get("/oai", query_string=args).data).find(".//o:resumptionToken", NS)
    assert exact.get("completeListSize") == str(len(seeded.identifiers))
    monkeypatch.setattr(queries, "EXACT_COUNT_LIMIT", 10)
    root = parse(client.get("/oai", query_string=args).data)
    seen = [identifier for identifier, _ in headers_of(root)]
    while (element := root.find(".//o:resumptionToken", NS)) is not None:
        assert "completeListSize" not in element.attrib
        assert element.get("cursor") == str(len(seen) - len(headers_of(root)))
        if not element.text:
            break
        root = parse(client.get("/oai", query_string={"verb": "ListIdentifiers", "resumptionToken": element.text}).data)
        seen += [identifier for identifier, _ in headers_of(root)]
    assert seen == seeded.identifiers


# ---------------------------------------------------------------------------------------------------------------
# several processes: gunicorn workers against PostgreSQL


def test_gunicorn_workers_share_tokens_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    seeded = seed(engine)
    engine.dispose()
    port = _free_port()
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
