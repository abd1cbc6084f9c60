"""DMP imports kept as versions (gateway.dmp.versions), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from gateway import projects
from gateway.db import session_factory
from gateway.dmp import versions
from gateway.models import DmpDataset, DmpVersion
from tests.dmp.files import AMED, CAA, amed, amed_dataset, bessi2, dataset, projects_sheet, write

T1, T2, T3, T4 = (datetime(2024, 4, 1, 9), datetime(2024, 6, 1, 9), datetime(2024, 7, 1, 9), datetime(2024, 8, 1, 9))
V1 = [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2", metadata_disclosure="共有"),
      dataset("調査票", number="D-3")]
# version 2: D-3 removed, D-4 added, D-2's metadata disclosure and data access changed, the period extended
V2 = [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2", data_access="非公開"),
      dataset("新しいデータ", number="D-4")]


def import_rows(engine, tmp_path, rows, name, now, suffix=".csv"):
    return versions.import_file(session_factory(engine), write(tmp_path / f"{name}{suffix}", rows), now=now)


def history(engine, jgn):
    with session_factory(engine)() as session:
        return versions.history(session, jgn)


def current(engine, jgn=None):
    with session_factory(engine)() as session:
        return [(d.key, d.name, d.metadata_disclosure, d.access_right, d.sharing, d.first_version)
                for d in versions.current_datasets(session, jgn)]


def test_each_import_is_a_new_version_with_what_it_changed(engine, tmp_path):
    first = import_rows(engine, tmp_path, bessi2(V1, with_number=True), "v1", T1)
    assert (first.versions, first.imported, first.rows, first.held) == ([(CAA, 1)], 3, 3, [])
    assert first.projects[0].summary() == "first version"
    second = import_rows(engine, tmp_path, bessi2(V2, with_number=True, period="2023年4月1日～2027年3月31日"), "v2",
                         T2)
    assert second.versions == [(CAA, 2)]
    changes = second.projects[0].changes
    assert [r["key"] for r in changes["added"]] == ["d-4"] and [r["key"] for r in changes["removed"]] == ["d-3"]
    assert changes["changed"] == [{"key": "d-2", "number": "D-2", "name": "画像データ", "fields": {
        "metadata_disclosure": ["shared", "public"], "access_right": ["open", "metadata-only"]}}]
    assert changes["period"] == [["2023-04-01", "2026-03-31"], ["2023-04-01", "2027-03-31"]]
    assert second.projects[0].summary() == (
        "+1 dataset (D-4); -1 dataset (D-3); D-2: metadata shared → public, data access open access → metadata "
        "only access; period 2023-04-01–2026-03-31 → 2023-04-01–2027-03-31")
    assert second.projects[0].summary("ja").startswith(
        "追加 1件 (D-4); 削除 1件 (D-3); D-2: メタデータの公開区分 共有 → 公開")

    # the current version only, each dataset dated by the version its key first appeared in
    assert current(engine, CAA) == [("d-1", "測定データ", "public", "open", None, 1),
                                    ("d-2", "画像データ", "public", "metadata-only", None, 1),
                                    ("d-4", "新しいデータ", "public", "open", None, 2)]
    with session_factory(engine)() as session:
        assert versions.current(session, CAA).version == 2
        assert session.scalar(select(func.count()).select_from(DmpVersion).where(DmpVersion.current.is_(True))) == 1
        assert session.scalar(select(func.count()).select_from(DmpDataset)) == 6  # version 1 is kept whole
    # D-3 comes back in version 3: it first appeared in version 1
    import_rows(engine, tmp_path, bessi2(V1, with_number=True), "v3", T3)
    assert [(k, v) for k, *_, v in current(engine, CAA)] == [("d-1", 1), ("d-2", 1), ("d-3", 1)]

    rows = history(engine, CAA)
    assert [(h["version"], h["current"], h["file"], h["datasets"], h["imported_at"]) for h in rows] == [
        (1, False, "v1.csv", 3, "2024-04-01 09:00:00"), (2, False, "v2.csv", 3, "2024-06-01 09:00:00"),
        (3, True, "v3.csv", 3, "2024-07-01 09:00:00")]
    assert rows[0]["summary"] == "first version" and rows[0]["summary_ja"] == "初版"
    assert rows[2]["dmp_date"] == "2024-04-01" and rows[2]["end"] == "2026-03-31"


def test_an_identical_reimport_is_a_version_that_says_no_change(engine, tmp_path):
    import_rows(engine, tmp_path, bessi2(V1), "a", T1)
    again = import_rows(engine, tmp_path, bessi2(V1), "a", T2)
    assert again.versions == [(CAA, 2)] and again.projects[0].summary() == "no change"
    assert [h["summary_ja"] for h in history(engine, CAA)] == ["初版", "変更なし"]


def test_amed_sharing_changes_are_recorded(engine, tmp_path):
    one = [amed_dataset("ゲノム", "制限共有（外部関係者と共有）"), amed_dataset("画像", "非制限公開")]
    two = [amed_dataset("ゲノム", "非制限公開"), amed_dataset("画像", "非制限公開")]
    import_rows(engine, tmp_path, amed(one), "a1", T1, ".xlsx")
    result = import_rows(engine, tmp_path, amed(two), "a2", T2, ".xlsx")
    assert result.layout == "form"
    assert result.projects[0].changes["changed"][0]["fields"] == {
        "sharing": ["restricted_sharing_external", "unrestricted_open"], "access_right": ["restricted", "open"]}
    assert result.projects[0].summary("ja") == (
        "ゲノム: データシェアリング方法 制限共有（外部関係者と共有） → 非制限公開, データのアクセス権 共有 → 公開")
    assert [(k, s) for k, _, _, _, s, _ in current(engine, AMED)] == [("title:ゲノム", "unrestricted_open"),
                                                                     ("title:画像", "unrestricted_open")]
    with session_factory(engine)() as session:
        version = versions.current(session, AMED)
        assert version.private["pi_email"] == "yamada@x-u.ac.jp" and version.investigator["pi_name"] == "山田太郎"


def test_a_sheet_of_periods_keeps_the_datasets_and_updates_the_period(engine, tmp_path):
    import_rows(engine, tmp_path, bessi2(V1, with_number=True), "dmp", T1)
    result = import_rows(engine, tmp_path, projects_sheet([[CAA, "食品中の化学物質のリスク評価研究", "2023-04-01",
                                                            "2027-03-31"]]), "periods", T2)
    assert (result.layout, result.imported, result.versions, result.count("updated")) == ("projects", 0,
                                                                                          [(CAA, 2)], 1)
    assert result.projects[0].summary() == (
        "period 2023-04-01–2026-03-31 → 2023-04-01–2027-03-31; datasets kept from version 1")
    assert [k for k, *_ in current(engine, CAA)] == ["d-1", "d-2", "d-3"]
    with session_factory(engine)() as session:
        version = versions.current(session, CAA)
        assert (version.layout, version.declares_datasets, version.end_date) == ("projects", False, date(2027, 3, 31))
        assert version.investigator == {"pi_name": "山田太郎"} and version.dmp_date == date(2024, 4, 1)
        stored = {p["jgn"]: p for p in projects.stored(session)}
    assert (stored[CAA]["end"], stored[CAA]["file"], stored[CAA]["program"]) == ("2027-03-31", "periods.csv", None)


def test_a_dmp_updates_the_projects_period_and_keeps_what_it_does_not_give(engine, tmp_path):
    import_rows(engine, tmp_path, [["体系的番号", "研究課題名", "資金配分機関", "研究開始日", "研究終了日"],
                                   [CAA, "食品研究", "消費者庁", "2023-04-01", "2026-03-31"]], "periods", T1)
    result = import_rows(engine, tmp_path, bessi2(V1, period="2023-04-01～2025-03-31"), "dmp", T2)
    assert result.count("updated") == 1
    with session_factory(engine)() as session:
        (stored,) = projects.stored(session)
    assert (stored["end"], stored["funder"], stored["program"], stored["name_ja"], stored["origin"]) == (
        "2025-03-31", "消費者庁", "食品衛生基準科学研究費補助金", "食品中の化学物質のリスク評価研究", "dmp")
    assert current(engine)[0][0] == "title:測定データ"  # the periods sheet declared none; this DMP does


def test_held_rows_are_reported_and_the_rest_stored_and_an_unreadable_file_changes_nothing(engine, tmp_path):
    rows = bessi2([dataset("良い"), dataset("悪い", metadata_disclosure="たぶん"), dataset("次")])
    result = import_rows(engine, tmp_path, rows, "dmp", T1)
    assert (result.rows, result.imported, result.held_rows) == (2, 2, 1)
    assert result.held[0].row == 9 and result.held[0].value == "たぶん"
    assert [n for _, n, *_ in current(engine)] == ["良い", "次"]
    with pytest.raises(versions.DmpImportError, match="研究期間"):
        import_rows(engine, tmp_path, bessi2(V1, period="未定"), "bad", T2)
    assert [h["version"] for h in history(engine, CAA)] == [1]
    with session_factory(engine)() as session:
        assert projects.stored(session)[0]["file"] == "dmp.csv"


def test_current_datasets_of_every_project(engine, tmp_path):
    import_rows(engine, tmp_path, bessi2(V1[:1], with_number=True), "caa", T1)
    import_rows(engine, tmp_path, amed([amed_dataset("ゲノム", "制限公開")]), "amed", T1)
    assert [(k, n) for k, n, *_ in current(engine)] == [("title:ゲノム", "ゲノム"), ("d-1", "測定データ")]
    with session_factory(engine)() as session:
        assert [p["jgn"] for p in versions.projects(session)] == [AMED, CAA]
        assert versions.current(session, "JP99X99999") is None and versions.history(session, "JP99X99999") == []


def test_the_gate_is_run_inside_the_import_transaction(engine, tmp_path, monkeypatch):
    calls = []

    def regate(session, jgns, *, now, repository_identifier=None):
        version = session.scalar(select(DmpVersion).where(DmpVersion.current.is_(True)))
        calls.append((list(jgns), now, version.version, len(versions.current_datasets(session, jgns[0])),
                      repository_identifier))
        return 0

    monkeypatch.setattr(versions.gating, "regate", regate)
    import_rows(engine, tmp_path, bessi2(V1), "dmp", T1)
    assert calls == [([CAA], T1, 1, 3, None)]

    def failing(session, jgns, *, now, repository_identifier=None):
        raise RuntimeError("the gate failed")

    monkeypatch.setattr(versions.gating, "regate", failing)
    with pytest.raises(RuntimeError):
        import_rows(engine, tmp_path, bessi2(V2), "dmp2", T2)
    assert [h["version"] for h in history(engine, CAA)] == [1]  # rolled back with the gate


def test_a_held_row_keeps_the_dataset_of_the_version_before(engine, tmp_path):
    import_rows(engine, tmp_path, bessi2(V1, with_number=True), "v1", T1)
    broken = [V1[0], {**V1[1], "metadata_disclosure": "たぶん"}, V1[2]]  # D-2's row is held in version 2
    result = import_rows(engine, tmp_path, bessi2(broken, with_number=True), "v2", T2)
    assert result.held_rows == 1 and result.versions == [(CAA, 2)]
    assert result.projects[0].changes["removed"] == []
    assert result.projects[0].summary() == "D-2 kept from version 1 (its row is held)"
    assert [(k, m) for k, _, m, *_ in current(engine, CAA)] == [("d-1", "public"), ("d-3", "public"),
                                                                ("d-2", "shared")]
    # a new dataset whose row is held is simply not there yet
    new = [*V1, dataset("新", number="D-9", data_access="そのうち")]
    again = import_rows(engine, tmp_path, bessi2(new, with_number=True), "v3", T3)
    assert again.projects[0].summary() == "no change" and len(current(engine, CAA)) == 3
