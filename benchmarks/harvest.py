"""Harvest benchmark: the gateway's full harvest against a plain Sickle loop, on a synthetic local OAI-PMH source.

    .venv/bin/python -m benchmarks.harvest                          # N = 10,000 and 100,000, SQLite
    .venv/bin/python -m benchmarks.harvest --n 10000                # one size
    .venv/bin/python -m benchmarks.harvest --engine postgresql      # a scratch database on 127.0.0.1:5432
    .venv/bin/python -m benchmarks.harvest --repeat 3               # alternate sickle/gateway runs, print medians

A synthetic repository on 127.0.0.1 (its own process) serves N JPCOAR 2.0 dataset records in pages of 100. For each N
it measures, each phase in its own process so that peak memory (max RSS) belongs to that phase alone:

- sickle:      a plain Sickle ListRecords loop writing each record's raw XML to a file (the floor: fetch + parse);
- gateway:     the gateway's full harvest into a fresh SQLite database (fetch, parse, crosswalk, validate, store,
               render every output format);
- incremental: the next incremental harvest of the unchanged source (from = the source's clock at the last run);
- unchanged:   a full re-harvest of the unchanged source (every record listed again, none of them changed);
- storage:     bytes the database holds per record after the gateway phase, by table and index, against the bytes
               of the source record as delivered;
- profile:     the gateway's full harvest once more, in one process and one thread (no mapping workers, no
               prefetch), with every stage timed (benchmarks/stages.py): ms per record for fetch, parse, each
               crosswalk, each validation, the policy gate, each database write and each rendering.

It prints records/s for each phase from process start to exit (as a user times a command: interpreter start, imports,
database setup and worker processes included) and, beside it, of the harvest loop alone; the gateway/sickle ratio of
the process times (the median over `--repeat` alternating runs) and of the loops alone; each
phase's peak RSS, the storage table, the stage profile, and the gateway's peak memory at the largest N relative to the
smallest when several run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
PAGE = 100
RESPONSE_DATE = "2026-11-20T00:00:00Z"
OAI_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'


def _template() -> str:
    sys.path.insert(0, str(ROOT))
    from tests.support.records import dataset

    return dataset("データセット @N@", title_en="Dataset @N@", data_no="D-@N@", doi="10.99999/bench.@N@")


class SyntheticRepository:
    """N records generated from one template; ListRecords with resumption tokens, `from` and Identify."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.template = _template()

    def record(self, i: int) -> str:
        return (
            f"<record><header><identifier>oai:bench.example.ac.jp:{i:07d}</identifier>"
            f"<datestamp>2026-10-01T00:00:00Z</datestamp></header>"
            f"<metadata>{self.template.replace('@N@', str(i))}</metadata></record>"
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        head = f"{OAI_HEAD}<responseDate>{RESPONSE_DATE}</responseDate><request>http://127.0.0.1/oai</request>"
        verb = args.get("verb")
        if verb == "Identify":
            body = (
                "<Identify><repositoryName>bench</repositoryName><baseURL>http://127.0.0.1/oai</baseURL>"
                "<protocolVersion>2.0</protocolVersion><adminEmail>a@example.ac.jp</adminEmail>"
                "<earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
                "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>"
            )
        elif "resumptionToken" in args or args.get("from", "") <= "2026-10-01T00:00:00Z":
            start = int(args.get("resumptionToken", "0"))
            end = min(start + PAGE, self.n)
            parts = ["<ListRecords>", *(self.record(i) for i in range(start, end))]
            token = escape(str(end)) if end < self.n else ""
            parts.append(f'<resumptionToken completeListSize="{self.n}" cursor="{start}">{token}</resumptionToken>')
            parts.append("</ListRecords>")
            body = "".join(parts)
        else:
            body = '<error code="noRecordsMatch">nothing changed</error>'
        data = f"{head}{body}</OAI-PMH>".encode()
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(data)))])
        return [data]


