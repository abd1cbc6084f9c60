"""The policy gate end to end through a directory source: what is published, withheld, quarantined and deleted."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.db import session_factory
from gateway.harvest.runner import remap, run_harvest
from gateway.models import OaiSet, Published, PublishedFormat, PublishedSet, Record
from tests.conftest import make_config
from tests.support.records import dataset


def write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.xml").write_text(text, encoding="utf-8")


def setup_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    write(folder, "open", dataset("公開データ", data_no="A-1", doi="10.99999/a.1"))
    write(folder, "embargoed", dataset("猶予データ", access="embargoed", available="2030-04-01", data_no="A-2"))
    write(folder, "shared", dataset("共有メタデータ", data_no="A-3", doi="10.99999/a.3"))
    write(folder, "broken", dataset("不完全データ", data_no="A-4", omit=("funding",)))
    (folder / "manifest.toml").write_text(
        '[records.open]\nremarks = "社外秘メモ：契約交渉中"\n[records.shared]\ndisclosure = "shared"\n',
        encoding="utf-8",
    )
    return folder


def build(engine, db_url, folder):
    cfg = make_config(db_url, [{"name": "files", "kind": "directory", "path": str(folder)}])
    return cfg, session_factory(engine)


def by_title(session):
    return {r.title: r for r in session.scalars(select(Record))}


def all_served_bytes(session) -> bytes:
    rows = session.scalars(select(PublishedFormat.xml)).all()
    about = [a for a in session.scalars(select(Published.about_xml)) if a]
    names = [n.encode() for n in session.scalars(select(OaiSet.name))]
    return b"\n".join(rows + about + names)


def test_gate_publishes_only_public_valid_records(engine, db_url, tmp_path):
    folder = setup_folder(tmp_path)
    cfg, sessions = build(engine, db_url, folder)
    run = run_harvest(cfg, sessions, cfg.source("files"))
    assert run.status == "succeeded" and run.records_new == 4
    with sessions() as s:
        recs = by_title(s)
        assert recs["公開データ"].status == "published"
        assert recs["猶予データ"].status == "published" and recs["猶予データ"].access_right == "embargoed"
        assert recs["共有メタデータ"].status == "withheld"
        assert recs["不完全データ"].status == "quarantined"
        assert {f["item"] for f in recs["不完全データ"].findings if f["severity"] == "error"} >= {1, 2, 3}
        published_ids = set(s.scalars(select(Published.record_id)))
        assert published_ids == {recs["公開データ"].id, recs["猶予データ"].id}
        served = all_served_bytes(s)
        # Neither withheld nor quarantined records, nor remarks, reach anything the provider serves.
        assert "共有メタデータ".encode() not in served
        assert "不完全データ".encode() not in served
        assert "社外秘メモ".encode() not in served
        assert recs["公開データ"].private == {"remarks": "社外秘メモ：契約交渉中"}
        pub_id = s.scalar(select(Published.id).where(Published.record_id == recs["猶予データ"].id))
        sets = set(s.scalars(select(PublishedSet.set_spec).where(PublishedSet.published_id == pub_id)))
    # The published record has been rendered in every format, for every set it belongs to.
    assert sets == {
        "source",
        "source:files",
        "funder",
        "funder:1020",
        "project",
        "project:JPMJPF2301",
        "access",
        "access:embargoed",
    }


def test_reimport_keeps_identity_and_datestamps(engine, db_url, tmp_path):
    folder = setup_folder(tmp_path)
    cfg, sessions = build(engine, db_url, folder)
    run_harvest(cfg, sessions, cfg.source("files"))
    with sessions() as s:
        first = {p.oai_identifier: (p.id, p.datestamp, p.content_hash) for p in s.scalars(select(Published))}
    run = run_harvest(cfg, sessions, cfg.source("files"))
    assert run.records_unchanged == 4 and run.records_changed == 0
    with sessions() as s:
        again = {p.oai_identifier: (p.id, p.datestamp, p.content_hash) for p in s.scalars(select(Published))}
    assert again == first
    assert "oai:gateway.test.ac.jp:files/open" in first
    # remap with unchanged crosswalks changes nothing the aggregators see either.
    remap(cfg, sessions)
    with sessions() as s:
        assert {p.oai_identifier: (p.id, p.datestamp, p.content_hash) for p in s.scalars(select(Published))} == first


def test_withdrawal_disclosure_change_and_republication(engine, db_url, tmp_path):
    folder = setup_folder(tmp_path)
    cfg, sessions = build(engine, db_url, folder)
    run_harvest(cfg, sessions, cfg.source("files"))
    # The file of a published record disappears; another stops being public.
    (folder / "embargoed.xml").unlink()
    (folder / "manifest.toml").write_text('[records.open]\ndisclosure = "private"\n', encoding="utf-8")
    run = run_harvest(cfg, sessions, cfg.source("files"))
    assert run.status == "succeeded" and run.records_deleted == 1
    with sessions() as s:
        recs = by_title(s)
        assert recs["猶予データ"].status == "deleted"
        assert recs["公開データ"].status == "withheld"
        # The shared record is now public, so it is published for the first time.
        assert recs["共有メタデータ"].status == "published"
        pubs = {p.record_id: p for p in s.scalars(select(Published))}
        assert pubs[recs["猶予データ"].id].deleted and pubs[recs["公開データ"].id].deleted
        assert not pubs[recs["共有メタデータ"].id].deleted
        # Deleted records have no metadata left to serve, but keep their sets for selective harvesters.
        for rid in (recs["猶予データ"].id, recs["公開データ"].id):
            pid = pubs[rid].id
            assert not s.scalars(select(PublishedFormat).where(PublishedFormat.published_id == pid)).all()
            assert s.scalars(select(PublishedSet).where(PublishedSet.published_id == pid)).all()
        old_id = pubs[recs["公開データ"].id].oai_identifier
    # Public again: the same identifier is published again, not a new one.
    (folder / "manifest.toml").write_text("", encoding="utf-8")
    run_harvest(cfg, sessions, cfg.source("files"))
    with sessions() as s:
        pub = s.scalar(select(Published).where(Published.oai_identifier == old_id))
        assert pub is not None and not pub.deleted


def test_remap_publishes_records_fixed_by_a_crosswalk(engine, db_url, tmp_path, monkeypatch):
    folder = setup_folder(tmp_path)
    cfg, sessions = build(engine, db_url, folder)
    run_harvest(cfg, sessions, cfg.source("files"))
    # A profile that turns the Annex-3 rules off stands in for a fixed crosswalk: remap re-decides every record.
    relaxed = make_config(db_url, [{"name": "files", "kind": "directory", "path": str(folder), "profile": "none"}])
    counts = remap(relaxed, sessions)
    assert counts.get("published") == 1
    with sessions() as s:
        assert by_title(s)["不完全データ"].status == "published"


def test_unreadable_file_is_quarantined_with_its_reason(engine, db_url, tmp_path):
    folder = setup_folder(tmp_path)
    (folder / "garbage.xml").write_bytes(b"<jpcoar:jpcoar xmlns:jpcoar='x'><unclosed>")
    (folder / "bomb.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>'
    )
    cfg, sessions = build(engine, db_url, folder)
    run = run_harvest(cfg, sessions, cfg.source("files"))
    assert run.status == "succeeded"
    assert run.records_failed == 2
    assert any("garbage" in e and "well-formed" in e for e in run.errors)
    assert any("bomb" in e and "DOCTYPE" in e for e in run.errors)
    with sessions() as s:
        bad = {r.source_identifier: r for r in s.scalars(select(Record).where(Record.status == "quarantined"))}
        assert "DOCTYPE" in bad["bomb"].findings[0]["message"]
        assert "well-formed" in bad["garbage"].findings[0]["message"]
        assert not s.scalars(select(Published).where(Published.record_id == bad["bomb"].id)).all()
