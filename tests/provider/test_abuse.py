"""Abuse against a real server process: hostile requests get protocol errors and memory stays flat; no signed token
reaches a record beyond the published tables, even with the server's own secret.

Everything is bounded in count and time and runs on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.db import utcnow
from gateway.models import Record, Setting
from gateway.provider.tokens import Position, TokenCodec
from tests.conftest import make_config
from tests.provider.responses import errors_of, headers_of, parse, token_text
from tests.support.paths import ROOT
from tests.support.provider_fixtures import REPO_ID, SECRET_IDENTIFIER, seed
from tests.support.servers import free_port

# ---------------------------------------------------------------------------------------------------------------
# abuse against a real server process


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match
    return int(match.group(1))


@contextmanager
def gateway_server(tmp_path: Path, db_url: str, page_size: int = 10) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`gateway serve` (waitress) in its own process on a free port; yield its /oai URL and the process."""
    port = free_port()
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
