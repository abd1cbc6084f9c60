"""Seconds per report over a database of N records spread over projects (rows inserted directly, not harvested).

Run: .venv/bin/python benchmarks/reports.py [--n 100000] [--projects 500] [--database-url URL]
Without --database-url the database is a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from gateway import reports
from gateway.config import from_dict
from gateway.db import make_engine, migrate, session_factory
from gateway.models import Record, RecordFunding, Source

RIGHTS = ("open", "restricted", "metadata-only", "embargoed", None)
STATUSES = ("published", "published", "published", "withheld", "quarantined", "deleted")


def fill(engine, n: int, projects: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2025, 1, 1)
    with session_factory(engine).begin() as s:
        source = Source(name="bench", kind="directory", metadata_prefix="jpcoar_2.0", created_at=now)
        s.add(source)
        s.flush()
        batch = 5000
        for start in range(0, n, batch):
            rows = [
                {
                    "id": i + 1,
                    "source_id": source.id,
                    "source_identifier": f"r{i}",
                    "local_id": f"bench/r{i}",
                    "harvested_at": now,
                    "disclosure": "public",
                    "status": STATUSES[i % len(STATUSES)],
                    "access_right": RIGHTS[i % len(RIGHTS)],
                    "available_date": f"2030-{1 + i % 12:02d}-01",
                    "annex3": {},
                    "title": f"record {i}",
                    "updated_at": now,
                }
                for i in range(start, min(n, start + batch))
            ]
            s.execute(insert(Record), rows)
            fundings = [
                {
                    "record_id": r["id"],
                    "position": 0,
                    "jgn": f"JP{r['id'] % projects:08d}" if r["id"] % 50 else None,
                    "funder_name_ja": "資金配分機関",
                    "project_name_ja": f"課題 {r['id'] % projects}",
                }
                for r in rows
            ]
            s.execute(insert(RecordFunding), fundings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        fill(engine, args.n, args.projects)
        print(f"filled {args.n} records in {time.perf_counter() - started:.1f} s")
        config = from_dict(
            {
                "repository": {"identifier": "gateway.bench.ac.jp"},
                "projects": [
                    {"jgn": f"JP{p:08d}", "name": f"p{p}", "start": "2022-04-01", "end": "2025-03-31"}
                    for p in range(args.projects)
                ],
            }
        )
        with session_factory(engine)() as s:
            for name, call in (
                ("counts", lambda: reports.counts(s)),
                ("embargoes", lambda: reports.embargoes(s, today=date(2030, 3, 1))),
                ("deadlines", lambda: reports.deadlines(s, config, today=date(2025, 5, 1))),
            ):
                started = time.perf_counter()
                rows = call()
                print(f"{name:10} {len(rows):7} rows in {time.perf_counter() - started:.3f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
