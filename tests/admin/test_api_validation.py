"""Request bodies are checked against the schemas /api/openapi.json publishes, and every status the management API
answers is listed in that document for the operation that answered it.

tests/admin/test_api_schema.py samples the same ground at random; this file states each rule once, with the exact answer
(field, JSON pointer, rule) a client gets.
"""

from __future__ import annotations

import json

import pytest

from gateway.admin import auth, openapi, sourcestore
from gateway.app import create_app
from gateway.db import make_engine, migrate, session_factory, transaction
from tests.admin.logins import PASSWORD, login
from tests.conftest import make_config

DIRECTORY = {"kind": "directory", "path": "/nonexistent/folder"}


@pytest.fixture
def api(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    engine = make_engine(url)
    migrate(engine)
    app = create_app(make_config(url), engine)
    with transaction(session_factory(engine)) as s:
        auth.create_user(s, "mana", PASSWORD, "manager")
        auth.create_user(s, "view", PASSWORD, "viewer")
        manager = auth.create_token(s, "manager-token", "mana")
        viewer = auth.create_token(s, "viewer-token", "view")
        sourcestore.save_source(s, {"name": "files", **DIRECTORY})
        sourcestore.save_source(s, {"name": "off", **DIRECTORY, "enabled": False})
    client = app.test_client()

    class Api:
        def __init__(self) -> None:
            self.app = app
            self.client = client

        def call(self, method: str, path: str, *, token: str | None = manager, **kwargs):
            headers = dict(kwargs.pop("headers", {}))
            if token:
                headers["Authorization"] = f"Bearer {token}"
            return client.open(path, method=method, headers=headers, **kwargs)

        def viewer(self, method: str, path: str, **kwargs):
            return self.call(method, path, token=viewer, **kwargs)

    yield Api()
    engine.dispose()


# --- the schema the validator reads is the one the document publishes ----------------------------------------------


def test_the_validated_schemas_are_the_published_ones():
    document = openapi.spec()
    assert openapi.body_operations() == ["createSource", "updateSource", "createPublication"]
    for path, method, name in [
        ("/api/sources", "post", "SourceInput"),
        ("/api/sources/{name}", "put", "SourceUpdate"),
        ("/api/dmp/{project}/publications", "post", "PublicationInput"),
    ]:
        operation = document["paths"][path][method]
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"
        }
        assert openapi.request_schema(operation["operationId"]) == document["components"]["schemas"][name]


def test_every_source_field_has_a_schema_and_the_schema_no_other_field():
    writable = {
        name
        for name, schema in openapi.request_schema("updateSource")["properties"].items()
        if not schema.get("readOnly")
    }
    assert writable == set(sourcestore.FIELDS)


def test_a_schema_keyword_the_validator_does_not_enforce_is_refused():
    with pytest.raises(ValueError, match="format"):
        openapi._check_supported({"type": "object", "properties": {"when": {"type": "string", "format": "date"}}}, "x")


# --- the rules, one by one ------------------------------------------------------------------------------------------


def _first(body, operation="updateSource"):
    found = openapi.violations(body, openapi.request_schema(operation))
    return (found[0].pointer, found[0].rule) if found else None


@pytest.mark.parametrize(
    ("body", "pointer", "rule"),
    [
        ([], "", "type"),
        ("kind", "", "type"),
        ({}, "/kind", "required"),
        ({"kind": "ftp"}, "/kind", "enum"),
        ({"kind": "oai-pmh", "colour": "red"}, "/colour", "additionalProperties"),
        ({"kind": "oai-pmh", "a/b~c": 1}, "/a~1b~0c", "additionalProperties"),
        ({"kind": "oai-pmh", "sets": ["x" * 256]}, "/sets/0", "maxLength"),
        ({"kind": "oai-pmh", "sets": ["ok", 7]}, "/sets/1", "type"),
        ({"kind": "oai-pmh", "sets": [f"s{i}" for i in range(101)]}, "/sets", "maxItems"),
        ({"kind": "oai-pmh", "sets": "one"}, "/sets", "type"),
        ({"kind": "oai-pmh", "timeout": 0}, "/timeout", "exclusiveMinimum"),
        ({"kind": "oai-pmh", "timeout": -1.5}, "/timeout", "exclusiveMinimum"),
        ({"kind": "oai-pmh", "timeout": 3600.5}, "/timeout", "maximum"),
        ({"kind": "oai-pmh", "timeout": "60"}, "/timeout", "type"),
        ({"kind": "oai-pmh", "timeout": float("inf")}, "/timeout", "type"),
        ({"kind": "oai-pmh", "timeout": True}, "/timeout", "type"),
        ({"kind": "oai-pmh", "max_retries": 1.5}, "/max_retries", "type"),
        ({"kind": "oai-pmh", "max_retries": 101}, "/max_retries", "maximum"),
        ({"kind": "oai-pmh", "retry_ceiling": -1}, "/retry_ceiling", "minimum"),
        ({"kind": "oai-pmh", "url": "http://x/" + "a" * 2000}, "/url", "maxLength"),
        ({"kind": "oai-pmh", "url": "http://x/\x01"}, "/url", "pattern"),
        ({"kind": "oai-pmh", "schedule": "0 2 * * *\n"}, "/schedule", "pattern"),
        ({"kind": "oai-pmh", "enabled": "yes"}, "/enabled", "type"),
        ({"kind": "oai-pmh", "name": "two words"}, "/name", "pattern"),
        ({"kind": "oai-pmh", "name": "trailing-newline\n"}, "/name", "pattern"),  # ECMA-262's $, not Python's
        ({"kind": "oai-pmh", "metadata_prefix": "mods"}, "/metadata_prefix", "enum"),
    ],
)
def test_a_body_breaking_a_rule_is_named_by_pointer_and_rule(body, pointer, rule):
    assert _first(body) == (pointer, rule)


