"""The DMP API (`GET /api/dmp`, `GET /api/dmp/{project}/history`, `POST /api/dmp/import`) on SQLite and
PostgreSQL: the same answers as `gateway dmp list|history|import`, uploads held to the manager role and a size."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from gateway.admin import auth, openapi
from gateway.admin.openapi.limits import MAX_UPLOAD_BYTES
from gateway.app import create_app
from gateway.cli import cli
from gateway.db import session_factory, transaction
from gateway.dmp import versions
from tests.conftest import make_config
from tests.dmp.files import AMED, CAA, amed, amed_dataset, bessi2, dataset, write

PASSWORD = "correct horse battery"
V1 = [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2", metadata_disclosure="共有")]
V2 = [dataset("測定データ", number="D-1"), dataset("画像データ", number="D-2"), dataset("新データ", number="D-3")]


@pytest.fixture
def api(engine, db_url):
    app = create_app(make_config(db_url), engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "mana", PASSWORD, "manager")
        auth.create_user(s, "view", PASSWORD, "viewer")
        tokens = {"manager": auth.create_token(s, "m", "mana"), "viewer": auth.create_token(s, "v", "view")}
    client = app.test_client()

    def call(method, path, *, role="manager", **kwargs):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[role]}"}, **kwargs)

    return call


def upload(call, *files, role="manager"):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return call("POST", "/api/dmp/import", role=role, data=data, content_type="multipart/form-data")


def content(tmp_path, name, rows):
    return name, write(tmp_path / name, rows).read_bytes()


def test_upload_list_and_history_give_what_the_cli_gives(api, tmp_path, db_url):
    first = upload(api, content(tmp_path, "v1.xlsx", bessi2(V1, with_number=True)))
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert (body["rows"], body["held_rows"]) == (2, 0)
    (one,) = body["files"]
    assert (one["file"], one["layout"], one["imported"]) == ("v1.xlsx", "table", 2)
    assert [(p["jgn"], p["version"], p["datasets"], p["summary"]) for p in one["projects"]] == [
        (CAA, 1, 2, "first version")]
    second = upload(api, content(tmp_path, "v2.csv", bessi2(V2, with_number=True)),
                    content(tmp_path, "amed.csv", amed([amed_dataset("ゲノム", "制限公開")])))
    assert second.status_code == 200, second.get_json()
    assert [f["projects"][0]["summary"] for f in second.get_json()["files"]] == [
        "+1 dataset (D-3); D-2: metadata shared → public", "first version"]

    listed = api("GET", "/api/dmp", role="viewer")
    assert listed.status_code == 200
    projects = listed.get_json()["projects"]
    assert [(p["jgn"], p["version"], p["datasets"], p["end"]) for p in projects] == [
        (AMED, 1, 1, "2024-03-31"), (CAA, 2, 3, "2026-03-31")]
    history = api("GET", f"/api/dmp/{CAA}/history", role="viewer")
    assert history.status_code == 200
    versions = history.get_json()["versions"]
    assert [(v["version"], v["current"], v["file"], v["datasets"]) for v in versions] == [
        (1, False, "v1.xlsx", 2), (2, True, "v2.csv", 3)]
    assert versions[1]["changes"]["added"] == [{"key": "d-3", "number": "D-3", "name": "新データ"}]

    # the command line reads the same
    config = tmp_path / "gateway.toml"
    config.write_text('[repository]\nname = "T"\nidentifier = "gateway.test.ac.jp"\nadmin_email = ["a@b.jp"]\n',
                      encoding="utf-8")
    base = ["--config", str(config), "--database-url", db_url, "dmp"]
    assert json.loads(CliRunner().invoke(cli, [*base, "list", "--format", "json"]).output) == projects
    assert json.loads(CliRunner().invoke(cli, [*base, "history", CAA, "--format", "json"]).output) == versions
    # nothing the DMP keeps private is in any answer
    for answer in (first, second, listed, history):
        assert "yamada@x-u.ac.jp" not in answer.get_data(as_text=True)


def test_held_rows_are_in_the_answer(api, tmp_path):
    rows = bessi2([dataset("良い"), dataset("悪い", metadata_disclosure="たぶん"), dataset("次")])
    answer = upload(api, content(tmp_path, "held.csv", rows))
    assert answer.status_code == 200
    (held,) = answer.get_json()["files"][0]["held"]
    assert (held["file"], held["row"], held["column"], held["value"]) == (
        "held.csv", 9, "メタデータ の公開/共有/ 非共有³", "たぶん")
    assert "公開, 共有 or 非共有" in held["expected"] and held["text"].startswith("held.csv: row 9")
    assert (answer.get_json()["rows"], answer.get_json()["held_rows"]) == (2, 1)


def test_a_file_that_cannot_be_read_refuses_the_whole_upload(api, tmp_path):
    answer = upload(api, content(tmp_path, "good.csv", bessi2(V1)), content(tmp_path, "bad.csv", bessi2(
        V1, period="いつか")))
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "file" and answer.get_json()["error"].startswith("bad.csv: row 4")
    assert api("GET", "/api/dmp").get_json() == {"projects": []}  # the good file was not stored either
    for files, expected in [
        ([("notes.txt", b"x")], "not a .xlsx or .csv"),
        ([("../../etc/dmp.xlsx", b"PK\x03\x04 broken")], "dmp.xlsx: not a usable .xlsx"),
        ([], "multipart/form-data"),
    ]:
        refused = upload(api, *files)
        assert refused.status_code == 400 and expected in refused.get_json()["error"], refused.get_json()
        assert "/etc" not in refused.get_json()["error"]
    assert api("POST", "/api/dmp/import", json={"file": "x"}).status_code == 400
    assert api("GET", "/api/dmp/JP99X99999/history").status_code == 404


def test_uploads_need_the_manager_role_and_a_size_limit(api, tmp_path):
    assert upload(api, content(tmp_path, "v1.csv", bessi2(V1)), role="viewer").status_code == 403
    big = upload(api, ("big.csv", b"a," * (MAX_UPLOAD_BYTES // 2 + 10)))
    assert big.status_code == 413 and big.get_json()["error"]
    # larger than a JSON body may be, well within the upload limit: read
    padded = bessi2([dataset(f"データ{i}", description="説明" * 100) for i in range(2000)])
    name, data = content(tmp_path, "padded.csv", padded)
    assert len(data) > 1024 * 1024
    assert upload(api, (name, data)).status_code == 200


def test_the_operations_are_described():
    paths = openapi.spec()["paths"]
    assert set(paths["/api/dmp/import"]["post"]["responses"]) >= {"200", "400", "401", "403", "413", "500"}
    assert "multipart/form-data" in paths["/api/dmp/import"]["post"]["requestBody"]["content"]
    assert set(paths["/api/dmp/{project}/history"]["get"]["responses"]) >= {"200", "404"}
    assert paths["/api/dmp"]["get"]["operationId"] == "listDmps"


# --- the dashboard's DMP pages ---------------------------------------------------------------------------------------


@pytest.fixture
def browser(engine, db_url):
    from tests.admin.logins import login

    app = create_app(make_config(db_url), engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "mana", PASSWORD, "manager")
    client = app.test_client()
    assert login(client).status_code in (302, 303)
    return client


def test_the_dmp_pages_list_projects_and_their_history(browser, engine, tmp_path):
    empty = browser.get("/admin/dmp?lang=en").get_data(as_text=True)
    assert "No DMP imported yet" in empty and 'href="/admin/dmp"' in empty  # the navigation links the page
    sessions = session_factory(engine)
    versions.import_file(sessions, write(tmp_path / "v1.csv", bessi2(V1, with_number=True)))
    versions.import_file(sessions, write(tmp_path / "v2.csv", bessi2(V2, with_number=True)))
    rows = amed([amed_dataset("ゲノム", "制限共有（外部関係者と共有）")])
    versions.import_file(sessions, write(tmp_path / "amed.xlsx", rows))
    page = browser.get("/admin/dmp?lang=ja")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<tr data-jgn="{CAA}">' in html and f'href="/admin/dmp/{CAA}"' in html
    assert "食品中の化学物質のリスク評価研究" in html and "2023-04-01 – 2026-03-31" in html and "現行版" in html
    history = browser.get(f"/admin/dmp/{CAA}?lang=en").get_data(as_text=True)
    assert history.index('data-version="2"') < history.index('data-version="1"')  # newest first
    assert "+1 dataset (D-3); D-2: metadata shared → public" in history and "first version" in history
    assert "新データ" in history and "Datasets of the current version" in history
    ja = browser.get(f"/admin/dmp/{AMED}?lang=ja").get_data(as_text=True)
    assert "初版" in ja and "制限共有（外部関係者と共有）" in ja and "AMED様式" in ja
    assert "yamada@x-u.ac.jp" not in ja and "03-0000-0000" not in ja  # what the DMP keeps private
    assert browser.get("/admin/dmp/JP99X99999").status_code == 404
    assert browser.application.test_client().get("/admin/dmp").status_code in (302, 303, 401)  # not logged in