def _serve(n: int, ports: Any) -> None:
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, SyntheticRepository(n), threaded=True)
    ports.put(server.server_port)
    server.serve_forever()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _peak_children_mb() -> float:
    """The largest peak RSS of the phase's own child processes (the gateway's mapping workers), 0 if none."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _phase_sickle(url: str, workdir: Path) -> dict[str, Any]:
    from sickle import Sickle

    count = 0
    started = time.perf_counter()
    with open(workdir / "raw.xml", "w", encoding="utf-8") as out:
        for record in Sickle(url).ListRecords(metadataPrefix="jpcoar_2.0", ignore_deleted=False):
            out.write(record.raw)
            count += 1
    return {"records": count, "seconds": time.perf_counter() - started}


def _database_url(workdir: Path, engine: str, name: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{workdir / name}.db"
    return (workdir / f"{name}.url").read_text().strip()


def _config(url: str, database_url: str):  # type: ignore[no-untyped-def]
    from gateway.config import from_dict

    return from_dict(
        {
            "repository": {
                "name": "Bench",
                "base_url": "http://127.0.0.1:8080/oai",
                "identifier": "bench.example.ac.jp",
                "admin_email": ["a@example.ac.jp"],
            },
            "database": {"url": database_url},
            "sources": [{"name": "bench", "kind": "oai-pmh", "url": url, "metadata_prefix": "jpcoar_2.0"}],
        },
        path=None,
    )


def _phase_gateway(url: str, database_url: str, *, full: bool, profile: bool = False) -> dict[str, Any]:
    from gateway.db import make_engine, migrate, session_factory
    from gateway.harvest.runner import run_harvest

    config = _config(url, database_url)
    engine = make_engine(config.database_url)
    migrate(engine)
    timer = None
    if profile:
        from benchmarks.stages import HARVEST_STAGES, StageTimer
        from gateway.harvest.oaipmh import OAIHarvester

        os.environ["GATEWAY_MAP_WORKERS"] = "0"
        OAIHarvester.prefetch = False
        timer = StageTimer(HARVEST_STAGES)
    started = time.perf_counter()
    if timer is not None:
        with timer.installed():
            run = run_harvest(config, session_factory(engine), config.source("bench"), full=full)
    else:
        run = run_harvest(config, session_factory(engine), config.source("bench"), full=full)
    seconds = time.perf_counter() - started
    listed = run.records_new + run.records_changed + run.records_unchanged + run.records_deleted + run.records_failed
    extra: dict[str, Any] = {}
    if timer is not None:
        extra["stages"] = timer.table(max(listed, 1), seconds)
        extra["missing"] = timer.missing
    engine.dispose()
    return {
        **extra,
        "records": listed,
        "seconds": seconds,
        "status": run.status,
        "message": run.message,
        "new": run.records_new,
        "unchanged": run.records_unchanged,
        "requests": run.requests,
    }


def _phase_storage(n: int, database_url: str) -> dict[str, Any]:
    """Bytes held per record: every table and index of the database, after the gateway phase."""
    from sqlalchemy import text

    from gateway.db import make_engine

    engine = make_engine(database_url)
    sizes: dict[str, int] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
        else:
            rows = conn.execute(
                text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) - pg_indexes_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r' "
                    "UNION ALL SELECT i.relname, pg_relation_size(i.oid) FROM pg_class i "
                    "JOIN pg_namespace s ON s.oid = i.relnamespace WHERE s.nspname = 'public' AND i.relkind = 'i'"
                )
            ).all()
        sizes = {name: int(size or 0) for name, size in rows}
    engine.dispose()
    source = SyntheticRepository(n)
    sample = range(0, n, max(1, n // 1000))
    source_bytes = sum(len(source.template.replace("@N@", str(i)).encode()) for i in sample) / len(sample)
    return {"records": n, "seconds": 0.0, "tables": sizes, "source_bytes": source_bytes}


def _run_phase(phase: str, url: str, workdir: Path, engine: str, n: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.harvest", "--phase", phase, "--url", url, "--workdir", str(workdir)]
    cmd += ["--engine", engine, "--n", str(n)]
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    process_seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # Process start to exit, as a user times a command: interpreter start, imports, database setup, worker processes.
    result["process_seconds"] = process_seconds
    return result


def _scratch_databases(engine: str, workdir: Path, names: list[str]) -> list[str]:
    """PostgreSQL databases for the phases that write (dropped by `_drop_databases`); nothing for SQLite."""
    if engine == "sqlite":
        return []
    import uuid

    from sqlalchemy import create_engine, text

    admin_url = os.environ.get("GATEWAY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    created = []
    with admin.connect() as conn:
        for name in names:
            database = f"gw_bench_{name}_{uuid.uuid4().hex[:8]}"
            conn.execute(text(f'CREATE DATABASE "{database}"'))
            created.append(database)
            (workdir / f"{name}.url").write_text(admin_url.rsplit("/", 1)[0] + f"/{database}")
    admin.dispose()
    return created


def _drop_databases(created: list[str]) -> None:
    if not created:
        return
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get("GATEWAY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for database in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def _rate(result: dict[str, Any]) -> float:
    """Records per second from process start to exit."""
    seconds = result.get("process_seconds") or result["seconds"]
    return result["records"] / seconds if seconds else float("inf")


def _loop_rate(result: dict[str, Any]) -> float:
    """Records per second of the harvest loop alone (imports and setup left out)."""
    return result["records"] / result["seconds"] if result["seconds"] else float("inf")


def _print_phase(n: int, phase: str, r: dict[str, Any]) -> None:
    print(
        f"N={n:>7,}  {phase:<11} {r['records']:>7,} records in {r.get('process_seconds', r['seconds']):8.2f} s"
        f" = {_rate(r):8.0f} records/s (loop alone {_loop_rate(r):6.0f})   peak RSS {r['peak_mb']:7.1f} MB"
        + (f" (+ each mapping worker ≤ {r['workers_peak_mb']:.1f} MB)" if r.get("workers_peak_mb") else "")
        + (
            f"   CPU per record {1000 * r['cpu_seconds'] / r['records']:.3f} ms"
            + (f" + workers {1000 * r['workers_cpu_seconds'] / r['records']:.3f}" if r["workers_cpu_seconds"] else "")
            if r.get("records") and "cpu_seconds" in r
            else ""
        )
        + (f"   [{r['status']}{': ' + r['message'] if r.get('message') else ''}]" if "status" in r else ""),
        flush=True,
    )


def _print_storage(n: int, engine: str, storage: dict[str, Any]) -> None:
    tables = storage["tables"]
    total = sum(tables.values())
    source = storage["source_bytes"]
    print(f"N={n:>7,}  storage on {engine}: bytes per record by table and index (source record {source:,.0f} B)")
    for name, size in sorted(tables.items(), key=lambda item: -item[1]):
        if size * 1000 >= total:  # the tables and indexes that hold at least 0.1 %
            print(f"             {name:<48} {size / n:10,.0f} B")
    print(f"N={n:>7,}  storage total {total / n:,.0f} B per record = {total / n / source:.2f}x the source record")


def _print_profile(n: int, profile: dict[str, Any]) -> None:
    rate = _rate(profile)
    per_record = 1000 / rate
    print(f"N={n:>7,}  stage profile (one process, one thread): {per_record:.3f} ms per record = {rate:,.0f} records/s")
    for stage, ms, share in profile["stages"]:
        print(f"             {stage:<40} {ms:8.3f} ms  {100 * share:5.1f} %")
    if profile.get("missing"):
        print(f"             (not in this revision: {', '.join(profile['missing'])})")


def bench(n: int, *, engine: str = "sqlite", repeat: int = 1, profile: bool = True) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(n, ports), daemon=True)
    server.start()
    created: list[str] = []
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}/oai"
        with tempfile.TemporaryDirectory(prefix="bench-harvest-") as tmp:
            workdir = Path(tmp)
            created = _scratch_databases(engine, workdir, ["gateway", "profile"])
            results: dict[str, Any] = {"n": n, "engine": engine}
            ratios, loop_ratios, sickle_rates, gateway_rates = [], [], [], []
            for attempt in range(repeat):
                if attempt:
                    # A fresh database for each gateway run: every record is new again.
                    _drop_databases(created)
                    created = _scratch_databases(engine, workdir, ["gateway", "profile"])
                    (workdir / "gateway.db").unlink(missing_ok=True)
                for phase in ("sickle", "gateway"):
                    results[phase] = _run_phase(phase, url, workdir, engine, n)
                    _print_phase(n, phase, results[phase])
                sickle_rates.append(_rate(results["sickle"]))
                gateway_rates.append(_rate(results["gateway"]))
                ratios.append(gateway_rates[-1] / sickle_rates[-1])
                loop_ratios.append(_loop_rate(results["gateway"]) / _loop_rate(results["sickle"]))
            ratio = statistics.median(ratios)
            results["ratio"] = ratio
            print(
                f"N={n:>7,}  gateway/sickle speed ratio {ratio:.3f}, process start to exit"
                f" (the loops alone: {statistics.median(loop_ratios):.3f})"
                + (
                    f" (median of {repeat} alternating runs: sickle {statistics.median(sickle_rates):,.0f} records/s,"
                    f" gateway {statistics.median(gateway_rates):,.0f} records/s)"
                    if repeat > 1
                    else ""
                ),
                flush=True,
            )
            results["storage"] = _run_phase("storage", url, workdir, engine, n)
            _print_storage(n, engine, results["storage"])
            for phase in ("incremental", "unchanged"):
                results[phase] = _run_phase(phase, url, workdir, engine, n)
                _print_phase(n, phase, results[phase])
            if profile:
                results["profile"] = _run_phase("profile", url, workdir, engine, n)
                _print_profile(n, results["profile"])
            return results
    finally:
        _drop_databases(created)
        server.terminate()
        server.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="records in the source (repeatable)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=1, help="alternating sickle/gateway runs; medians are printed")
    parser.add_argument("--no-profile", action="store_true", help="skip the stage profile")
    phases = ["sickle", "gateway", "incremental", "unchanged", "storage", "profile"]
    parser.add_argument("--phase", choices=phases, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("PYTHONHASHSEED", "0")
        if args.phase == "sickle":
            result = _phase_sickle(args.url, args.workdir)
        elif args.phase == "storage":
            result = _phase_storage(args.n[0], _database_url(args.workdir, args.engine, "gateway"))
        else:
            name = "profile" if args.phase == "profile" else "gateway"
            result = _phase_gateway(
                args.url,
                _database_url(args.workdir, args.engine, name),
                full=args.phase in ("gateway", "unchanged", "profile"),
                profile=args.phase == "profile",
            )
        result["peak_mb"] = _peak_mb()
        result["workers_peak_mb"] = _peak_children_mb()
        result["cpu_seconds"] = _cpu_seconds(resource.RUSAGE_SELF)
        result["workers_cpu_seconds"] = _cpu_seconds(resource.RUSAGE_CHILDREN)
        print(json.dumps(result))
        return
    sizes = args.n or [10_000, 100_000]
    outcome = [bench(n, engine=args.engine, repeat=args.repeat, profile=not args.no_profile) for n in sizes]
    if len(outcome) > 1:
        small, large = outcome[0]["gateway"]["peak_mb"], outcome[-1]["gateway"]["peak_mb"]
        print(
            f"gateway peak RSS at N={outcome[-1]['n']:,} is {large / small:.2f}x that at N={outcome[0]['n']:,}"
            f" ({large:.1f} MB vs {small:.1f} MB)"
        )


if __name__ == "__main__":
    main()
