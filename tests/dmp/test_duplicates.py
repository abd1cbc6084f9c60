"""One dataset, one record: a dataset held from two folder sources is served once, counted once, and handed over
when the served record goes — on SQLite and PostgreSQL, through real harvests and the provider's responses."""

from __future__ import annotations

import re

from sqlalchemy import select

from gateway.admin import auth
from gateway.app import create_app
from gateway.db import session_factory, transaction
from gateway.inspect import describe_record
from gateway.models import Record
from gateway.reports import project_counts
from tests.admin.logins import PASSWORD, login
from tests.dmp import gate_support as gs
from tests.reports.test_counts_and_deadlines import CAA, JST, record

# x1 is one dataset in both folders (same DOI, titles written differently); x2 and x3 are each in one of them
REPO = {"x1": (record("x1", CAA), "public"), "x2": (record("x2", CAA), "public")}
RDM = {
    "x1": (record("x1", CAA).replace("データ x1", "x1 のデータ（RDM）"), "public"),
    "x3": (record("x3", CAA), "public"),
}


def _counts(engine) -> dict[str, int]:
    with session_factory(engine)() as s:
        (row,) = project_counts.counts(s, project=CAA)
        return {"total": row.total, "published": row.published, "withheld": row.withheld}


def _page(cfg, engine, record_id: int, lang: str) -> str:
    """The dashboard's page of a record as a viewer sees it, as text."""
    client = create_app(cfg, engine).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    login(client, "viewer1")
    page = client.get(f"/admin/records/{record_id}")
    assert page.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.get_data(as_text=True)))


def test_a_dataset_from_two_sources_is_served_once_by_priority_and_handed_over(engine, db_url, tmp_path):
    gs.write(tmp_path, "a", REPO)
    gs.write(tmp_path, "b", RDM)
    cfg = gs.config(db_url, tmp_path, repo=10)
    # the lower priority's copy is stored (and published) first: the higher priority's takes its place
    gs.harvest(cfg, engine, "rdm")
    assert gs.served(cfg, engine) == ({"rdm/x1", "rdm/x3"}, set())
    gs.harvest(cfg, engine, "repo")
    stored = gs.records(engine)
    served, duplicate = stored["repo/x1"], stored["rdm/x1"]
    assert served.status == "published" and served.duplicate_of is None
    assert duplicate.status == "withheld" and duplicate.duplicate_of == served.id
    assert duplicate.status_reason.startswith(f"duplicate of oai:{gs.REPOSITORY}:repo/x1 (source repo, priority 10)")
    # served once; the copy that was published is a deleted record now, so aggregators drop it
    assert gs.served(cfg, engine) == ({"repo/x1", "repo/x2", "rdm/x3"}, {"rdm/x1"})
    assert _counts(engine) == {"total": 3, "published": 3, "withheld": 0}
    with session_factory(engine)() as s:
        about_dup = describe_record(s, cfg, "rdm/x1")
        about_served = describe_record(s, cfg, "repo/x1")
    assert about_dup["duplicate_of"] == f"oai:{gs.REPOSITORY}:repo/x1 (source repo, priority 10)"
    assert about_served["duplicates"] == [f"oai:{gs.REPOSITORY}:rdm/x1 (source rdm, priority 0)"]
    # the dashboard's record page says the same, in both languages
    with transaction(session_factory(engine)) as session:
        auth.create_user(session, "viewer1", PASSWORD, "viewer")
    pages = {lang: {local: _page(cfg, engine, stored[local].id, lang) for local in ("rdm/x1", "repo/x1")}
             for lang in ("en", "ja")}  # fmt: skip
    assert f"Duplicate of oai:{gs.REPOSITORY}:repo/x1 (Source repo, priority 10)" in pages["en"]["rdm/x1"]
    assert f"Duplicates: oai:{gs.REPOSITORY}:rdm/x1 (Source rdm, priority 0)" in pages["en"]["repo/x1"]
    assert f"重複（提供されるレコード） oai:{gs.REPOSITORY}:repo/x1 (ソース repo, 優先度 10)" in pages["ja"]["rdm/x1"]

    # a harvest that changes nothing keeps it so
    gs.harvest(cfg, engine)
    assert gs.served(cfg, engine) == ({"repo/x1", "repo/x2", "rdm/x3"}, {"rdm/x1"})

    # the served record deleted at its source: the duplicate takes its place, published again
    (tmp_path / "a" / "x1.xml").unlink()
    gs.harvest(cfg, engine, "repo")
    stored = gs.records(engine)
    assert stored["repo/x1"].status == "deleted"
    assert stored["rdm/x1"].status == "published" and stored["rdm/x1"].duplicate_of is None
    assert gs.served(cfg, engine) == ({"rdm/x1", "repo/x2", "rdm/x3"}, {"repo/x1"})
    titles = [t.text for t in gs.get_record(cfg, engine, "rdm/x1").iter("{http://purl.org/dc/elements/1.1/}title")]
    assert "x1 のデータ（RDM）" in titles
    assert _counts(engine) == {"total": 3, "published": 3, "withheld": 0}

    # back at its source: the higher priority's is served again, the other withdrawn again
    gs.write(tmp_path, "a", REPO)
    gs.harvest(cfg, engine, "repo")
    assert gs.served(cfg, engine) == ({"repo/x1", "repo/x2", "rdm/x3"}, {"rdm/x1"})


