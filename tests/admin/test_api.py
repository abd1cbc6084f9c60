"""The management API end to end: sources CRUD with field-named errors, TOML export, a connection test and a harvest
of a real local OAI-PMH repository, then runs, records, quarantine and reports read back as JSON."""

from __future__ import annotations

import time
import tomllib

import pytest

from gateway import config as gwconfig
from gateway.admin import auth
from gateway.app import create_app
from gateway.db import session_factory, transaction
from tests.conftest import make_config
from tests.support.oaiserver import FixtureRecord, FixtureRepository
from tests.support.records import dataset
from tests.support.servers import serve_wsgi

PASSWORD = "correct horse battery"


@pytest.fixture
def repo_url():
    records = [
        FixtureRecord(
            identifier=f"oai:repo.example.ac.jp:{i:05d}",
            datestamp=f"2026-10-{i + 1:02d}T10:00:00Z",
            metadata=dataset(f"データ {i}", title_en=f"Data {i}", data_no=f"D-{i}", doi=f"10.99999/api.{i}"),
        )
        for i in range(4)
    ]
    # One record without its description: quarantined by the Annex-3 rules.
    records.append(
        FixtureRecord(
            identifier="oai:repo.example.ac.jp:broken",
            datestamp="2026-10-20T10:00:00Z",
            metadata=dataset("壊れた", title_en="Broken", data_no="D-x", doi="10.99999/api.x", omit=("description",)),
        )
    )
    with serve_wsgi(FixtureRepository(records, page_size=2)) as url:
        yield url + "/oai"


@pytest.fixture
def api(engine, db_url):
    app = create_app(make_config(db_url), engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "mana", PASSWORD, "manager")
        auth.create_user(s, "view", PASSWORD, "viewer")
        manager = auth.create_token(s, "manager-token", "mana")
        viewer = auth.create_token(s, "viewer-token", "view")
    client = app.test_client()

    class Api:
        def __init__(self) -> None:
            self.app = app

        def call(self, method: str, path: str, *, token: str = manager, **kwargs):
            return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)

        def viewer(self, method: str, path: str, **kwargs):
            return self.call(method, path, token=viewer, **kwargs)

    return Api()


