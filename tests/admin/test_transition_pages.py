"""The dashboard's transitions page (gateway.admin.transition_pages) on SQLite and PostgreSQL: the same transitions
and reviews as the command line for the same day, the publication form (manager only, CSRF-checked, post/redirect/
get), the downloads, and the catalogue download without any private value."""

from __future__ import annotations

import csv
import io
import re

import pytest
from lxml import html

from gateway.admin import auth
from gateway.app import create_app
from gateway.db import transaction
from tests.support.amed_dmp import END_PLUS_2, JGN, PAPER, SECRETS, harvested_project

PASSWORD = "correct horse battery"


@pytest.fixture
def site(engine, db_url, tmp_path, monkeypatch):
    config, sessions = harvested_project(engine, db_url, tmp_path, monkeypatch)
    with transaction(sessions) as s:
        auth.create_user(s, "boss", PASSWORD, "manager")
        auth.create_user(s, "guest", PASSWORD, "viewer")
    return create_app(config, engine)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _client(app, username: str, lang: str = "en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    page = client.get("/admin/login")
    answer = client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page.text), "next": "/admin/"},
    )
    assert answer.status_code == 303
    return client


def _rows(page: str, table: str) -> list[list[str]]:
    tree = html.fromstring(page)
    return [
        [" ".join(td.text_content().split()) for td in tr.findall("td")]
        for tr in tree.xpath(f"//*[@id='{table}']//tbody/tr")
    ]


def test_the_page_shows_the_transitions_and_reviews_of_the_day(site):
    viewer = _client(site, "guest")
    page = viewer.get("/admin/transitions?today=2026-01-01&within=90")
    assert page.status_code == 200
    rows = _rows(page.text, "transitions")
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("overdue", PAPER, "-215", "D-1"),
        ("due", END_PLUS_2, "89", "D-2"),
    ]
    assert "paper accepted (2025-05-31)" in rows[0][8] and "restricted" in rows[0][10]
    assert [(r[0], r[1], r[5]) for r in _rows(page.text, "reviews")] == [
        ("due", END_PLUS_2, "2 years after the end"),
        ("upcoming", "2028-03-31", "4 years after the end"),
    ]
    assert 'id="publication-form"' not in page.text  # a viewer has no form
    japanese = _client(site, "guest", "ja").get("/admin/transitions?today=2026-01-01")
    assert "期限超過" in japanese.text and "論文採択" in japanese.text and "制限共有から公開への移行" in japanese.text
    download = viewer.get("/admin/transitions.csv?today=2026-01-01&within=90")
    lines = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(lines) == 5 and lines[1][2] == PAPER


def test_a_manager_records_and_removes_a_publication(site):
    manager = _client(site, "boss")
    page = manager.get("/admin/transitions?today=2025-02-01")
    assert 'id="publication-form"' in page.text and _rows(page.text, "transitions") == []
    token = _csrf(page.text)
    form = {"csrf_token": token, "project": JGN, "kind": "patent", "date": "2025-01-15", "dataset": "", "note": "特許"}
    answer = manager.post("/admin/transitions/publications", data=form)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/transitions#publications")
    page = manager.get("/admin/transitions?today=2025-02-01")
    assert "The publication is recorded." in page.text
    assert [r[1] for r in _rows(page.text, "transitions")] == ["2025-01-15", "2025-01-15"]  # both datasets, by it
    listed = _rows(page.text, "publication-list")
    assert [(r[1], r[2], r[3]) for r in listed] == [
        ("patent application published", "2025-01-15", "the whole project"),
        ("paper accepted", PAPER, "1. D-1 臨床データ"),
    ]
    # a refused one says why; without the CSRF token nothing is recorded
    bad = manager.post("/admin/transitions/publications", data={**form, "dataset": "D-9"}, follow_redirects=True)
    assert "Not recorded" in bad.text and "has no dataset" in bad.text
    assert manager.post("/admin/transitions/publications", data={**form, "csrf_token": "x"}).status_code == 400
    assert len(_rows(manager.get("/admin/transitions").text, "publication-list")) == 2
    # a viewer may not record one
    viewer = _client(site, "guest")
    viewer_token = _csrf(viewer.get("/admin/transitions").text)
    assert viewer.post("/admin/transitions/publications", data={**form, "csrf_token": viewer_token}).status_code == 403
    # removal
    tree = html.fromstring(page.text)
    first = tree.xpath("//*[@id='publication-list']//tbody/tr")[0].get("data-id")
    done = manager.post(
        f"/admin/transitions/publications/{first}/delete", data={"csrf_token": _csrf(page.text), "project": JGN}
    )
    assert done.status_code == 302
    assert len(_rows(manager.get("/admin/transitions").text, "publication-list")) == 1


def test_the_catalogue_download_holds_no_private_value(site):
    viewer = _client(site, "guest")
    for fmt in ("csv", "json", "xlsx"):
        answer = viewer.get(f"/admin/catalogue.{fmt}")
        assert answer.status_code == 200
        if fmt != "xlsx":
            text = answer.get_data(as_text=True)
            assert "臨床データ" in text and not [k for k, v in SECRETS.items() if v in text]
    assert viewer.get("/admin/catalogue.exe").status_code == 404
