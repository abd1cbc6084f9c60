"""Logging in to the dashboard through its form, as the auth and API tests do (users made with PASSWORD)."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"


def form_token(client, path: str = "/admin/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def login(client, username: str = "mana", password: str = PASSWORD, *, address: str = "127.0.0.1", next_url=None):
    token = form_token(client)
    data = {"username": username, "password": password, "csrf_token": token}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/admin/login", data=data, environ_base={"REMOTE_ADDR": address})


def session_csrf(client) -> str:
    me = client.get("/api/me")
    assert me.status_code == 200, me.get_data(as_text=True)
    return me.get_json()["csrf_token"]
