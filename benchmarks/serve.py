"""Provider benchmark: the gateway's OAI-PMH provider serving N published records, against the `oaipmh` package.

    .venv/bin/python -m benchmarks.serve --n 100000 --engine sqlite
    .venv/bin/python -m benchmarks.serve --n 1000000 --engine postgresql [--no-reference]

It loads N published records (synthetic JPCOAR 2.0 datasets, 2-5 KB each: a few dozen rendered through the real
crosswalk, the rest varied from them) straight into the publication tables, starts the provider as a real server
(`gateway serve`, waitress, its own process) on 127.0.0.1, and measures:

- one harvester walking ListRecords jpcoar_2.0 and ListIdentifiers to the end: records/s, per-page latency (median,
  99th percentile), the last-10 / first-10 page latency ratio, and the server's RSS over the walk (start, peak, end);
- GetRecord latency over random identifiers;
- 16 concurrent harvesters, each walking ListRecords from the start for a bounded number of pages: p99, errors;
- the reference: the PyPI `oaipmh` package's BatchingServer (its own paging: cursor offsets) over a small adapter that
  reads the same tables of the same database, served by the same WSGI server, walked the same way. Above
  --reference-limit records it walks only that prefix (it re-reads everything before its cursor on every page), and
  the gateway's rate on the same prefix is reported beside it.

A PostgreSQL database is kept (gw_bench_<N>) and reused by the next run with the same N unless --reload.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from gateway.provider.response import header

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("GATEWAY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO_ID = "bench.example.ac.jp"
START = datetime(2024, 1, 1)
TEMPLATES = 24
_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
_RECORD = re.compile(rb"<record>")
_HEADER = re.compile(rb"<header[ >]")


# ---------------------------------------------------------------------------------------------------------------
# synthetic records


def rendered_templates() -> list[bytes]:
    """JPCOAR 2.0 renderings with "@N@" placeholders, made by the real pipeline (crosswalk + render)."""
    sys.path.insert(0, str(ROOT))
    from gateway.pipeline import map_record
    from tests.support.records import dataset

    rng = random.Random(7)
    out = []
    sentence = "本データセットは食品の安全性に関する調査で得られた測定値と付随する記録を収めたものである。"
    for t in range(TEMPLATES):
        access = ("open", "restricted", "metadata-only", "embargoed")[t % 4]
        raw = dataset(
            f"データセット @N@ 第{t}版",
            title_en=f"Dataset @N@ (variant {t})",
            access=access,
            available="2027-04-01" if access == "embargoed" else None,
            data_no="D-@N@",
            doi="10.99999/bench.@N@",
            jgn=f"JPMJPF{2300 + t % 7:04d}",
        )
        # Descriptions of varied length bring the renderings to 2-5 KB, as real dataset records are.
        raw = raw.replace("説明文です。", sentence * rng.randint(0, 10))
        mapped = map_record(raw.encode("utf-8"), prefix="jpcoar_2.0")
        xml = mapped.outputs.get("jpcoar_2.0")
        if xml is None:
            raise SystemExit(f"template {t} did not render: {mapped.findings[:2]}")
        out.append(xml)
    return out


def sets_of(i: int) -> list[str]:
    access = ("open", "restricted", "metadata-only", "embargoed")[(i % TEMPLATES) % 4]
    sets = ["source", "source:bench", "access", f"access:{access}"]
    if i % 4 == 0:
        sets += ["project", f"project:JPMJPF{2300 + (i % TEMPLATES) % 7:04d}"]
    return sets


SET_NAMES = {"source": "Sources", "source:bench": "Source: bench", "access": "Access rights", "project": "Projects"}


@dataclass
class Rows:
    records: list[tuple[Any, ...]] = field(default_factory=list)
    published: list[tuple[Any, ...]] = field(default_factory=list)
    formats: list[tuple[Any, ...]] = field(default_factory=list)
    sets: list[tuple[Any, ...]] = field(default_factory=list)


def batches(n: int, templates: list[bytes], size: int, compressor: Any) -> Iterator[Rows]:
    """The rows of N published records; renderings compressed as the gateway stores them (gateway.compression)."""
    for offset in range(0, n, size):
        rows = Rows()
        for i in range(offset, min(n, offset + size)):
            ident = str(i + 1)
            stamp = START + timedelta(seconds=3 * i)
            rows.records.append((i + 1, 1, f"bench:{ident}", f"bench/{ident}", stamp, "public", "published", stamp))
            oai_id, specs = f"oai:{REPO_ID}:bench/{ident}", sets_of(i)
            # The header as publishing stores it (gateway.publish), so the provider serves it as it would in use.
            stored_header = header(oai_id, stamp, False, sorted(specs)).encode("utf-8")
            rows.published.append((i + 1, i + 1, oai_id, stamp, False, stored_header))
            rendering = templates[i % TEMPLATES].replace(b"@N@", ident.encode())
            rows.formats.append((i + 1, "jpcoar_2.0", compressor.compress(rendering)))
            rows.sets += [(spec, i + 1) for spec in specs]
        yield rows


# ---------------------------------------------------------------------------------------------------------------
# databases


# Bumped when the loaded rows change shape, so that a kept database from an older loader is loaded again.
LOAD_VERSION = 3


def _train_dictionary(engine: Any, templates: list[bytes]) -> Any:
    """A dictionary trained on the first renderings, stored as a harvest stores the one it trains; its compressor."""
    import zstandard
    from sqlalchemy import text

    from gateway import compression

    samples = [templates[i % TEMPLATES].replace(b"@N@", str(i + 1).encode()) for i in range(compression.TRAIN_SAMPLES)]
    trained = zstandard.train_dictionary(compression.DICTIONARY_SIZE, samples, level=compression.LEVEL)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM compression_dictionaries"))
        conn.execute(
            text("INSERT INTO compression_dictionaries (id, data, created_at) VALUES (:id, :data, :at)"),
            {"id": trained.dict_id(), "data": trained.as_bytes(), "at": START},
        )
    return zstandard.ZstdCompressor(level=compression.LEVEL, dict_data=trained)


def pg_database_url(n: int) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/gw_bench_{n}"


def prepare_database(engine_name: str, n: int, workdir: Path, reload: bool) -> str:
    from sqlalchemy import create_engine, text

    from gateway.db import make_engine, migrate

    if engine_name == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        url = pg_database_url(n)
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists and reload:
                conn.execute(text(f'DROP DATABASE "{name}"'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(url)
    migrate(engine)
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT value FROM settings WHERE key = 'bench_loaded'")).scalar()
    if loaded == f"{n}:{LOAD_VERSION}":
        print(f"reusing the loaded database ({n:,} records)")
        engine.dispose()
        _remove_writer(url)  # left by a run that did not end cleanly
        return url
    with engine.begin() as conn:
        for table in ("published_sets", "published_formats", "published", "records", "oai_sets", "sources"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text(
                "INSERT INTO sources (id, name, kind, metadata_prefix, created_at) "
                "VALUES (1, 'bench', 'directory', 'jpcoar_2.0', :t)"
            ),
            {"t": START},
        )
    templates = rendered_templates()
    sizes = sorted(len(t) for t in templates)
    print(f"templates: {len(templates)} rendered by the crosswalk, {sizes[0]}-{sizes[-1]} bytes")
    began = time.perf_counter()
    compressor = _train_dictionary(engine, templates)
    if engine_name == "sqlite":
        _load_sqlite(engine, n, templates, compressor)
    else:
        _load_postgresql(engine, n, templates, compressor)
    with engine.begin() as conn:
        specs = sorted({spec for i in range(min(n, TEMPLATES * 4)) for spec in sets_of(i)})
        for spec in specs:
            conn.execute(
                text("INSERT INTO oai_sets (set_spec, name) VALUES (:s, :n)"),
                {"s": spec, "n": SET_NAMES.get(spec, spec)},
            )
        conn.execute(text("DELETE FROM settings WHERE key = 'bench_loaded'"))
        mark = f"{n}:{LOAD_VERSION}"
        conn.execute(text("INSERT INTO settings (key, value) VALUES ('bench_loaded', :n)"), {"n": mark})
    if engine_name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    elapsed = time.perf_counter() - began
    print(f"loaded {n:,} records in {elapsed:.1f} s ({n / elapsed:,.0f} records/s)")
    engine.dispose()
    return url


def _load_sqlite(engine: Any, n: int, templates: list[bytes], compressor: Any) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for rows in batches(n, templates, 20_000, compressor):
            cur.executemany(
                "INSERT INTO records (id, source_id, source_identifier, local_id, harvested_at, disclosure, status, "
                "updated_at, source_sets, source_deleted, private, findings, annex3) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', 0, '{}', '[]', '{}')",
                [(*r[:4], r[4].isoformat(sep=" "), *r[5:7], r[7].isoformat(sep=" ")) for r in rows.records],
            )
            cur.executemany(
                "INSERT INTO published (id, record_id, oai_identifier, datestamp, deleted, header_xml) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(r[0], r[1], r[2], r[3].isoformat(sep=" "), r[4], r[5]) for r in rows.published],
            )
            cur.executemany("INSERT INTO published_formats (published_id, prefix, xml) VALUES (?, ?, ?)", rows.formats)
            cur.executemany("INSERT INTO published_sets (set_spec, published_id) VALUES (?, ?)", rows.sets)
            raw.commit()
    finally:
        raw.close()


def _load_postgresql(engine: Any, n: int, templates: list[bytes], compressor: Any) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        copies = {
            "records": "COPY records (id, source_id, source_identifier, local_id, harvested_at, disclosure, status, "
            "updated_at, source_sets, source_deleted, private, findings, annex3) FROM STDIN",
            "published": "COPY published (id, record_id, oai_identifier, datestamp, deleted, header_xml) FROM STDIN",
            "formats": "COPY published_formats (published_id, prefix, xml) FROM STDIN",
            "sets": "COPY published_sets (set_spec, published_id) FROM STDIN",
        }
        done = 0
        for rows in batches(n, templates, 50_000, compressor):
            with cur.copy(copies["records"]) as copy:
                for r in rows.records:
                    copy.write_row((*r, "[]", False, "{}", "[]", "{}"))
            with cur.copy(copies["published"]) as copy:
                for r in rows.published:
                    copy.write_row(r)
            with cur.copy(copies["formats"]) as copy:
                for r in rows.formats:
                    copy.write_row(r)
            with cur.copy(copies["sets"]) as copy:
                for r in rows.sets:
                    copy.write_row(r)
            raw.commit()
            done += len(rows.published)
            print(f"\r  {done:,} / {n:,}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        for table in ("records", "published"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
    finally:
        raw.close()


# ---------------------------------------------------------------------------------------------------------------
# the reference provider: the PyPI oaipmh package over the same tables


def _moment(value: Any) -> datetime:
    # Raw SQL on SQLite returns the stored text, PostgreSQL a datetime; the package wants a naive datetime.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def reference_app(url: str, page_size: int) -> Any:
    from lxml import etree
    from oaipmh import common, error, metadata, server
    from sqlalchemy import text

    from gateway.compression import CODEC
    from gateway.db import make_engine

    engine = make_engine(url)
    first_page = text(
        "SELECT p.id, p.oai_identifier, p.datestamp, p.deleted, f.xml FROM published p "
        "LEFT JOIN published_formats f ON f.published_id = p.id AND f.prefix = :prefix "
        "WHERE (p.deleted OR f.published_id IS NOT NULL) ORDER BY p.id LIMIT :limit OFFSET :offset"
    )
    sets_of_page = text(
        "SELECT published_id, set_spec FROM published_sets WHERE published_id >= :lo AND published_id <= :hi"
    )

    class Adapter:
        """The IBatchingOAIPMH interface the package asks for, reading the gateway's publication tables."""

        def identify(self) -> Any:
            return common.Identify(
                repositoryName="reference",
                baseURL="http://127.0.0.1/oai",
                protocolVersion="2.0",
                adminEmails=["rdm@example.ac.jp"],
                earliestDatestamp=START,
                deletedRecord="persistent",
                granularity="YYYY-MM-DDThh:mm:ssZ",
                compression=["identity"],
            )

        def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
            return [("jpcoar_2.0", "https://github.com/JPCOAR/schema/blob/master/2.0/jpcoar_scm.xsd",
                     "https://github.com/JPCOAR/schema/blob/master/2.0/")]

        def _page(self, prefix: str, cursor: int, batch_size: int) -> list[Any]:
            with engine.connect() as conn:
                rows = conn.execute(first_page, {"prefix": prefix, "limit": batch_size, "offset": cursor}).all()
                memberships: dict[int, list[str]] = {}
                if rows:
                    for pid, spec in conn.execute(sets_of_page, {"lo": rows[0][0], "hi": rows[-1][0]}):
                        memberships.setdefault(pid, []).append(spec)
            return [
                (
                    common.Header(None, ident, _moment(stamp), sorted(memberships.get(pid, [])), bool(deleted)),
                    # The same stored values, read the same way: compressed, as the gateway stores them.
                    None if deleted else common.Metadata(None, {"xml": CODEC.unpack(bytes(xml))}),
                    None,
                )
                for pid, ident, stamp, deleted, xml in rows
            ]

        def listRecords(self, metadataPrefix: str, set: str | None = None, from_: Any = None, until: Any = None,
                        cursor: int = 0, batch_size: int = 10) -> list[Any]:
            if metadataPrefix != "jpcoar_2.0":
                raise error.CannotDisseminateFormatError(metadataPrefix)
            return self._page(metadataPrefix, cursor, batch_size)

        def listIdentifiers(self, metadataPrefix: str, set: str | None = None, from_: Any = None, until: Any = None,
                            cursor: int = 0, batch_size: int = 10) -> list[Any]:
            return [header for header, _, _ in self.listRecords(metadataPrefix, set, from_, until, cursor, batch_size)]

        def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[Any]:
            raise error.NoSetHierarchyError("not measured")

        def getRecord(self, metadataPrefix: str, identifier: str) -> Any:
            with engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT p.id, p.oai_identifier, p.datestamp, p.deleted, f.xml FROM published p "
                        "LEFT JOIN published_formats f ON f.published_id = p.id AND f.prefix = :prefix "
                        "WHERE p.oai_identifier = :ident"
                    ),
                    {"prefix": metadataPrefix, "ident": identifier},
                ).first()
            if row is None:
                raise error.IdDoesNotExistError(identifier)
            header = common.Header(None, row[1], _moment(row[2]), [], bool(row[3]))
            return header, common.Metadata(None, {"xml": CODEC.unpack(bytes(row[4]))}), None

    def write_stored(element: Any, record_metadata: Any) -> None:
        # The package builds every response as one lxml tree: a stored rendering has to be parsed to join it.
        element.append(etree.fromstring(record_metadata.getField("xml")))

    registry = metadata.MetadataRegistry()
    registry.registerWriter("jpcoar_2.0", write_stored)
    oai = server.BatchingServer(Adapter(), metadata_registry=registry, resumption_batch_size=page_size)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        body = oai.handleRequest(args)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


