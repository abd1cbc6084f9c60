"""Two folder sources harvested through the real pipeline, and what the provider serves of them, for the tests of
record keys, the duplicate rule and the DMP gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select

from gateway.app import create_app
from gateway.config import Config
from gateway.db import session_factory
from gateway.harvest.runner import run_harvest
from gateway.models import Record
from tests.conftest import make_config
from tests.reports.test_counts_and_deadlines import write_folder

OAI = "{http://www.openarchives.org/OAI/2.0/}"
REPOSITORY = "gateway.test.ac.jp"


def config(db_url: str, tmp_path: Path, **priorities: int) -> Config:
    """Sources `repo` (folder a) and `rdm` (folder b), with the priorities given by name."""
    sources = [
        {"name": name, "kind": "directory", "path": str(tmp_path / folder), "priority": priorities.get(name, 0)}
        for name, folder in (("repo", "a"), ("rdm", "b"))
    ]
    return make_config(db_url, sources, identifier=REPOSITORY)


def write(tmp_path: Path, folder: str, records: dict[str, tuple[str, str]]) -> None:
    write_folder(tmp_path / folder, records)


def harvest(cfg: Config, engine: Any, *names: str) -> None:
    sessions = session_factory(engine)
    for name in names or [s.name for s in cfg.sources]:
        run = run_harvest(cfg, sessions, cfg.source(name), full=True)
        assert run.status == "succeeded", run.message


def records(engine: Any) -> dict[str, Record]:
    """Every stored record by local id ("repo/x1")."""
    with session_factory(engine)() as s:
        return {r.local_id: r for r in s.scalars(select(Record))}


def served(cfg: Config, engine: Any) -> tuple[set[str], set[str]]:
    """(live, deleted) local ids in the provider's ListIdentifiers, over every resumption."""
    client = create_app(cfg, engine).test_client()
    live: set[str] = set()
    deleted: set[str] = set()
    args: dict[str, str] = {"verb": "ListIdentifiers", "metadataPrefix": "jpcoar_2.0"}
    while True:
        root = etree.fromstring(client.get("/oai", query_string=args).data)
        for header in root.iter(f"{OAI}header"):
            local = header.findtext(f"{OAI}identifier").removeprefix(f"oai:{REPOSITORY}:")
            (deleted if header.get("status") == "deleted" else live).add(local)
        token = root.findtext(f".//{OAI}resumptionToken")
        if not token:
            return live, deleted
        args = {"verb": "ListIdentifiers", "resumptionToken": token}


def get_record(cfg: Config, engine: Any, local: str) -> etree._Element:
    client = create_app(cfg, engine).test_client()
    body = client.get(
        "/oai",
        query_string={"verb": "GetRecord", "metadataPrefix": "jpcoar_2.0", "identifier": f"oai:{REPOSITORY}:{local}"},
    ).data
    return etree.fromstring(body)
