"""Results publications recorded against a project's DMP (gateway.dmp.publications and `gateway dmp publication`),
on SQLite and PostgreSQL: a dataset named by its data number or its position, the whole project, listing, removal,
and the refusals (no DMP, an unknown dataset or kind)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.db import session_factory, transaction
from gateway.dmp import publications as pubs
from gateway.dmp.versions import import_file
from gateway.models import DmpPublication
from tests.support.amed_dmp import JGN, PAPER, write_config, write_dmp


@pytest.fixture
def imported(engine, tmp_path: Path):
    sessions = session_factory(engine)
    import_file(sessions, write_dmp(tmp_path / "dmp.csv"), now=datetime(2024, 4, 2))
    return sessions


def test_a_publication_names_its_dataset_by_data_number_or_position(imported):
    with transaction(imported) as s:
        by_number = pubs.record(s, JGN, published_on=date(2025, 5, 31), kind="paper", dataset="ｄ－１", recorded_by="u")
        by_position = pubs.record(s, JGN, published_on=date(2025, 7, 1), kind="patent", dataset="2")
        whole = pubs.record(s, JGN, published_on=date(2025, 9, 1), kind="paper", note="Nature 1, 2")
    assert (by_number["dataset_key"], by_number["dataset_position"], by_number["data_number"]) == ("d-1", 1, "D-1")
    assert (by_position["dataset_key"], by_position["dataset_position"]) == ("d-2", 2)
    assert whole["dataset_key"] is None and whole["dataset_in_dmp"] is None
    with imported() as s:
        listed = pubs.publications(s, JGN)
    assert [(p["date"], p["kind"], p["dataset_key"], p["recorded_by"]) for p in listed] == [
        ("2025-05-31", "paper", "d-1", "u"),
        ("2025-07-01", "patent", "d-2", None),
        ("2025-09-01", "paper", None, None),
    ]
    assert listed[0]["kind_ja"] == "論文採択" and listed[1]["kind_en"] == "patent application published"
    assert listed[2]["note"] == "Nature 1, 2"


def test_a_data_number_wins_over_a_position(engine, tmp_path: Path):
    rows = (
        "2,数字番号のデータ,説明,1,<1GB,制限共有,,,機関,管理者,,",
        "1,一番目のデータ,説明,1,<1GB,非公開,,,機関,管理者,,",
    )
    sessions = session_factory(engine)
    import_file(sessions, write_dmp(tmp_path / "dmp.csv", rows=rows))
    with transaction(sessions) as s:
        # "2" is the data number of the first dataset, not the second dataset's position
        assert pubs.record(s, JGN, published_on=date(2025, 1, 1), kind="paper", dataset="2")["dataset_position"] == 1
        assert pubs.record(s, JGN, published_on=date(2025, 1, 1), kind="paper", dataset="1")["dataset_position"] == 2


def test_the_earliest_publication_counts_for_the_dataset_or_the_whole_project():
    own = DmpPublication(id=1, jgn=JGN, dataset_key="d-1", kind="paper", published_on=date(2025, 5, 31))
    other = DmpPublication(id=2, jgn=JGN, dataset_key="d-2", kind="paper", published_on=date(2024, 6, 1))
    project = DmpPublication(id=3, jgn=JGN, dataset_key=None, kind="patent", published_on=date(2025, 8, 1))
    assert pubs.earliest([own, other, project], "d-1") is own
    assert pubs.earliest([own, project], "d-3") is project
    assert pubs.earliest([other], "d-1") is None


@pytest.mark.parametrize(
    ("jgn", "kind", "dataset", "field", "words"),
    [
        ("JP99zz9999999", "paper", None, "project", "no DMP is imported"),
        (JGN, "poster", None, "kind", "paper, patent"),
        (JGN, "paper", "D-9", "dataset", "has no dataset 'D-9'"),
        (JGN, "paper", "5", "dataset", "4: D-4 非公開データ"),
    ],
)
def test_what_cannot_be_recorded_is_refused(imported, jgn, kind, dataset, field, words):
    with imported() as s, pytest.raises(pubs.PublicationError) as caught:
        pubs.record(s, jgn, published_on=date(2025, 1, 1), kind=kind, dataset=dataset)
    assert caught.value.field == field and words in caught.value.message
    with imported() as s:
        assert pubs.stored(s) == []


def test_the_commands_record_list_and_remove(imported, db_url, tmp_path: Path):
    config = str(write_config(tmp_path))

    def gateway(*args: str, check: bool = True):
        done = CliRunner().invoke(cli, ["--config", config, "--database-url", db_url, "dmp", *args])
        assert (done.exit_code == 0) is check, done.output
        return done.output

    done = gateway("publication", JGN, "--date", PAPER, "--kind", "paper", "--dataset", "D-1")
    assert "paper accepted on 2025-05-31" in done and "dataset 1 (D-1)" in done
    assert "project" in gateway("publication", JGN, "--date", "2025-08-01", "--kind", "patent", "--note", "特許")
    rows = json.loads(gateway("publications", JGN, "--format", "json"))
    assert [(r["kind"], r["data_number"], r["date"], r["note"]) for r in rows] == [
        ("paper", "D-1", "2025-05-31", None),
        ("patent", None, "2025-08-01", "特許"),
    ]
    table = gateway("publications", JGN)
    assert "論文採択 paper accepted" in table and "（課題全体）" in table and "臨床データ" in table
    refused = gateway("publication", JGN, "--date", PAPER, "--kind", "paper", "--dataset", "D-9", check=False)
    assert "has no dataset 'D-9'" in refused
    assert "removed publication" in gateway("unpublish", JGN, str(rows[1]["id"]))
    assert [r["kind"] for r in json.loads(gateway("publications", JGN, "--format", "json"))] == ["paper"]
    assert "no recorded publication" in gateway("unpublish", JGN, str(rows[1]["id"]), check=False)
