"""No statement a harvest runs on SQLite reads a whole table of records, or a whole kind of keys.

SQLite plans without statistics (nobody runs ANALYZE on a gateway's database), by the form of a query alone, so the
plan it picks for a few dozen rows is the one it picks for millions. A statement that scans what every record has
stored makes each page cost more than the one before: a harvest of 100,000 records then spends most of its time
there (one did, reading every identity key of a kind to find the keys of one page's records). Every SELECT of two
harvests (the second with changed records, datasets held by both sources) is planned again here with EXPLAIN QUERY
PLAN and its parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine, event

from gateway.db import make_engine, migrate
from tests.dmp import gate_support as gs
from tests.reports.test_counts_and_deadlines import CAA, record

# What grows with the records stored; the other tables hold a row per source, run, set or dictionary.
_PER_RECORD = ("records", "record_keys", "record_fundings", "published", "published_formats", "published_sets",
               "finding_snapshots")  # fmt: skip
_SCAN = re.compile(r"\bSCAN (\w+)")
_SEARCH = re.compile(r"\bSEARCH (\w+) USING (?:COVERING )?INDEX (\w+) \(([^)]*)\)")
# The run-level statements that read every record of one source, once per run, by design: a snapshot's
# reconciliation (what the source no longer lists) and the run's count of held records.
_ONCE_PER_RUN = ("run_id IS NULL OR records.run_id !=", "count(*)")


def _folder(tmp_path: Path, name: str, n: int, *, edition: str) -> None:
    # Both folders hold datasets x0..x{n-1} (one DOI each): every record is a duplicate of the other source's.
    gs.write(tmp_path, name, {f"x{i}": (record(f"x{i}", CAA).replace("データ", f"データ{edition}"), "public")
                              for i in range(n)})  # fmt: skip


def test_a_harvest_reads_records_and_keys_by_index_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plans.db'}"
    engine = make_engine(url)
    migrate(engine)
    cfg = gs.config(url, tmp_path, repo=10)
    _folder(tmp_path, "a", 40, edition="1")
    _folder(tmp_path, "b", 40, edition="1")
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    gs.harvest(cfg, engine)
    _folder(tmp_path, "a", 40, edition="2")  # every record of a source changed: mapped, decided, grouped again
    gs.harvest(cfg, engine, "repo")
    event.remove(engine, "before_cursor_execute", seen)
    assert gs.records(engine)["rdm/x3"].duplicate_of == gs.records(engine)["repo/x3"].id  # the groups were made

    raw = create_engine(url)
    problems: set[str] = set()
    with raw.connect() as conn:
        driver = conn.connection.driver_connection
        for statement, parameters in statements:
            if any(marker in statement for marker in _ONCE_PER_RUN):
                continue
            plan = " | ".join(row[3] for row in driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()))
            for table in _SCAN.findall(plan):
                if table in _PER_RECORD:
                    problems.add(f"scans {table}: {' '.join(statement.split())[:300]} -> {plan}")
            for table, _index, terms in _SEARCH.findall(plan):
                if table == "record_keys" and terms.strip() == "kind=?":
                    problems.add(f"reads every key of a kind: {' '.join(statement.split())[:300]} -> {plan}")
    engine.dispose()
    raw.dispose()
    assert len(statements) > 50  # the listener saw the harvests' queries
    assert not problems, "\n".join(sorted(problems))