# ---------------------------------------------------------------------------------------------------------------
# servers and harvesters


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def server(kind: str, url: str, workdir: Path, page_size: int, threads: int) -> Iterator[tuple[str, int]]:
    """The gateway (`gateway serve`) or the reference in its own process; yield its /oai URL and pid."""
    import requests

    port = _free_port()
    if kind == "gateway":
        config = workdir / "gateway.toml"
        config.write_text(
            f'[repository]\nname = "Bench"\nbase_url = "http://127.0.0.1:{port}/oai"\nidentifier = "{REPO_ID}"\n'
            f'admin_email = ["rdm@example.ac.jp"]\npage_size = {page_size}\ntoken_secret = "bench"\n'
            f'[database]\nurl = "{url}"\n[server]\nthreads = {threads}\n',
            encoding="utf-8",
        )
        command = [sys.executable, "-m", "gateway", "--config", str(config), "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "benchmarks.serve", "--serve-reference", url, "--port", str(port),
                   "--page-size", str(page_size), "--threads", str(threads)]
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_DATABASE_URL"}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/oai"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base, params={"verb": "Identify"}, timeout=10)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{kind} server did not start") from None
                time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RssSampler:
    """The server's RSS every `interval` seconds while a phase runs."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval, self.samples = pid, interval, [rss_kib(pid)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(rss_kib(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_kib(self.pid))


@dataclass
class Walk:
    records: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def walk(base: str, verb: str, limit: int | None = None, max_pages: int | None = None) -> Walk:
    """Follow one list from its start (to its end, or until `limit` records / `max_pages` pages)."""
    import requests

    http = requests.Session()
    http.headers["Accept-Encoding"] = "identity"
    result = Walk()
    params: dict[str, str] = {"verb": verb, "metadataPrefix": "jpcoar_2.0"}
    counter = _RECORD if verb == "ListRecords" else _HEADER
    began = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        try:
            response = http.get(base, params=params, timeout=60)
            body = response.content
        except requests.RequestException:
            result.errors += 1
            break
        result.latencies.append(time.perf_counter() - t0)
        if response.status_code != 200 or b"<error " in body:
            result.errors += 1
            break
        result.records += len(counter.findall(body))
        match = _TOKEN.search(body, max(0, len(body) - 4096))
        if match is None:
            break
        if (limit and result.records >= limit) or (max_pages and len(result.latencies) >= max_pages):
            break
        params = {"verb": verb, "resumptionToken": match.group(1).decode()}
    result.seconds = time.perf_counter() - began
    http.close()
    return result


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(label: str, w: Walk) -> str:
    ms = [x * 1000 for x in w.latencies]
    first, last = ms[:10], ms[-10:]
    ratio = statistics.mean(last) / statistics.mean(first) if first and last else float("nan")
    return (
        f"{label}: {w.records:,} records in {w.seconds:.1f} s = {w.records / w.seconds:,.0f} rec/s; "
        f"{len(ms)} pages, median {statistics.median(ms):.1f} ms, p99 {pct(ms, 0.99):.1f} ms, "
        f"last-10/first-10 {ratio:.2f}; errors {w.errors}"
    )


def concurrent(base: str, harvesters: int, pages_each: int) -> tuple[list[Walk], float]:
    results: list[Walk] = [Walk() for _ in range(harvesters)]

    def one(k: int) -> None:
        results[k] = walk(base, "ListRecords", max_pages=pages_each)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(harvesters)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def get_records(base: str, n: int, count: int = 300) -> list[float]:
    import requests

    http = requests.Session()
    rng = random.Random(11)
    latencies = []
    for _ in range(count):
        ident = f"oai:{REPO_ID}:bench/{rng.randint(1, n)}"
        t0 = time.perf_counter()
        response = http.get(base, params={"verb": "GetRecord", "metadataPrefix": "jpcoar_2.0", "identifier": ident})
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200 and b"<GetRecord>" in response.content, response.content[:300]
    return latencies


# ---------------------------------------------------------------------------------------------------------------


@contextmanager
def writer(url: str, enabled: bool) -> Iterator[Any]:
    """A real harvest writing into the served database meanwhile (its own process), as the scheduler's would."""
    if not enabled:
        yield lambda: 0
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.serve", "--harvest-into", url], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip

    def written() -> int:
        from sqlalchemy import text

        from gateway.db import make_engine

        engine = make_engine(url)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM records WHERE source_id <> 1")).scalar()
        engine.dispose()
        return int(count or 0)

    deadline = time.monotonic() + 120
    while written() == 0 and time.monotonic() < deadline:  # its first page committed: it is really writing
        time.sleep(0.5)
    try:
        yield written
    finally:
        # The whole process group: the writer, its synthetic source and its mapping workers.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        _remove_writer(url)