def test_a_new_source_needs_its_name_and_kind():
    found = openapi.violations({}, openapi.request_schema("createSource"))
    assert [(v.pointer, v.rule) for v in found] == [("/name", "required"), ("/kind", "required")]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "oai-pmh"},
        {"kind": "oai-pmh", "url": None, "sets": None, "timeout": None, "enabled": None},  # null: the default
        {"kind": "oai-pmh", "timeout": 0.001, "max_retries": 0, "retry_ceiling": 86400, "sets": ["x" * 255] * 100},
        {"kind": "grdm", "metadata_disclosure": "unknown"},
        # What GET answers, sent back whole: the read-only fields are ignored, whatever they hold.
        {"kind": "oai-pmh", "origin": "dashboard", "edited_in_dashboard": True, "created_at": None, "edited_at": 5},
    ],
)
def test_a_body_within_the_rules_passes(body):
    assert _first(body) is None


def _largest(schema: dict) -> int:
    """The most bytes a value valid under `schema` can take as compact-ish JSON, every character \\u-escaped."""
    schema = openapi._resolve(schema)
    if schema.get("readOnly"):
        return 0
    kind = schema.get("type")
    if "enum" in schema:
        return max(len(json.dumps(value)) for value in schema["enum"])
    if kind == "string":
        return 2 + 12 * schema["maxLength"]  # an astral character is two \u escapes; KeyError: an unbounded string
    if kind in ("number", "integer"):
        return 24
    if kind == "boolean":
        return 5
    if kind == "array":
        return 2 + schema["maxItems"] * (_largest(schema["items"]) + 2)
    if kind == "object":
        assert schema.get("additionalProperties") is False, "an open object has no largest size"
        return 2 + sum(len(json.dumps(key)) + 4 + _largest(sub) for key, sub in schema["properties"].items())
    raise AssertionError(f"no size for {schema}")


def test_the_largest_valid_body_fits_the_size_limit():
    for operation in openapi.body_operations():
        assert _largest(openapi.request_schema(operation)) < openapi.MAX_BODY_BYTES / 2  # room for whitespace


# --- through the API ------------------------------------------------------------------------------------------------


def test_a_put_breaking_the_schema_is_refused_with_the_field_and_the_source_is_unchanged(api):
    before = api.call("GET", "/api/sources/files").get_json()
    response = api.call("PUT", "/api/sources/files", json={**DIRECTORY, "sets": ["x" * 256], "timeout": -1})
    assert response.status_code == 400
    body = response.get_json()
    assert (body["field"], body["pointer"], body["rule"]) == ("sets.0", "/sets/0", "maxLength")
    assert body["error"] == "sets.0: must have at most 255 characters, not 256 (maxLength)"
    assert [(v["pointer"], v["rule"]) for v in body["violations"]] == [
        ("/sets/0", "maxLength"),
        ("/timeout", "exclusiveMinimum"),
    ]
    assert api.call("GET", "/api/sources/files").get_json() == before


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"timeout": 0}, "timeout", "exclusiveMinimum"),
        ({"sets": [f"set{i}" for i in range(101)]}, "sets", "maxItems"),  # a rule of the schema's own
        ({"colour": "red"}, "colour", "additionalProperties"),
        ({"kind": None}, "kind", "type"),
    ],
)
def test_each_write_checks_its_body(api, change, field, rule):
    put = api.call("PUT", "/api/sources/files", json={**DIRECTORY, **change})
    post = api.call("POST", "/api/sources", json={"name": "new", **DIRECTORY, **change})
    for response in (put, post):
        assert response.status_code == 400, response.get_json()
        assert (response.get_json()["field"], response.get_json()["rule"]) == (field, rule)
    assert api.call("GET", "/api/sources/new").status_code == 404


