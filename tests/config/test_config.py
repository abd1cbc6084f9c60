from pathlib import Path

import pytest

from gateway.config import ConfigError, load
from tests.support.paths import ROOT

VALID = """
[repository]
name = "Test"
base_url = "http://127.0.0.1:8080/oai"
identifier = "gateway.test.ac.jp"
admin_email = ["rdm@test.ac.jp"]

[database]
url = "sqlite:///data/gw.db"

[[sources]]
name = "files"
kind = "directory"
path = "incoming"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_relative_paths_resolve_against_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_DATABASE_URL", raising=False)
    cfg = load(write(tmp_path, VALID))
    assert cfg.database_url == f"sqlite:///{(tmp_path / 'data' / 'gw.db').resolve()}"
    src = cfg.source("files")
    assert src.path == (tmp_path / "incoming").resolve()
    assert src.metadata_disclosure == "public"
    assert src.profile == "auto"


def test_database_url_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    assert load(write(tmp_path, VALID)).database_url == "postgresql://postgres@127.0.0.1/test"


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (('kind = "directory"', 'kind = "ftp"'), "sources.files.kind", "not one of"),
        (('identifier = "gateway.test.ac.jp"', 'identifier = "not a domain"'), "repository.identifier", "namespace"),
        (('admin_email = ["rdm@test.ac.jp"]', 'admin_email = ["nobody"]'), "repository.admin_email", "e-mail"),
        (('path = "incoming"', 'path = "incoming"\nschedule = "every day"'), "sources.files.schedule", "cron"),
        (('path = "incoming"', 'path = "incoming"\ncolour = "blue"'), "sources.files", "colour"),
        (('name = "files"', 'name = "bad name!"'), "sources[0].name", "letters"),
        (("[database]", "[databse]"), "databse", "unknown section"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, change, key, words):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.key == key
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_oai_source_needs_url(tmp_path):
    text = VALID + '\n[[sources]]\nname = "weko"\nkind = "oai-pmh"\n'
    with pytest.raises(ConfigError, match=r"sources\.weko\.url"):
        load(write(tmp_path, text))


def test_duplicate_source_names_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="more than once"):
        load(write(tmp_path, VALID + VALID[VALID.index("[[sources]]") :]))


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(write(tmp_path, "[repository\nname="))


def test_bundled_example_is_valid():
    cfg = load(ROOT / "config" / "example.toml")
    assert [s.name for s in cfg.sources] == ["repository", "dspace", "weko-theses"]
    for src in cfg.sources:
        assert src.path is not None and src.path.is_dir()
