"""The DMP as a second gate, on SQLite and PostgreSQL: a DMP dataset whose metadata is 非共有 or 共有 withholds the
record its source calls open (with a finding naming the project, the version and the dataset), in the import and in
every later harvest; a later version saying 公開 publishes it again; a DMP never publishes what its source withholds.
"""

from __future__ import annotations

from datetime import datetime

from gateway.db import session_factory
from gateway.dmp import gating, versions
from tests.dmp import gate_support as gs
from tests.reports.test_counts_and_deadlines import CAA, JST, record
from tests.support.dmp_files import write_dmp

FOLDER = {
    "g1": (record("g1", CAA), "public"),
    "g2": (record("g2", CAA), "public"),
    "g3": (record("g3", CAA), "private"),  # withheld by its source
    "g4": (record("g4", CAA, JST), "public"),  # matched by its title only
}


def _dmp(tmp_path, name: str, g1: str, *, g3: str = "公開", g4: str = "公開"):
    return write_dmp(tmp_path / name, CAA, [
        {"number": "D-g1", "name": "第1データ", "metadata_disclosure": g1},
        {"number": "D-g2", "name": "第2データ", "metadata_disclosure": "公開"},
        {"number": "D-g3", "name": "第3データ", "metadata_disclosure": g3},
        {"name": "データ g4", "metadata_disclosure": g4},
    ])  # fmt: skip


def _import(engine, path, when: datetime):
    return versions.import_file(session_factory(engine), path, now=when)


def test_a_dmp_saying_private_withholds_and_a_later_version_saying_public_republishes(engine, db_url, tmp_path):
    gs.write(tmp_path, "a", FOLDER)
    cfg = gs.config(db_url, tmp_path)
    gs.harvest(cfg, engine, "repo")
    assert gs.served(cfg, engine) == ({"repo/g1", "repo/g2", "repo/g4"}, set())

    _import(engine, _dmp(tmp_path, "v1.xlsx", "非共有", g3="公開", g4="共有"), datetime(2026, 1, 5, 9))
    stored = gs.records(engine)
    for local, label, disclosure, dataset in (("repo/g1", "非共有", "private", "1 '第1データ'"),
                                              ("repo/g4", "共有", "shared", "4 'データ g4'")):  # fmt: skip
        assert stored[local].status == "withheld"
        (found,) = [f for f in stored[local].findings if f["rule"] == gating.RULE]
        assert found["message"] == (
            f"withheld by the DMP: project {CAA}, DMP version 1, dataset {dataset} says its metadata is {label} "
            f"({disclosure}), not 公開 (public)"
        )
        assert stored[local].status_reason == found["message"]
    # the records that were published are deleted records now; the DMP's 公開 does not publish g3
    assert gs.served(cfg, engine) == ({"repo/g2"}, {"repo/g1", "repo/g4"})
    assert stored["repo/g3"].status == "withheld" and stored["repo/g3"].status_reason.startswith("metadata disclosure")
    assert not [f for f in stored["repo/g3"].findings if f["rule"] == gating.RULE]

    # a later harvest of a changed record keeps the gate (the harvest reads the DMP itself)
    changed = record("g1", CAA).replace("説明文です。", "説明文を改めました。")
    gs.write(tmp_path, "a", {**FOLDER, "g1": (changed, "public")})
    gs.harvest(cfg, engine, "repo")
    assert gs.records(engine)["repo/g1"].status == "withheld"
    assert gs.served(cfg, engine) == ({"repo/g2"}, {"repo/g1", "repo/g4"})

    # version 2 says 公開 for g1: published again, with the changed description; g4 stays shared
    _import(engine, _dmp(tmp_path, "v2.xlsx", "公開", g4="共有"), datetime(2026, 2, 5, 9))
    stored = gs.records(engine)
    assert stored["repo/g1"].status == "published"
    assert not [f for f in stored["repo/g1"].findings if f["rule"] == gating.RULE]
    assert gs.served(cfg, engine) == ({"repo/g1", "repo/g2"}, {"repo/g4"})
    body = gs.get_record(cfg, engine, "repo/g1")
    assert "説明文を改めました。" in [e.text for e in body.iter("{https://schema.datacite.org/meta/kernel-4/}description")]


def test_a_record_harvested_after_the_dmp_is_never_published_and_public_never_widens(engine, db_url, tmp_path):
    _import(engine, _dmp(tmp_path, "v1.xlsx", "共有", g3="公開"), datetime(2026, 1, 5, 9))
    gs.write(tmp_path, "a", FOLDER)
    cfg = gs.config(db_url, tmp_path)
    gs.harvest(cfg, engine, "repo")
    stored = gs.records(engine)
    assert stored["repo/g1"].status == "withheld"
    assert [f["value"] for f in stored["repo/g1"].findings if f["rule"] == gating.RULE] == ["shared"]
    assert stored["repo/g3"].status == "withheld"  # its source's private: the DMP's 公開 does not widen it
    # never published, so not even a deleted header
    assert gs.served(cfg, engine) == ({"repo/g2", "repo/g4"}, set())
    # regate of a project with nothing to change changes nothing
    with session_factory(engine)() as s:
        assert gating.regate(s, [CAA], now=datetime(2026, 1, 6)) == 0