def test_an_answer_sent_back_whole_is_accepted_and_null_means_the_default(api):
    source = api.call("GET", "/api/sources/files").get_json()
    assert api.call("PUT", "/api/sources/files", json=source).status_code == 200
    reset = api.call("PUT", "/api/sources/files", json={**DIRECTORY, "timeout": None, "sets": None})
    assert reset.status_code == 200 and reset.get_json()["timeout"] == 60.0 and reset.get_json()["sets"] == []


def test_an_import_source_keeps_its_unknown_disclosure_through_the_api(api):
    created = api.call("POST", "/api/sources", json={"name": "rdm", "kind": "grdm", "path": "/x/report.csv"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["metadata_disclosure"] == "unknown"
    again = api.call("PUT", "/api/sources/rdm", json={k: v for k, v in created.get_json().items() if k != "name"})
    assert again.status_code == 200, again.get_json()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b'{"kind": "oai-pmh", "timeout": NaN}', "NaN is not a JSON number"),
        (b'{"kind": "oai-pmh", "timeout": Infinity}', "Infinity is not a JSON number"),
        (b'{"kind": "oai-pmh", "timeout": 1e400}', "timeout: must be a number"),  # parsed as infinity
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"kind": "oai-pmh", "repository_name": "\\ud800"}', "lone surrogate"),
        (b'{"kind": "\xff"}', "not valid JSON"),
        (b"\xef\xbb\xbf{}", "kind: is required"),  # a byte order mark is ignored, as RFC 8259 allows
    ],
)
def test_a_body_that_is_not_strict_json_text_is_refused(api, data, message):
    response = api.call("PUT", "/api/sources/files", data=data, content_type="application/json")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_a_body_is_json_or_nothing(api):
    form_type = "application/x-www-form-urlencoded"
    form = api.call("POST", "/api/sources", data="name=x&kind=directory", content_type=form_type)
    assert form.status_code == 400 and "JSON object" in form.get_json()["error"]


def test_a_large_valid_body_is_read_and_a_too_large_one_is_413(api):
    # 100 sets of 255 astral characters, each written as two \u escapes: about 300 KB, valid by every rule. The
    # application-wide 64 KiB limit (for OAI-PMH POSTs) refused bodies like this one.
    sets = ["\U0001f600" * 254 + str(i % 10) for i in range(100)]
    data = json.dumps({**DIRECTORY, "sets": sets})  # ensure_ascii: every emoji as \ud83d\ude00
    assert 64 * 1024 < len(data) < openapi.MAX_BODY_BYTES
    accepted = api.call("PUT", "/api/sources/files", data=data, content_type="application/json")
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["sets"] == sets

    too_large = json.dumps({**DIRECTORY, "repository_name": "x" * openapi.MAX_BODY_BYTES})
    refused = api.call("PUT", "/api/sources/files", data=too_large, content_type="application/json")
    assert refused.status_code == 413 and "error" in refused.get_json()


# --- every status, documented where it happens ---------------------------------------------------------------------


def _documented(path: str, method: str) -> set[int]:
    operation = openapi.spec()["paths"][path][method.lower()]
    return {int(code) for code in operation["responses"]}


