"""Sources kept in the database: validation by the configuration's rules, import without overwriting dashboard edits,
the merged view the harvests use, and a TOML export that the configuration parser reads back."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gateway import config as gwconfig
from gateway.admin import sourcestore
from gateway.admin.sourcestore import SourceError
from gateway.db import session_factory, transaction
from tests.conftest import make_config

WEKO = {"name": "weko", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai", "schedule": "0 3 * * *"}


def _config(db_url: str, sources: list[dict]) -> gwconfig.Config:
    return make_config(db_url, sources=sources)


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def test_import_adds_then_follows_the_file_until_edited_in_the_dashboard(db_url, sessions, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    first = _config(db_url, [WEKO, {"name": "files", "kind": "directory", "path": str(folder)}])
    with transaction(sessions) as s:
        outcome = sourcestore.import_config_sources(s, first)
    assert outcome["added"] == ["weko", "files"]
    with sessions() as s:
        assert [x["name"] for x in sourcestore.list_sources(s)] == ["weko", "files"]
        assert sourcestore.get_source(s, "weko")["origin"] == "config"
        assert sourcestore.get_source(s, "files")["path"] == str(folder.resolve())

    # The file changes a source nobody edited: the database follows.
    changed = _config(db_url, [{**WEKO, "metadata_prefix": "oai_dc"}, {"name": "files", "kind": "directory",
                                                                       "path": str(folder)}])
    with transaction(sessions) as s:
        assert sourcestore.import_config_sources(s, changed)["updated"] == ["weko"]
    with sessions() as s:
        assert sourcestore.get_source(s, "weko")["metadata_prefix"] == "oai_dc"

    # A manager edits it in the dashboard; the next start must not undo that.
    with transaction(sessions) as s:
        sourcestore.save_source(s, {**WEKO, "url": "http://127.0.0.1:10/oai", "sets": ["a"]}, name="weko")
    with transaction(sessions) as s:
        outcome = sourcestore.import_config_sources(s, changed)
    assert "weko" in outcome["kept"] and "weko" not in outcome["updated"]
    with sessions() as s:
        weko = sourcestore.get_source(s, "weko")
        assert weko["url"] == "http://127.0.0.1:10/oai" and weko["sets"] == ["a"]
        assert weko["metadata_prefix"] == "jpcoar_2.0" and weko["edited_in_dashboard"] is True
        # ...and the merged view the harvests use agrees.
        effective = sourcestore.effective_config(changed, s)
        assert effective.source("weko").url == "http://127.0.0.1:10/oai"
        assert effective.source("weko").sets == ("a",)


def test_disable_and_delete_in_the_dashboard_survive_a_restart(db_url, sessions):
    cfg = _config(db_url, [WEKO, {**WEKO, "name": "other"}])
    with transaction(sessions) as s:
        sourcestore.import_config_sources(s, cfg)
        sourcestore.set_enabled(s, "weko", False)
        sourcestore.delete_source(s, "other")
    with transaction(sessions) as s:
        sourcestore.import_config_sources(s, cfg)
    with sessions() as s:
        assert sourcestore.get_source(s, "weko")["enabled"] is False
        assert sourcestore.get_source(s, "other") is None
        effective = sourcestore.effective_config(cfg, s)
    assert [x.name for x in effective.sources] == ["weko"]
    assert effective.source("weko").enabled is False
    # Saving the name again brings it back, as a dashboard definition.
    with transaction(sessions) as s:
        revived = sourcestore.save_source(s, {**WEKO, "name": "other", "url": "http://127.0.0.1:11/oai"})
    assert revived["url"] == "http://127.0.0.1:11/oai" and revived["enabled"] is True


def test_a_source_dropped_from_the_file_goes_unless_edited(db_url, sessions):
    with transaction(sessions) as s:
        sourcestore.import_config_sources(s, _config(db_url, [WEKO, {**WEKO, "name": "kept"}]))
        sourcestore.set_enabled(s, "kept", True)  # touched in the dashboard
        sourcestore.save_source(s, {**WEKO, "name": "mine"})
    empty = _config(db_url, [])
    with transaction(sessions) as s:
        outcome = sourcestore.import_config_sources(s, empty)
    assert outcome["removed"] == ["weko"]
    with sessions() as s:
        assert [x["name"] for x in sourcestore.list_sources(s)] == ["kept", "mine"]
        assert [x.name for x in sourcestore.effective_config(empty, s).sources] == ["kept", "mine"]


def test_effective_config_without_an_import_is_what_an_import_would_store(db_url, sessions):
    cfg = _config(db_url, [WEKO])
    with sessions() as s:
        assert sourcestore.effective_config(cfg, s).sources == cfg.sources  # nothing stored yet
    with transaction(sessions) as s:
        sourcestore.save_source(s, {"name": "dash", "kind": "oai-pmh", "url": "https://example.org/oai"})
    with sessions() as s:
        names = [x.name for x in sourcestore.effective_config(cfg, s).sources]
    assert names == ["weko", "dash"]  # the file's source is not lost because the dashboard stored another


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "bad name!", "kind": "oai-pmh", "url": "http://x/oai"}, "name"),
        ({"name": "a", "kind": "ftp", "url": "http://x/oai"}, "kind"),
        ({"name": "a", "kind": "oai-pmh"}, "url"),
        ({"name": "a", "kind": "oai-pmh", "url": "ftp://x"}, "url"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "metadata_prefix": "mods"}, "metadata_prefix"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "schedule": "every day"}, "schedule"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "sets": [1, 2]}, "sets"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "timeout": 0}, "timeout"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "timeout": float("inf")}, "timeout"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "max_retries": 1000}, "max_retries"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "enabled": "yes"}, "enabled"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/\x00oai"}, "url"),
        ({"name": "a", "kind": "oai-pmh", "url": "http://x/oai", "colour": "red"}, "colour"),
        ({"name": "a", "kind": "directory"}, "path"),
        ({"name": "a", "kind": "directory", "path": "relative/folder"}, "path"),
        ({"name": "a", "kind": "directory", "path": "/srv/x", "min_delay": 1}, "min_delay"),
    ],
)
def test_save_source_rejects_bad_input_naming_the_field(db_url, sessions, data, field):
    with sessions() as s:
        with pytest.raises(SourceError) as info:
            sourcestore.save_source(s, data)
        assert info.value.field == field, info.value
        s.rollback()
        assert sourcestore.list_sources(s) == []


def test_the_name_is_unique_and_cannot_change(db_url, sessions):
    with transaction(sessions) as s:
        sourcestore.save_source(s, WEKO)
    with sessions() as s:
        with pytest.raises(SourceError) as info:
            sourcestore.save_source(s, WEKO)
        assert info.value.field == "name" and "exists" in info.value.message
        with pytest.raises(SourceError) as info:
            sourcestore.save_source(s, {**WEKO, "name": "renamed"}, name="weko")
        assert info.value.field == "name"
        with pytest.raises(SourceError):
            sourcestore.save_source(s, WEKO, name="missing")
        with pytest.raises(SourceError):
            sourcestore.delete_source(s, "missing")


def test_export_round_trips_through_the_configuration_parser(db_url, sessions, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    definitions = [
        {**WEKO, "sets": ["openaire", "日本語:セット"], "min_delay": 0.5, "max_retries": 2,
         "repository_name": 'Repo "quoted" \\ back\tslash', "metadata_disclosure": "shared", "profile": "annex3"},
        {"name": "files", "kind": "directory", "path": str(folder), "metadata_prefix": "oai_dc", "enabled": False},
    ]
    with transaction(sessions) as s:
        for d in definitions:
            sourcestore.save_source(s, d)
    with sessions() as s:
        text = sourcestore.export_toml(s)
        effective = sourcestore.effective_config(_config(db_url, []), s)
    parsed = gwconfig.from_dict(tomllib.loads(text), path=None)
    assert parsed.sources == effective.sources
    assert parsed.source("files").enabled is False
    assert parsed.source("weko").repository_name == 'Repo "quoted" \\ back\tslash'
    # Written to a file and loaded as a whole configuration, it still reads the same.
    cfg_file = tmp_path / "exported.toml"
    cfg_file.write_text(text, encoding="utf-8")
    assert gwconfig.load(cfg_file).sources == effective.sources


def test_import_from_two_processes_at_once_leaves_one_row_each(db_url, engine):
    import threading

    cfg = _config(db_url, [WEKO, {**WEKO, "name": "b"}, {**WEKO, "name": "c"}])
    errors: list[BaseException] = []

    def start() -> None:
        try:
            sourcestore.import_on_start(session_factory(engine), cfg)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with session_factory(engine)() as s:
        assert [x["name"] for x in sourcestore.list_sources(s)] == ["weko", "b", "c"]


def test_relative_directory_paths_of_the_file_are_stored_resolved(db_url, sessions, tmp_path):
    cfg_path = tmp_path / "conf" / "gateway.toml"
    cfg_path.parent.mkdir()
    cfg_path.write_text(
        f'[database]\nurl = "{db_url}"\n[[sources]]\nname = "files"\nkind = "directory"\npath = "data/in"\n',
        encoding="utf-8",
    )
    cfg = gwconfig.load(cfg_path)
    with transaction(sessions) as s:
        sourcestore.import_config_sources(s, cfg)
    with sessions() as s:
        stored = sourcestore.get_source(s, "files")["path"]
    assert Path(stored) == (tmp_path / "conf" / "data" / "in").resolve()


def test_the_scheduler_follows_sources_added_changed_and_removed_in_the_dashboard(db_url, sessions):
    from apscheduler.schedulers.background import BackgroundScheduler

    from gateway.scheduler import _sync_jobs

    cfg = _config(db_url, [WEKO])
    scheduler = BackgroundScheduler(timezone="UTC")  # never started: its jobs are only kept, never run

    def jobs() -> dict[str, str]:
        return {j.id: j.args[2].schedule for j in scheduler.get_jobs() if j.id.startswith("harvest:")}

    _sync_jobs(scheduler, cfg, sessions)
    assert jobs() == {"harvest:weko": "0 3 * * *"}
    with transaction(sessions) as s:
        sourcestore.import_config_sources(s, cfg)
        sourcestore.save_source(s, {**WEKO, "schedule": "0 4 * * *"}, name="weko")
        dash = {"name": "dash", "kind": "oai-pmh", "url": "http://x/oai", "schedule": "*/5 * * * *"}
        sourcestore.save_source(s, dash)
    _sync_jobs(scheduler, cfg, sessions)
    assert jobs() == {"harvest:weko": "0 4 * * *", "harvest:dash": "*/5 * * * *"}
    with transaction(sessions) as s:
        sourcestore.set_enabled(s, "dash", False)
        sourcestore.delete_source(s, "weko")
    _sync_jobs(scheduler, cfg, sessions)
    assert jobs() == {}
