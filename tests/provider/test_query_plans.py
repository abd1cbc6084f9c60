"""The provider's queries at scale: every list page uses an index on PostgreSQL (20,000 records), and above the exact
count limit completeListSize is omitted while the walk still returns every record.

Everything is bounded in count and time and runs on 127.0.0.1; timing targets live in benchmarks/serve.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from gateway.app import create_app
from gateway.db import make_engine, migrate
from gateway.provider import queries
from tests.conftest import make_config
from tests.provider.responses import NS, errors_of, headers_of, parse, token_text
from tests.support.provider_fixtures import BASE, bulk_publish, seed

STEP = timedelta(seconds=30)  # bulk_publish's default spacing of datestamps


# ---------------------------------------------------------------------------------------------------------------
# query plans on PostgreSQL


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