def test_every_status_the_api_answers_is_documented_for_its_operation(api, monkeypatch):
    big = json.dumps({**DIRECTORY, "repository_name": "x" * openapi.MAX_BODY_BYTES})
    cases = [
        # (documented path, method, URL, how, status)
        ("/api/me", "GET", "/api/me", {"token": None}, 401),
        ("/api/me", "GET", "/api/me?x=%01", {}, 400),
        ("/api/openapi.json", "GET", "/api/openapi.json?x=%01", {"token": None}, 400),
        ("/api/overview", "GET", "/api/overview", {"environ_overrides": {"QUERY_STRING": "x=\xff"}}, 400),  # not UTF-8
        ("/api/sources", "GET", "/api/sources", {"token": "gw_revoked-or-unknown"}, 401),
        ("/api/sources", "POST", "/api/sources", {"json": {"name": "files", **DIRECTORY}}, 409),
        ("/api/sources", "POST", "/api/sources", {"json": {"name": "x"}}, 400),
        ("/api/sources", "POST", "/api/sources", {"json": {"name": "x", "kind": "directory"}}, 400),  # config rule
        ("/api/sources", "POST", "/api/sources", {"data": big, "content_type": "application/json"}, 413),
        ("/api/sources", "POST", "/api/sources", {"viewer": True, "json": {"name": "x", **DIRECTORY}}, 403),
        ("/api/sources/{name}", "GET", "/api/sources/missing", {}, 404),
        ("/api/sources/{name}", "GET", "/api/sources/not%20a%20name", {}, 404),
        ("/api/sources/{name}", "PUT", "/api/sources/missing", {"json": DIRECTORY}, 404),
        ("/api/sources/{name}", "PUT", "/api/sources/files", {"data": big, "content_type": "application/json"}, 413),
        ("/api/sources/{name}", "PUT", "/api/sources/files", {"viewer": True, "json": DIRECTORY}, 403),
        ("/api/sources/{name}", "DELETE", "/api/sources/missing", {}, 404),
        ("/api/sources/{name}", "DELETE", "/api/sources/files", {"viewer": True}, 403),
        ("/api/sources/{name}/test", "POST", "/api/sources/missing/test", {}, 404),
        ("/api/sources/{name}/harvest", "POST", "/api/sources/off/harvest", {}, 409),
        ("/api/sources/{name}/harvest", "POST", "/api/sources/files/harvest?full=maybe", {}, 400),
        ("/api/sources/{name}/harvest", "POST", "/api/sources/missing/harvest", {}, 404),
        ("/api/runs", "GET", "/api/runs?limit=501", {}, 400),
        ("/api/runs", "GET", "/api/runs?limit=5_0", {}, 400),  # int() reads it; an integer it is not
        ("/api/runs", "GET", "/api/runs?offset=%2B5", {}, 400),
        ("/api/runs", "GET", "/api/runs?offset=" + "9" * 5000, {}, 400),
        ("/api/runs/{id}", "GET", "/api/runs/2147483648", {}, 404),
        ("/api/records", "GET", "/api/records?status=lost", {}, 400),
        ("/api/records/{id}", "GET", "/api/records/oai:nowhere:1", {}, 404),
        ("/api/records/{id}", "GET", "/api/records/999999999999999999999999999999", {}, 404),  # was a 500
        ("/api/records/{id}", "GET", "/api/records/%C2%B2", {}, 404),  # "²" is a digit int() cannot read
        ("/api/quarantine", "GET", "/api/quarantine?source=" + "x" * 501, {}, 400),
        ("/api/reports/counts", "GET", "/api/reports/counts?source=nowhere", {}, 400),
        ("/api/reports/embargoes", "GET", "/api/reports/embargoes?today=20261101", {}, 400),
        ("/api/reports/deadlines", "GET", "/api/reports/deadlines?today=2026-W44-7", {}, 400),
    ]
    for documented, method, url, how, status in cases:
        how = dict(how)
        send = api.viewer if how.pop("viewer", False) else api.call
        response = send(method, url, **how)
        assert response.status_code == status, (method, url, response.get_data(as_text=True)[:300])
        assert status in _documented(documented, method), (method, documented, status)
        assert "error" in response.get_json() or status == 409, (method, url)

    # A browser session writes only with its CSRF header.
    login(api.client)
    refused = api.client.post("/api/sources", json={"name": "x", **DIRECTORY})
    assert refused.status_code == 400 and "X-CSRF-Token" in refused.get_json()["error"]
    assert 400 in _documented("/api/sources", "POST")

    # An unexpected failure: logged, answered 500 without details, and documented.
    from gateway.admin import operations

    def broken(*args, **kwargs):
        raise RuntimeError("secret inner detail")

    monkeypatch.setattr(operations, "overview", broken)
    failed = api.call("GET", "/api/overview")
    assert failed.status_code == 500 and "secret" not in failed.get_data(as_text=True)
    assert 500 in _documented("/api/overview", "GET")


def test_reads_cannot_be_forbidden_and_writes_can():
    document = openapi.spec()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert {"400", "500"} <= codes, (method, path)
            assert ("401" in codes) == (operation.get("security") != []), (method, path)
            assert ("403" in codes) == (method != "get"), (method, path)
            assert ("413" in codes) == ("requestBody" in operation), (method, path)


def test_an_anonymous_request_is_told_how_to_authenticate(api):
    response = api.call("GET", "/api/sources", token=None)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'
    assert "WWW-Authenticate" in openapi.spec()["paths"]["/api/sources"]["get"]["responses"]["401"]["headers"]