def test_ties_go_to_the_record_stored_first_and_a_priority_change_moves_it(engine, db_url, tmp_path):
    gs.write(tmp_path, "a", REPO)
    gs.write(tmp_path, "b", RDM)
    cfg = gs.config(db_url, tmp_path)
    gs.harvest(cfg, engine, "rdm", "repo")
    stored = gs.records(engine)
    assert stored["repo/x1"].duplicate_of == stored["rdm/x1"].id
    assert gs.served(cfg, engine)[0] == {"rdm/x1", "repo/x2", "rdm/x3"}
    # the configuration now prefers repo: its next harvest (nothing changed at the source) serves repo's copy
    cfg = gs.config(db_url, tmp_path, repo=5)
    gs.harvest(cfg, engine, "repo")
    stored = gs.records(engine)
    assert stored["rdm/x1"].duplicate_of == stored["repo/x1"].id and stored["repo/x1"].duplicate_of is None
    assert gs.served(cfg, engine) == ({"repo/x1", "repo/x2", "rdm/x3"}, {"rdm/x1"})


def test_a_duplicate_is_by_data_number_of_the_same_grant_and_a_withheld_copy_yields(engine, db_url, tmp_path):
    same_number = record("y1", CAA).replace("10.99999/y1", "10.99999/other")  # no shared DOI, the same D-y1
    other_grant = record("y2", JST).replace("10.99999/y2", "10.99999/y2-jst")  # D-y2 of another grant number
    gs.write(tmp_path, "a", {"y1": (record("y1", CAA), "private"), "y2": (record("y2", CAA), "public")})
    gs.write(tmp_path, "b", {"y1": (same_number, "public"), "y2": (other_grant, "public")})
    cfg = gs.config(db_url, tmp_path, repo=10)
    gs.harvest(cfg, engine)
    stored = gs.records(engine)
    # repo's y1 is private at its source: rdm's public copy is served even though repo has the higher priority
    assert stored["repo/y1"].duplicate_of == stored["rdm/y1"].id and stored["repo/y1"].status == "withheld"
    assert stored["rdm/y1"].status == "published" and stored["rdm/y1"].duplicate_of is None
    assert stored["rdm/y2"].duplicate_of is None and stored["repo/y2"].duplicate_of is None
    assert gs.served(cfg, engine)[0] == {"rdm/y1", "repo/y2", "rdm/y2"}
    with session_factory(engine)() as s:
        assert s.scalars(select(Record.local_id).where(Record.duplicate_of.is_not(None))).all() == ["repo/y1"]
