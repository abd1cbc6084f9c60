"""Who may use /admin and /api: hashed passwords, cookie settings, CSRF, failed-login limits, roles, API tokens, and
that every admin and API URL (taken from the application's URL map, not from a list) refuses anonymous visitors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from gateway.admin import auth, sourcestore
from gateway.app import create_app
from gateway.db import session_factory, transaction
from gateway.models import AdminUser, ApiToken, LoginFailure
from tests.admin.logins import PASSWORD, login, session_csrf
from tests.conftest import make_config

MARKER = "private-marker-7f3a"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE_VALUES = {"name": "weko", "run_id": 1, "ident": "oai:gateway.test.ac.jp:weko/1", "report": "counts",
                 "fmt": "csv", "filename": "admin/admin.css", "project": "JP21ab0101001", "publication_id": 1}


def make_app(engine, db_url, **admin):
    cfg = make_config(db_url, sources=[{"name": "weko", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai"}])
    if admin:
        cfg = dataclasses.replace(cfg, admin=dataclasses.replace(cfg.admin, **admin))
    app = create_app(cfg, engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        if s.scalar(select(AdminUser.id).where(AdminUser.username == "mana")) is None:
            auth.create_user(s, "mana", PASSWORD, "manager")
            auth.create_user(s, "view", PASSWORD, "viewer")
            # Something non-public that an anonymous visitor must never see.
            sourcestore.save_source(s, {"name": "hidden-src", "kind": "oai-pmh", "url": f"http://127.0.0.1:9/{MARKER}"})
    return app


@pytest.fixture
def app(engine, db_url):
    return make_app(engine, db_url)


def url_for_rule(app, rule) -> str:
    values = {arg: SAMPLE_VALUES[arg] for arg in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def protected_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/admin", "/api")):
            continue
        if rule.endpoint in auth.PUBLIC_ENDPOINTS or rule.endpoint.endswith("static"):
            continue
        yield rule


# --- passwords ------------------------------------------------------------------------------------------------------


def test_passwords_are_stored_hashed_and_salted(app, engine):
    with session_factory(engine)() as s:
        hashes = dict(s.execute(select(AdminUser.username, AdminUser.password_hash)).all())
    assert PASSWORD not in "".join(hashes.values())
    assert all(h.startswith("scrypt$") for h in hashes.values())
    assert hashes["mana"] != hashes["view"]  # same password, different salt
    assert auth.verify_password(PASSWORD, hashes["mana"])
    assert not auth.verify_password(PASSWORD + "x", hashes["mana"])
    assert not auth.verify_password(PASSWORD, "garbage")


def test_short_passwords_and_bad_names_are_refused(app, engine):
    with session_factory(engine)() as s:
        with pytest.raises(auth.AuthError, match="at least"):
            auth.create_user(s, "new", "short", "viewer")
        with pytest.raises(auth.AuthError, match="not a valid name"):
            auth.create_user(s, "bad name", PASSWORD, "viewer")
        with pytest.raises(auth.AuthError, match="role"):
            auth.create_user(s, "new", PASSWORD, "admin")


# --- sessions -------------------------------------------------------------------------------------------------------


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(app):
    client = app.test_client()
    response = login(client, next_url="/admin/runs")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/runs")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("gateway_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/api/me").get_json()["username"] == "mana"
    assert client.get("/admin/").status_code == 200

    assert client.post("/admin/logout").status_code == 400  # no CSRF token: refused, still logged in
    assert client.get("/api/me").status_code == 200
    token = session_csrf(client)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/me").status_code == 401
    assert client.get("/admin/").status_code == 302


def test_secure_cookies_when_configured(engine, db_url):
    app = make_app(engine, db_url, secure_cookies=True)
    response = login(app.test_client())
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("gateway_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_wrong_password_and_unknown_user_are_refused_alike(app):
    client = app.test_client()
    wrong = login(client, password="not the password")
    unknown = login(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong user name or password" in wrong.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_next_cannot_send_the_user_elsewhere(app):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = login(app.test_client(), next_url=target)
        assert response.status_code == 303
        assert response.headers["Location"] in ("/admin/", "http://localhost/admin/"), target


def test_changing_the_password_ends_existing_sessions(app, engine):
    client = app.test_client()
    login(client)
    assert client.get("/api/me").status_code == 200
    with transaction(session_factory(engine)) as s:
        auth.set_password(s, "mana", PASSWORD + " new")
    assert client.get("/api/me").status_code == 401


# --- CSRF -----------------------------------------------------------------------------------------------------------


def test_writes_without_the_csrf_token_are_rejected(app):
    client = app.test_client()
    # The login form itself needs the token.
    response = client.post("/admin/login", data={"username": "mana", "password": PASSWORD})
    assert response.status_code == 400
    login(client)
    token = session_csrf(client)
    form = {"name": "new", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai", "metadata_prefix": "jpcoar_2.0"}
    assert client.post("/admin/sources/new", data=form).status_code == 400
    assert client.post("/admin/sources/new", data={**form, "csrf_token": "forged"}).status_code == 400
    assert client.post("/admin/sources/new", data={**form, "csrf_token": token}).status_code != 400
    # The API used with the session cookie needs the header; a stale or missing one is refused.
    body = {"name": "api-made", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai"}
    assert client.post("/api/sources", json=body).status_code == 400
    assert client.post("/api/sources", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 400
    assert client.post("/api/sources", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_bearer_token_requests_need_no_csrf_token(app, engine):
    with transaction(session_factory(engine)) as s:
        token = auth.create_token(s, "script", "mana")
    client = app.test_client()
    response = client.post(
        "/api/sources",
        json={"name": "by-token", "kind": "oai-pmh", "url": "http://127.0.0.1:9/oai"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


# --- failed logins --------------------------------------------------------------------------------------------------


def test_failed_logins_are_rate_limited_per_user_and_address(app, engine):
    client = app.test_client()
    limit = app.extensions["gateway"].config.admin.max_failed_logins
    for _ in range(limit):
        assert login(client, password="wrong password").status_code == 401
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == limit
    # Now even the right password is refused from this address for this user...
    limited = login(client)
    assert limited.status_code == 429
    assert "Too many failed attempts" in limited.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401
    # ...but not for the same user from another address, nor for another user from this one.
    assert login(app.test_client(), address="10.0.0.2").status_code == 303
    assert login(app.test_client(), username="view").status_code == 303


def test_a_successful_login_clears_the_count(app, engine):
    client = app.test_client()
    for _ in range(2):
        login(client, password="wrong password")
    assert login(client).status_code == 303
    with session_factory(engine)() as s:
        left = s.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.username == "mana"))
    assert left == 0


# --- roles ----------------------------------------------------------------------------------------------------------


def test_a_viewer_cannot_write_anywhere(app, engine):
    """Every write route under /admin and /api, from the URL map: 403 for a viewer (session and token alike)."""
    client = app.test_client()
    login(client, username="view")
    csrf = session_csrf(client)
    with transaction(session_factory(engine)) as s:
        viewer_token = auth.create_token(s, "viewer-script", "view")
    checked = 0
    for rule in protected_rules(app):
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            if rule.endpoint in auth.VIEWER_WRITE_ENDPOINTS:
                continue
            url = url_for_rule(app, rule)
            response = client.open(url, method=method, data={"csrf_token": csrf}, headers={"X-CSRF-Token": csrf})
            assert response.status_code == 403, (method, url, response.status_code)
            if url.startswith("/api"):
                bearer = {"Authorization": f"Bearer {viewer_token}"}
                as_token = app.test_client().open(url, method=method, headers=bearer)
                assert as_token.status_code == 403, (method, url, "token")
            checked += 1
    assert checked >= 10  # the dashboard's and the API's writes were all found
    # The viewer can still read.
    assert client.get("/admin/sources").status_code == 200
    assert client.get("/api/sources").status_code == 200
    with session_factory(engine)() as s:
        assert sourcestore.get_source(s, "weko") is not None  # nothing was deleted


def test_every_admin_and_api_url_refuses_an_anonymous_visitor(app):
    client = app.test_client()
    checked = 0
    for rule in protected_rules(app):
        url = url_for_rule(app, rule)
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": "x"})
            body = response.get_data(as_text=True)
            if url.startswith("/api"):
                assert response.status_code == 401, (method, url, response.status_code)
            else:
                assert response.status_code in (302, 303), (method, url, response.status_code)
                assert response.headers["Location"].split("?")[0].endswith("/admin/login")
            assert MARKER not in body and "hidden-src" not in body
            assert response.headers["Cache-Control"] == "no-store, private"
            checked += 1
    assert checked >= 30
    # Unknown URLs under /api and /admin do not even say whether they exist.
    assert client.get("/api/no-such-thing").status_code == 401
    assert client.get("/admin/no-such-thing").status_code == 302


def test_public_pieces_show_nothing_private(app):
    client = app.test_client()
    for url in ("/admin/login", "/api/openapi.json", "/", "/oai?verb=Identify", "/oai?verb=ListSets"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        body = response.get_data(as_text=True)
        assert MARKER not in body and "hidden-src" not in body, url


def test_the_provider_stays_public_and_cookie_free(app):
    client = app.test_client()
    response = client.get("/oai?verb=Identify")
    assert response.status_code == 200 and b"<Identify>" in response.data
    assert not response.headers.getlist("Set-Cookie")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    post = client.post("/oai", data={"verb": "Identify"})  # POST is part of OAI-PMH: no CSRF check there
    assert post.status_code == 200


def test_admin_and_api_answers_are_never_stored_by_shared_caches(app):
    client = app.test_client()
    login(client)
    for rule in protected_rules(app):
        if "GET" not in (rule.methods or set()):
            continue
        response = client.get(url_for_rule(app, rule))
        assert response.headers["Cache-Control"] == "no-store, private", rule.rule
        assert response.status_code < 500, rule.rule
    assert client.get("/admin/login").headers["Cache-Control"] == "no-store, private"


# --- tokens ---------------------------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_a_revoked_token_is_refused(app, engine):
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        token = auth.create_token(s, "nightly", "mana")
    with sessions() as s:
        stored = s.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert token not in stored and auth.token_hash(token) in stored
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/me", headers=headers)
    assert me.status_code == 200 and me.get_json() == {"username": "mana", "role": "manager", "via": "token"}
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer gw_"}).status_code == 401
    # A token does not open the dashboard's pages: those are for people with a session.
    assert client.get("/admin/", headers=headers).status_code == 302
    with transaction(sessions) as s:
        auth.revoke_token(s, "nightly")
    assert client.get("/api/me", headers=headers).status_code == 401
    with sessions() as s:
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.name == "nightly")) is not None


def test_a_deleted_users_tokens_stop_working(app, engine):
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        token = auth.create_token(s, "temp", "view")
    client = app.test_client()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with transaction(sessions) as s:
        auth.delete_user(s, "view")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- the command line -----------------------------------------------------------------------------------------------


def test_users_and_tokens_from_the_command_line(app, db_url, tmp_path: Path):
    from gateway.cli import cli

    cfg = tmp_path / "gateway.toml"
    cfg.write_text("[repository]\nidentifier = \"gateway.test.ac.jp\"\n", encoding="utf-8")
    runner = CliRunner()

    def gw(*args: str, stdin: str | None = None):
        return runner.invoke(cli, ["--config", str(cfg), "--database-url", db_url, *args], input=stdin)

    added = gw("users", "add", "alice", "--role", "manager", "--password-stdin", stdin="alice's password\n")
    assert added.exit_code == 0, added.output
    assert gw("users", "add", "alice", "--password-stdin", stdin="another password\n").exit_code != 0
    assert "at least" in gw("users", "add", "bob", "--password-stdin", stdin="short\n").output
    listed = gw("users", "list")
    assert "alice" in listed.output and "manager" in listed.output and "alice's password" not in listed.output

    created = gw("tokens", "create", "cron", "--user", "alice")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith(auth.TOKEN_PREFIX)
    client = app.test_client()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).get_json()["username"] == "alice"
    tokens = gw("tokens", "list")
    assert "cron" in tokens.output and token not in tokens.output
    assert gw("tokens", "revoke", "cron").exit_code == 0
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert gw("tokens", "revoke", "missing").exit_code != 0

    assert login(client, username="alice", password="alice's password").status_code == 303
    assert gw("users", "delete", "alice").exit_code == 0
    assert client.get("/api/me").status_code == 401
    assert "alice" not in gw("users", "list").output


def test_a_hostile_query_string_is_refused_not_a_server_error(app, engine):
    """Bytes that are not UTF-8 in the query string: the guard still refuses, the API answers 400, /oai still works."""
    with transaction(session_factory(engine)) as s:
        token = auth.create_token(s, "hostile", "mana")
    client = app.test_client()
    raw = {"QUERY_STRING": "q=\xff\xfe&lang=\xff"}
    anonymous_admin = client.get("/admin/records", environ_overrides=raw)
    assert anonymous_admin.status_code == 302
    assert client.get("/api/records", environ_overrides=raw).status_code == 401
    as_token = client.get("/api/records", environ_overrides=raw, headers={"Authorization": f"Bearer {token}"})
    assert as_token.status_code == 400 and "UTF-8" in as_token.get_json()["error"]
    provider = client.get("/oai", environ_overrides={"QUERY_STRING": "verb=Identify&\xff"})
    assert provider.status_code == 200