def test_sources_crud_with_field_named_errors(api):
    body = {"name": "weko", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai", "sets": ["a", "b"]}
    created = api.call("POST", "/api/sources", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/api/sources/weko"
    assert created.get_json()["origin"] == "dashboard" and created.get_json()["sets"] == ["a", "b"]
    assert api.call("POST", "/api/sources", json=body).status_code == 409

    bad = api.call("POST", "/api/sources", json={**body, "name": "other", "metadata_prefix": "mods"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "metadata_prefix"
    assert "mods" in bad.get_json()["error"]
    no_url = api.call("POST", "/api/sources", json={"name": "x", "kind": "oai-pmh"})
    assert no_url.status_code == 400 and no_url.get_json()["field"] == "url"
    not_json = api.call("POST", "/api/sources", data="name=x", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 400 and "JSON object" in not_json.get_json()["error"]

    listed = api.viewer("GET", "/api/sources").get_json()["sources"]
    assert [s["name"] for s in listed] == ["weko"]

    updated = api.call("PUT", "/api/sources/weko", json={"kind": "oai-pmh", "url": "https://example.org/oai"})
    assert updated.status_code == 200 and updated.get_json()["url"] == "https://example.org/oai"
    assert updated.get_json()["sets"] == []  # PUT replaces the settings
    renamed = api.call("PUT", "/api/sources/weko", json={"name": "new", "kind": "oai-pmh", "url": "http://x/oai"})
    assert renamed.status_code == 400 and renamed.get_json()["field"] == "name"
    bad_cron = api.call("PUT", "/api/sources/weko", json={"kind": "oai-pmh", "url": "http://x/oai", "schedule": "x"})
    assert bad_cron.status_code == 400 and bad_cron.get_json()["field"] == "schedule"
    assert api.call("PUT", "/api/sources/missing", json=body).status_code == 404

    assert api.viewer("DELETE", "/api/sources/weko").status_code == 403
    assert api.call("DELETE", "/api/sources/weko").status_code == 204
    assert api.call("GET", "/api/sources/weko").status_code == 404
    assert api.call("DELETE", "/api/sources/weko").status_code == 404


def test_toml_export_reads_back_as_configuration(api):
    api.call("POST", "/api/sources", json={"name": "a", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai",
                                           "schedule": "15 2 * * *", "enabled": False})
    response = api.viewer("GET", "/api/sources.toml")
    assert response.status_code == 200 and response.mimetype == "application/toml"
    parsed = gwconfig.from_dict(tomllib.loads(response.get_data(as_text=True)))
    assert [(s.name, s.schedule, s.enabled) for s in parsed.sources] == [("a", "15 2 * * *", False)]


def test_bad_parameters_are_400_with_the_field_and_unknown_paths_are_json(api):
    for path, field in [
        ("/api/runs?limit=abc", "limit"),
        ("/api/runs?limit=0", "limit"),
        ("/api/records?offset=-1", "offset"),
        ("/api/records?status=lost", "status"),
        ("/api/reports/embargoes?today=yesterday", "today"),
        ("/api/reports/embargoes?within_days=-3", "within_days"),
    ]:
        response = api.viewer("GET", path)
        assert response.status_code == 400, path
        assert response.get_json()["field"] == field, path
    assert api.call("GET", "/api/records?q=%00").status_code == 400
    missing = api.call("GET", "/api/nothing-here")
    assert missing.status_code == 404 and "error" in missing.get_json()
    wrong_method = api.call("PATCH", "/api/sources")
    assert wrong_method.status_code == 405 and "error" in wrong_method.get_json()
    assert api.call("GET", "/api/runs/999999").status_code == 404
    assert api.call("GET", "/api/records/oai:nowhere:1").status_code == 404


def test_harvest_through_the_api_and_read_everything_back(api, repo_url):
    source = {"name": "repo", "kind": "oai-pmh", "url": repo_url, "metadata_prefix": "jpcoar_2.0"}
    assert api.call("POST", "/api/sources", json=source).status_code == 201

    tested = api.call("POST", "/api/sources/repo/test")
    assert tested.status_code == 200, tested.get_json()
    assert tested.get_json()["ok"] is True and tested.get_json()["identify"]
    assert api.viewer("POST", "/api/sources/repo/harvest").status_code == 403

    started = api.call("POST", "/api/sources/repo/harvest?full=true")
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["run_id"]
    deadline = time.monotonic() + 60
    run = {}
    while time.monotonic() < deadline:
        run = api.viewer("GET", f"/api/runs/{run_id}").get_json() if run_id else {}
        if run.get("status") in ("succeeded", "failed"):
            break
        time.sleep(0.2)
        if run_id is None:
            runs = api.viewer("GET", "/api/runs?source=repo").get_json()["runs"]
            run_id = runs[0]["id"] if runs else None
    assert run.get("status") == "succeeded", run
    assert run["records"]["new"] == 5 and run["mode"] == "full"

    runs = api.viewer("GET", "/api/runs?source=repo&limit=5").get_json()
    assert runs["total"] == 1 and runs["runs"][0]["id"] == run_id

    found = api.viewer("GET", "/api/records", query_string={"q": "データ 1"}).get_json()
    assert found["total"] == 1 and len(found["records"]) == 1
    quarantined = api.viewer("GET", "/api/records?status=quarantined").get_json()
    assert quarantined["total"] == 1
    ident = quarantined["records"][0].get("oai_identifier") or quarantined["records"][0].get("local_id")
    detail = api.viewer("GET", f"/api/records/{ident}")
    assert detail.status_code == 200, detail.get_json()
    assert detail.get_json()["findings"]

    groups = api.viewer("GET", "/api/quarantine").get_json()["groups"]
    assert sum(g["count"] for g in groups) >= 1

    overview = api.viewer("GET", "/api/overview").get_json()
    repo = next(s for s in overview["sources"] if s["name"] == "repo")
    assert repo["published"] == 4 and repo["quarantined"] == 1

    counts = api.viewer("GET", "/api/reports/counts").get_json()
    assert counts["totals"]["total"] == 5
    assert api.viewer("GET", "/api/reports/embargoes?within_days=10&today=2026-11-01").status_code == 200
    assert api.viewer("GET", "/api/reports/deadlines").status_code == 200
    assert api.viewer("GET", "/api/reports/counts?source=nowhere").status_code == 400


def test_openapi_lists_every_api_route(api):
    spec = api.app.test_client().get("/api/openapi.json").get_json()  # public: it holds no data
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, ops in spec["paths"].items() for method in ops if method != "parameters"
    }
    served = set()
    for rule in api.app.url_map.iter_rules():
        if rule.rule.startswith("/api"):
            path = rule.rule.replace("<int:run_id>", "{id}").replace("<path:ident>", "{id}").replace("<name>", "{name}")
            path = path.replace("<project>", "{project}")
            served |= {(path, m) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert served == documented
