"""Matching a DMP's datasets to the records held for its project, on SQLite and PostgreSQL.

The fixture: a food-safety project whose DMP declares ten datasets, records harvested from two folder sources — one
per way of matching (data number, DOI, Handle, title), one record two datasets could claim, one deleted, one marked
as the duplicate of another, one of another project with a declared data number, and one the DMP does not declare.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from gateway.config import load
from gateway.db import session_factory
from gateway.dmp import matching, versions
from gateway.models import DmpDataset, Record
from tests.reports.test_counts_and_deadlines import CAA, JST, harvest_all, record, write_config, write_folder
from tests.support.dmp_files import write_dmp


def _handle(xml: str, name: str) -> str:
    return xml.replace(
        f'identifierType="DOI">https://doi.org/10.99999/{name}<',
        f'identifierType="HDL">https://hdl.handle.net/20.500.12345/{name}<',
    )


SOURCE_A = {
    "m1": (record("m1", CAA), "public"),
    "m2": (record("m2", CAA, access="restricted"), "public"),
    "m3": (_handle(record("m3", CAA), "m3"), "public"),
    "m4": (record("m4", CAA, access="metadata-only"), "public"),
    "m5": (record("m5", JST), "public"),  # another project's record with a data number the DMP declares
    "m7": (record("m7", CAA), "public"),  # not in the DMP
    "m9": (record("m9", CAA), "public"),  # deleted by the second import
    "a": (record("a", CAA).replace("データ a</dc:title>", "共通名</dc:title>"), "public"),
}
SOURCE_B = {
    "m6": (record("m6", CAA), "shared"),  # withheld, but held
    # m1's DOI: the same dataset from a second source, so the duplicate of m1 (gateway.dmp.gating)
    "m10": (record("m10", CAA).replace("10.99999/m10", "10.99999/m1"), "public"),
}
DATASETS = [
    {"number": "D-m1", "name": "データ m1", "metadata_disclosure": "公開",
     "registration_status": "2024年5月1日登録済み"},
    {"number": "D-X2", "name": "別名 2", "identifier": "https://doi.org/10.99999/M2"},  # no such number: the DOI
    {"name": "別名 3", "identifier": "http://hdl.handle.net/20.500.12345/m3"},
    {"name": "ﾃﾞｰﾀ　M4", "registration_status": "2024年6月1日登録予定"},  # the title, in another width and case
    {"number": "D-m5", "name": "別名 5", "registration_status": "2024年5月1日登録済み"},  # only JST holds D-m5
    {"number": "D-m6", "name": "データ m6", "registration_status": "未登録"},
    {"number": "D-a", "name": "共通名"},
    {"name": "「共通名」"},  # the same title (brackets aside) as D-a: D-a's number takes the record first
    {"number": "D-m9", "name": "データ m9"},
    {"number": "D-m10", "name": "データ m10"},
]
EXPECTED = [  # (data number or name, record, how)
    ("D-m1", "m1", "data number"),
    ("D-X2", "m2", "doi"),
    ("別名 3", "m3", "identifier"),
    ("ﾃﾞｰﾀ　M4", "m4", "title"),
    ("D-m5", None, None),
    ("D-m6", "m6", "data number"),
    ("D-a", "a", "data number"),
    ("「共通名」", None, None),
    ("D-m9", None, None),
    ("D-m10", None, None),
]


def harvest_project(engine, db_url, tmp_path):
    """The fixture harvested and the DMP imported: (config, engine, tmp_path)."""
    write_folder(tmp_path / "a", SOURCE_A)
    write_folder(tmp_path / "b", SOURCE_B)
    config = load(write_config(tmp_path), database_url=db_url)
    harvest_all(config, engine)
    (tmp_path / "a" / "m9.xml").unlink()
    harvest_all(config, engine)
    sessions = session_factory(engine)
    versions.import_file(sessions, write_dmp(tmp_path / "dmp.xlsx", CAA, DATASETS), now=datetime(2022, 4, 1, 9))
    mark_duplicate(engine)
    return config, engine, tmp_path


@pytest.fixture
def project(engine, db_url, tmp_path):
    return harvest_project(engine, db_url, tmp_path)


def mark_duplicate(engine) -> None:
    """m10 is m1's duplicate: the duplicate rule says so; set here too, so the match is tested on its own."""
    with session_factory(engine)() as s:
        ids = {r.source_identifier: r.id for r in s.scalars(select(Record))}
        s.execute(update(Record).where(Record.id == ids["m10"]).values(duplicate_of=ids["m1"]))
        s.commit()


