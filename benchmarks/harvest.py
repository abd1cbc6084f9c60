"""Harvest benchmark: the gateway's full harvest against a plain Sickle loop, on a synthetic local OAI-PMH source.

    .venv/bin/python benchmarks/harvest.py               # N = 10,000 and 100,000
    .venv/bin/python benchmarks/harvest.py --n 10000     # one size

A synthetic repository on 127.0.0.1 (its own process) serves N JPCOAR 2.0 dataset records in pages of 100. For each N
it measures, each phase in its own process so that peak memory (max RSS) belongs to that phase alone:

- sickle:      a plain Sickle ListRecords loop writing each record's raw XML to a file (the floor: fetch + parse);
- gateway:     the gateway's full harvest into a fresh SQLite database (fetch, parse, crosswalk, validate, store,
               render every output format);
- incremental: the next incremental harvest of the unchanged source (from = the source's clock at the last run);
- unchanged:   a full re-harvest of the unchanged source (every record listed again, none of them changed).

It prints records/s for each phase, the gateway/sickle ratio and each phase's peak RSS, and the gateway's peak
memory at 100,000 relative to 10,000 when both run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
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
    from tests.records import dataset

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


def _phase_sickle(url: str, workdir: Path) -> dict[str, Any]:
    from sickle import Sickle

    count = 0
    started = time.perf_counter()
    with open(workdir / "raw.xml", "w", encoding="utf-8") as out:
        for record in Sickle(url).ListRecords(metadataPrefix="jpcoar_2.0", ignore_deleted=False):
            out.write(record.raw)
            count += 1
    return {"records": count, "seconds": time.perf_counter() - started}


def _config(url: str, db: Path):  # type: ignore[no-untyped-def]
    from gateway.config import from_dict

    return from_dict(
        {
            "repository": {
                "name": "Bench",
                "base_url": "http://127.0.0.1:8080/oai",
                "identifier": "bench.example.ac.jp",
                "admin_email": ["a@example.ac.jp"],
            },
            "database": {"url": f"sqlite:///{db}"},
            "sources": [{"name": "bench", "kind": "oai-pmh", "url": url, "metadata_prefix": "jpcoar_2.0"}],
        },
        path=None,
    )


def _phase_gateway(url: str, workdir: Path, *, full: bool) -> dict[str, Any]:
    from gateway.db import make_engine, migrate, session_factory
    from gateway.harvest.runner import run_harvest

    db = workdir / "gateway.db"
    config = _config(url, db)
    engine = make_engine(config.database_url)
    migrate(engine)
    started = time.perf_counter()
    run = run_harvest(config, session_factory(engine), config.source("bench"), full=full)
    seconds = time.perf_counter() - started
    listed = run.records_new + run.records_changed + run.records_unchanged + run.records_deleted + run.records_failed
    return {
        "records": listed,
        "seconds": seconds,
        "status": run.status,
        "message": run.message,
        "new": run.records_new,
        "unchanged": run.records_unchanged,
        "requests": run.requests,
    }


def _run_phase(phase: str, url: str, workdir: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", phase, "--url", url, "--workdir", str(workdir)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(n: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(n, ports), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}/oai"
        with tempfile.TemporaryDirectory(prefix="bench-harvest-") as tmp:
            workdir = Path(tmp)
            results = {"n": n}
            for phase in ("sickle", "gateway", "incremental", "unchanged"):
                results[phase] = _run_phase(phase, url, workdir)
                r = results[phase]
                rate = r["records"] / r["seconds"] if r["seconds"] else float("inf")
                print(
                    f"N={n:>7,}  {phase:<11} {r['records']:>7,} records in {r['seconds']:8.2f} s"
                    f" = {rate:8.0f} records/s   peak RSS {r['peak_mb']:7.1f} MB"
                    + (f" (+ each mapping worker ≤ {r['workers_peak_mb']:.1f} MB)" if r.get("workers_peak_mb") else "")
                    + (f"   [{r['status']}{': ' + r['message'] if r.get('message') else ''}]" if "status" in r else ""),
                    flush=True,
                )
            s, g = results["sickle"], results["gateway"]
            ratio = (g["records"] / g["seconds"]) / (s["records"] / s["seconds"])
            print(f"N={n:>7,}  gateway/sickle speed ratio {ratio:.3f}", flush=True)
            results["ratio"] = ratio
            return results
    finally:
        server.terminate()
        server.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="records in the source (repeatable)")
    parser.add_argument("--phase", choices=["sickle", "gateway", "incremental", "unchanged"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("PYTHONHASHSEED", "0")
        if args.phase == "sickle":
            result = _phase_sickle(args.url, args.workdir)
        else:
            result = _phase_gateway(args.url, args.workdir, full=args.phase in ("gateway", "unchanged"))
        result["peak_mb"] = _peak_mb()
        result["workers_peak_mb"] = _peak_children_mb()
        print(json.dumps(result))
        return
    sizes = args.n or [10_000, 100_000]
    outcome = [bench(n) for n in sizes]
    if len(outcome) > 1:
        small, large = outcome[0]["gateway"]["peak_mb"], outcome[-1]["gateway"]["peak_mb"]
        print(
            f"gateway peak RSS at N={outcome[-1]['n']:,} is {large / small:.2f}x that at N={outcome[0]['n']:,}"
            f" ({large:.1f} MB vs {small:.1f} MB)"
        )


if __name__ == "__main__":
    main()
