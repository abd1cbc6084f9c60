"""The transport (POST as GET, gzip and deflate, streamed answers, a bounded number of queries per page) and privacy:
records never published appear in no list, set or guessed identifier."""

from __future__ import annotations

import gzip
import urllib.request
import zlib
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask
from lxml import etree
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.models import OaiSet
from tests.conftest import make_config
from tests.provider.responses import (
    NS,
    check_body,
    error_codes,
    first_token,
    identifiers,
    oai,
    request_attrs,
    token_of,
    walk,
)
from tests.support.provider_fixtures import PREFIXES, REPO_ID, SECRET_IDENTIFIER, SECRET_TITLE, SET_NAMES, Seeded
from tests.support.servers import serve_wsgi

# ---------------------------------------------------------------------------------------------------------------
# transport: POST, compression, streaming, query counts


def test_post_is_the_same_as_get(app: Flask, seeded: Seeded) -> None:
    with serve_wsgi(app) as base:
        args = {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0", "set": "source:weko"}
        got = requests.get(f"{base}/oai", params=args, timeout=30)
        posted = requests.post(f"{base}/oai", data=args, timeout=30)
        assert posted.headers["Content-Type"] == "text/xml; charset=utf-8"
        one, two = check_body(got.content, "jpcoar_2.0"), check_body(posted.content, "jpcoar_2.0")
        assert identifiers(one) == identifiers(two)
        assert request_attrs(two) == args
        # Paging by POST too.
        token = token_of(two).text
        page = requests.post(f"{base}/oai", data={"verb": "ListRecords", "resumptionToken": token}, timeout=30)
        assert identifiers(check_body(page.content, "jpcoar_2.0"))
        # Errors by POST.
        bad = requests.post(f"{base}/oai", data=[("verb", "Identify"), ("verb", "ListSets")], timeout=30)
        assert error_codes(check_body(bad.content, None)) == ["badVerb"]
        bad = requests.post(f"{base}/oai", data={"verb": "Identify", "x": "\x00"}, timeout=30)
        assert error_codes(check_body(bad.content, None)) == ["badArgument"]
        bad = requests.post(
            f"{base}/oai",
            data=b"verb=Identify&x=\xff",
            timeout=30,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert error_codes(check_body(bad.content, None)) == ["badArgument"]


def fetch_raw(url: str, encoding: str | None) -> tuple[bytes, Any]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), response.headers


def test_compression_over_http(app: Flask, seeded: Seeded) -> None:
    with serve_wsgi(app) as base:
        url = f"{base}/oai?" + urlencode({"verb": "ListRecords", "metadataPrefix": "oai_dc"})
        plain, headers = fetch_raw(url, None)
        assert headers.get("Content-Encoding") is None and "Accept-Encoding" in headers["Vary"]
        check_body(plain, "oai_dc")

        body, headers = fetch_raw(url, "gzip, identity")
        assert headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in headers["Vary"]
        assert headers["Content-Type"] == "text/xml; charset=utf-8"
        unzipped = gzip.decompress(body)
        assert identifiers(check_body(unzipped, "oai_dc")) == identifiers(check_body(plain, "oai_dc"))

        body, headers = fetch_raw(url, "deflate")
        assert headers["Content-Encoding"] == "deflate"
        check_body(zlib.decompress(body), "oai_dc")

        body, headers = fetch_raw(url, "gzip;q=0, deflate;q=0, identity")
        assert headers.get("Content-Encoding") is None
        check_body(body, "oai_dc")

        body, headers = fetch_raw(f"{base}/oai?verb=nastyVerb", "gzip")
        assert error_codes(check_body(gzip.decompress(body), None)) == ["badVerb"]

        # A client that decompresses by itself sees the same document.
        auto = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert auto.headers["Content-Encoding"] == "gzip"
        check_body(auto.content, "oai_dc")


def test_response_is_streamed(client: Any) -> None:
    response = client.get("/oai", query_string={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    assert response.is_streamed
    check_body(response.data, "oai_dc")


def test_a_page_costs_a_bounded_number_of_queries(engine: Engine, db_url: str, seeded: Seeded) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    for size in (3, 8):
        client = create_app(make_config(db_url, page_size=size, token_secret="fixed"), engine).test_client()
        token = first_token(client, "ListRecords", metadataPrefix="jpcoar_2.0")
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            root = oai(client, {"verb": "ListRecords", "resumptionToken": token}, prefix="jpcoar_2.0")
            assert len(identifiers(root)) == size
            selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            assert len(selects) == 2, selects  # the page, its sets
            statements.clear()
            oai(client, {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0"})
            selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            assert len(selects) == 3, selects  # the page, its sets, the count
            assert not any("records" in s.split("FROM", 1)[-1].split() for s in statements)
        finally:
            event.remove(engine, "before_cursor_execute", count)


# ---------------------------------------------------------------------------------------------------------------
# privacy


def test_never_published_records_appear_nowhere(client: Any, seeded: Seeded, engine: Engine) -> None:
    # Every response is already checked for the secret titles and identifiers; here every list is walked whole.
    for prefix in PREFIXES:
        for verb in ("ListRecords", "ListIdentifiers"):
            seen, _ = walk(client, verb, metadataPrefix=prefix)
            assert all(i.startswith(f"oai:{REPO_ID}:") for i in seen)
    walk(client, "ListSets")
    with Session(engine) as session:
        hidden = session.scalars(select(OaiSet.set_spec)).all()
    assert set(hidden) == set(SET_NAMES)
    # Asking for one by a guessed identifier tells nothing beyond echoing the question.
    for k in range(3):
        for ident in (f"oai:{REPO_ID}:weko/{SECRET_IDENTIFIER}-{k}", f"{SECRET_IDENTIFIER}-{k}"):
            for verb, extra in (("GetRecord", {"metadataPrefix": "jpcoar_2.0"}), ("ListMetadataFormats", {})):
                response = client.get("/oai", query_string={"verb": verb, "identifier": ident, **extra})
                assert SECRET_TITLE.encode() not in response.data
                assert response.data.count(SECRET_IDENTIFIER.encode()) <= 1
                root = etree.fromstring(response.data)
                assert set(error_codes(root)) <= {"idDoesNotExist", "badArgument"}
                assert not root.findall(".//o:header", NS)


def test_root_redirects_to_identify(client: Any) -> None:
    response = client.get("/")
    assert response.status_code in (301, 302, 303, 307, 308)
    assert "verb=Identify" in response.headers["Location"]