def described(found: matching.Reconciliation) -> list[tuple]:
    return [
        (m.dataset.number or m.dataset.name, m.record.source_identifier if m.record else None, m.how)
        for m in found.matches
    ]


def test_each_dataset_matched_by_the_surest_key(project):
    _, engine, _ = project
    with session_factory(engine)() as s:
        found = matching.reconcile(s, CAA)
        assert found is not None and found.version.jgn == CAA and found.jgn == CAA
        assert described(found) == EXPECTED
        # Not declared: m7 only (m5 is another project's, m9 deleted, m10 a duplicate, a taken by D-a).
        assert [r.source_identifier for r in found.undeclared] == ["m7"]
        matched = [m.record.id for m in found.matches if m.record]
        assert len(matched) == len(set(matched))  # one record, one dataset


def test_record_for_one_dataset_agrees_with_the_project(project):
    _, engine, _ = project
    with session_factory(engine)() as s:
        datasets = {d.number or d.name: d for d in versions.current_datasets(s, CAA)}
        one = matching.record_for_dataset(s, datasets["D-X2"])
        assert (one.record.source_identifier, one.how) == ("m2", "doi")
        # the record both 共通名 datasets could claim belongs to the one with the data number
        assert matching.record_for_dataset(s, datasets["「共通名」"]).record is None
        assert matching.record_for_dataset(s, datasets["D-a"]).how == "data number"


def test_no_dmp_no_reconciliation_and_a_new_version_is_matched(project):
    _, engine, tmp_path = project
    sessions = session_factory(engine)
    with sessions() as s:
        assert matching.reconcile(s, JST) is None
        assert matching.projects_with_dmp(s) == [CAA]
    # Version 2 declares m7 and drops the rest: only the current version is matched.
    versions.import_file(sessions, write_dmp(tmp_path / "v2.xlsx", CAA, [{"number": "D-m7", "name": "m7"}]),
                         now=datetime(2023, 4, 1, 9))
    mark_duplicate(engine)
    with sessions() as s:
        found = matching.reconcile(s, CAA)
        assert found.version.version == 2
        assert described(found) == [("D-m7", "m7", "data number")]
        assert [r.source_identifier for r in found.undeclared] == ["a", "m1", "m2", "m3", "m4", "m6"]
        old = s.scalars(select(DmpDataset).where(DmpDataset.version_id != found.version.id,
                                                 DmpDataset.number == "D-m1")).one()
        assert matching.record_for_dataset(s, old).record.source_identifier == "m1"  # an old version's dataset


def test_match_records_without_a_database():
    """The matcher on records built in memory: each key tried over every dataset before the next."""
    view = {
        "jgn": [{"value": CAA}],
        "data_number": [{"value": "N-1"}],
        "title": [{"value": "Same title", "lang": "en"}],
        "repository_url": [{"value": "https://doi.org/10.12345/abc"}],
    }
    first = Record(id=1, local_id="s/1", annex3=view)
    second = Record(id=2, local_id="s/2", annex3={**view, "data_number": [{"value": "N-2"}],
                                                   "repository_url": []})
    by_title = DmpDataset(id=1, position=1, name="Same title", number=None, pids=[], items={})
    by_doi = DmpDataset(id=2, position=2, name="Other", number="N-9", pids=["doi:10.12345/abc"], items={})
    by_number = DmpDataset(id=3, position=3, name="Third", number="ｎ－２", pids=[], items={})
    matches, rest = matching.match_records([by_title, by_doi, by_number], [first, second], CAA)
    # The title dataset comes first in the DMP but gets no record: the DOI and number passes took both.
    assert [(m.record.id if m.record else None, m.how) for m in matches] == [(None, None), (1, "doi"),
                                                                           (2, "data number")]
    assert rest == []
    # A title does not join a dataset and a record whose data numbers differ; without a number, it does.
    numbered = DmpDataset(id=4, position=1, name="Same title", number="N-7", pids=[], items={})
    assert matching.match_records([numbered], [second], CAA)[0][0].record is None
    unnumbered = DmpDataset(id=5, position=1, name="Same title", number=None, pids=[], items={})
    assert matching.match_records([unnumbered], [second], CAA)[0][0].how == "title"
    # Under another grant number, the numbers and titles are not this project's: only the DOI still matches.
    matches, rest = matching.match_records([by_title, by_doi, by_number], [first, second], JST)
    assert [m.how for m in matches] == [None, "doi", None] and [r.id for r in rest] == [2]