def _remove_writer(url: str) -> None:
    """What the writer harvested, removed again: a kept database serves the same N records to the next run."""
    from sqlalchemy import text

    from gateway.db import make_engine

    engine = make_engine(url)
    mine = "SELECT r.id FROM records r JOIN sources s ON s.id = r.source_id WHERE s.name = 'writer'"
    theirs = f"SELECT id FROM published WHERE record_id IN ({mine})"
    with engine.begin() as conn:
        for statement in (
            f"DELETE FROM published_sets WHERE published_id IN ({theirs})",
            f"DELETE FROM published_formats WHERE published_id IN ({theirs})",
            f"DELETE FROM published WHERE record_id IN ({mine})",
            f"DELETE FROM record_fundings WHERE record_id IN ({mine})",
            f"DELETE FROM finding_snapshots WHERE record_id IN ({mine})",
            f"DELETE FROM records WHERE id IN ({mine})",
            "DELETE FROM source_locks WHERE source_id IN (SELECT id FROM sources WHERE name = 'writer')",
            "DELETE FROM harvest_runs WHERE source_id IN (SELECT id FROM sources WHERE name = 'writer')",
            "DELETE FROM sources WHERE name = 'writer'",
        ):
            conn.execute(text(statement))
    engine.dispose()


def _harvest_into(url: str) -> None:
    """The writer process: a synthetic source of its own, harvested into `url` until the process is stopped."""
    import multiprocessing

    from benchmarks.harvest import _serve
    from gateway.config import from_dict
    from gateway.db import make_engine, session_factory
    from gateway.harvest.runner import run_harvest

    ports: Any = multiprocessing.get_context("spawn").Queue()
    source = multiprocessing.get_context("spawn").Process(target=_serve, args=(1_000_000, ports), daemon=True)
    source.start()
    endpoint = f"http://127.0.0.1:{ports.get(timeout=30)}/oai"
    config = from_dict(
        {
            "repository": {"name": "Bench", "base_url": "http://127.0.0.1:8080/oai", "identifier": REPO_ID,
                           "admin_email": ["a@example.ac.jp"]},
            "database": {"url": url},
            "sources": [{"name": "writer", "kind": "oai-pmh", "url": endpoint, "metadata_prefix": "jpcoar_2.0"}],
        },
        path=None,
    )  # fmt: skip
    try:
        run_harvest(config, session_factory(make_engine(url)), config.source("writer"))
    finally:
        source.terminate()


def measure(kind: str, url: str, workdir: Path, args: argparse.Namespace, limit: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with server(kind, url, workdir, args.page_size, args.threads) as (base, pid):
        walk(base, "ListRecords", max_pages=3)  # warm up: imports, pools, caches
        with RssSampler(pid) as rss:
            records = walk(base, "ListRecords", limit=limit)
        out["records"], out["rss"] = records, rss.samples
        print(describe(f"[{kind}] ListRecords jpcoar_2.0" + (f" (first {limit:,})" if limit else ""), records))
        tail = rss.samples[len(rss.samples) // 10:]
        print(
            f"[{kind}] server RSS over the walk: start {rss.samples[0] / 1024:.0f} MiB, "
            f"peak {max(rss.samples) / 1024:.0f} MiB, end {rss.samples[-1] / 1024:.0f} MiB "
            f"(after the first tenth: {min(tail) / 1024:.0f}-{max(tail) / 1024:.0f} MiB)"
        )
        if kind == "gateway" or not limit:
            ids = walk(base, "ListIdentifiers", limit=limit)
            out["identifiers"] = ids
            print(describe(f"[{kind}] ListIdentifiers", ids))
        if kind == "gateway" and limit is None and args.prefix_compare:
            prefix = walk(base, "ListRecords", limit=args.prefix_compare)
            out["prefix"] = prefix
            print(describe(f"[{kind}] ListRecords first {args.prefix_compare:,}", prefix))
        gets = [x * 1000 for x in get_records(base, args.n)]
        out["get"] = gets
        print(f"[{kind}] GetRecord: median {statistics.median(gets):.1f} ms, p99 {pct(gets, 0.99):.1f} ms")
        with RssSampler(pid) as rss16, writer(url, args.write) as wrote:
            walks, elapsed = concurrent(base, args.harvesters, args.pages_each)
            written = wrote()
        lat = [x * 1000 for w in walks for x in w.latencies]
        served = sum(w.records for w in walks)
        errors = sum(w.errors for w in walks)
        out["concurrent"] = (lat, errors, served / elapsed)
        print(
            f"[{kind}] {args.harvesters} concurrent harvesters x {args.pages_each} pages: {served:,} records, "
            f"{served / elapsed:,.0f} rec/s together, page median {statistics.median(lat):.0f} ms, "
            f"p99 {pct(lat, 0.99):.0f} ms, errors {errors}, server peak RSS {max(rss16.samples) / 1024:.0f} MiB"
            + (f", while a harvest wrote {written:,} records" if args.write else "")
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="records to load (default 100,000)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the oaipmh package's server (default: yes)")
    parser.add_argument("--reference-limit", type=int, default=50_000,
                        help="walk the reference over at most this many records (default 50,000)")
    parser.add_argument("--page-size", type=int, default=500, help="records per page for both providers")
    parser.add_argument("--threads", type=int, default=8, help="WSGI server threads for both providers")
    parser.add_argument("--harvesters", type=int, default=16)
    parser.add_argument("--pages-each", type=int, default=40, help="pages each concurrent harvester walks")
    parser.add_argument("--reload", action="store_true", help="reload a kept PostgreSQL database")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=True,
                        help="a harvest writes into the database while the concurrent harvesters walk (default: yes)")
    parser.add_argument("--harvest-into", help=argparse.SUPPRESS)
    parser.add_argument("--serve-reference", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harvest_into:
        _harvest_into(args.harvest_into)
        return
    if args.serve_reference:
        import waitress

        waitress.serve(reference_app(args.serve_reference, args.page_size), host="127.0.0.1", port=args.port,
                       threads=args.threads, ident="reference")
        return
    limit = args.reference_limit if args.n > args.reference_limit else None
    args.prefix_compare = limit
    print(f"N = {args.n:,} on {args.engine}, page size {args.page_size}, {args.threads} server threads")
    with tempfile.TemporaryDirectory(prefix="gw-bench-serve-") as tmp:
        workdir = Path(tmp)
        url = prepare_database(args.engine, args.n, workdir, args.reload)
        gateway = measure("gateway", url, workdir, args, None)
        if not args.reference:
            return
        reference = measure("reference", url, workdir, args, limit)
    g, r = gateway["records"], reference["records"]
    g_rate, r_rate = g.records / g.seconds, r.records / r.seconds
    print(f"ratio gateway / reference, ListRecords: {g_rate / r_rate:.1f}x (gateway full walk vs reference"
          + (f" first {limit:,})" if limit else " full walk)"))
    if "prefix" in gateway:
        p = gateway["prefix"]
        print(f"ratio on the same first {limit:,} records: {(p.records / p.seconds) / r_rate:.1f}x")
    g16, r16 = gateway["concurrent"], reference["concurrent"]
    print(f"ratio, {args.harvesters} concurrent harvesters (rec/s together): {g16[2] / r16[2]:.1f}x; "
          f"p99 gateway {pct(g16[0], 0.99):.0f} ms vs reference {pct(r16[0], 0.99):.0f} ms")


if __name__ == "__main__":
    main()
