"""ListRecords and ListIdentifiers: every record once over real HTTP, content, deleted records, selective harvesting by
set and by date at both granularities, and ranges kept across pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from lxml import etree
from sqlalchemy import Engine

from gateway.app import create_app
from gateway.db import utcnow
from tests.conftest import make_config
from tests.provider.responses import (
    NS,
    PAGE,
    check_body,
    check_http,
    error_codes,
    expected,
    identifiers,
    oai,
    request_attrs,
    stamp,
    token_of,
    walk,
)
from tests.support.provider_fixtures import BASE, PREFIXES, SET_NAMES, Seeded, seed
from tests.support.servers import serve_wsgi


def test_walks_over_http_return_every_record_once(app: Flask, seeded: Seeded) -> None:
    with serve_wsgi(app) as base:
        session = requests.Session()

        def get(params: dict[str, str], prefix: str) -> etree._Element:
            response = session.get(f"{base}/oai", params=params, timeout=30)
            assert response.status_code == 200
            check_http(response.headers)
            return check_body(response.content, prefix)

        for verb in ("ListRecords", "ListIdentifiers"):
            for prefix in PREFIXES:
                want = expected(seeded, prefix)
                root = get({"verb": verb, "metadataPrefix": prefix}, prefix)
                seen, cursor = [], 0
                while True:
                    page = identifiers(root)
                    seen += page
                    token = token_of(root)
                    assert token is not None, "a list longer than a page always ends with a token"
                    assert token.get("completeListSize") == str(len(want))
                    assert int(token.get("cursor")) == cursor
                    cursor += len(page)
                    if not token.text:
                        assert token.get("expirationDate") is None
                        break
                    assert len(page) == PAGE
                    expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
                    assert expires > utcnow() + timedelta(hours=23)
                    root = get({"verb": verb, "resumptionToken": token.text}, prefix)
                assert seen == want, f"{verb} {prefix}"
                if verb == "ListRecords":
                    assert cursor == len(want)


def test_list_records_content(client: Any, seeded: Seeded) -> None:
    seen, _ = walk(client, "ListRecords", metadataPrefix="jpcoar_2.0")
    assert seen == expected(seeded, "jpcoar_2.0")
    root = oai(client, {"verb": "ListRecords", "metadataPrefix": "jpcoar_2.0", "set": "funder:jsps"})
    for record in root.iterfind(".//o:record", NS):
        ident = record.findtext("o:header/o:identifier", namespaces=NS)
        deleted = ident in seeded.deleted
        assert (record.find("o:header", NS).get("status") == "deleted") == deleted
        assert (record.find("o:metadata", NS) is None) == deleted
        assert (record.find("o:about", NS) is not None) == (ident in seeded.with_about)
        if not deleted:
            title = record.find(".//{http://purl.org/dc/elements/1.1/}title").text
            assert title == seeded.titles[ident]


def test_list_that_fits_one_page_has_no_token(client: Any, seeded: Seeded) -> None:
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "funder:jsps"})
    want = expected(seeded, "oai_dc", lambda i: "funder:jsps" in seeded.sets[i])
    assert 0 < len(want) <= PAGE
    assert identifiers(root) == want
    assert token_of(root) is None


def test_deleted_records_appear_in_lists(client: Any, seeded: Seeded) -> None:
    for verb in ("ListIdentifiers", "ListRecords"):
        root = oai(client, {"verb": verb, "metadataPrefix": "oai_dc", "set": "funder"})
        headers = root.findall(".//o:header", NS)
        deleted = {h.findtext("o:identifier", namespaces=NS) for h in headers if h.get("status") == "deleted"}
        assert deleted == {i for i in seeded.deleted if "funder" in seeded.sets[i]}
        assert deleted


@pytest.mark.parametrize("spec", ["source", "source:weko", "funder", "project:JP23K00001", "access:open"])
def test_set_selective_lists(engine: Engine, db_url: str, spec: str) -> None:
    seeded = seed(engine)
    client = create_app(make_config(db_url, page_size=50), engine).test_client()
    for prefix in ("jpcoar_2.0", "oai_dc"):
        root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": prefix, "set": spec})
        want = expected(seeded, prefix, lambda i: spec in seeded.sets[i])
        assert identifiers(root) == want
        for header in root.iterfind(".//o:header", NS):
            assert spec in {e.text for e in header.findall("o:setSpec", NS)}
    # Parent sets hold every record of their children.
    if ":" not in spec:
        children = [s for s in SET_NAMES if s.startswith(spec + ":")]
        union = set()
        for child in children:
            root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": child})
            union |= set(identifiers(root))
        assert union == set(expected(seeded, "oai_dc", lambda i: spec in seeded.sets[i]))


def test_unknown_set_matches_nothing(client: Any) -> None:
    root = oai(client, {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "funder:nobody"})
    assert error_codes(root) == ["noRecordsMatch"]
    assert request_attrs(root)["set"] == "funder:nobody"


def test_date_ranges_at_both_granularities(engine: Engine, db_url: str) -> None:
    seeded = seed(engine)
    client = create_app(make_config(db_url, page_size=100), engine).test_client()
    stamps = seeded.datestamps

    def listed(**args: str) -> list[str]:
        root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "jpcoar_1.0", **args})
        if error_codes(root) == ["noRecordsMatch"]:
            return []
        assert not error_codes(root)
        return identifiers(root)

    def want(keep: Any) -> list[str]:
        return expected(seeded, "jpcoar_1.0", lambda i: keep(stamps[i]))

    day = BASE.date() + timedelta(days=2)
    start = datetime.combine(day, datetime.min.time())
    end = start + timedelta(days=1)
    assert listed(**{"from": day.isoformat(), "until": day.isoformat()}) == want(lambda d: start <= d < end)
    assert listed(until=day.isoformat()) == want(lambda d: d < end)  # the whole of the until day
    assert listed(**{"from": day.isoformat()}) == want(lambda d: d >= start)
    assert want(lambda d: start <= d < end)

    # Second granularity: both bounds inclusive, to the second.
    pivot = stamps[seeded.identifiers[9]]
    assert listed(**{"from": stamp(pivot)})[0] == seeded.identifiers[9]
    assert listed(until=stamp(pivot))[-1] == seeded.identifiers[9]
    assert listed(**{"from": stamp(pivot + timedelta(seconds=1))})[0] != seeded.identifiers[9]
    assert listed(**{"from": stamp(pivot), "until": stamp(pivot)}) == [seeded.identifiers[9]]
    assert listed(until=stamp(pivot - timedelta(seconds=1))) == want(lambda d: d < pivot)

    # Ranges outside every datestamp.
    assert listed(until="2000-01-01") == []
    assert listed(**{"from": "2999-01-01T00:00:00Z"}) == []
    root = oai(client, {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2000-01-01"})
    assert error_codes(root) == ["noRecordsMatch"]
    assert request_attrs(root) == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2000-01-01"}


def test_date_range_is_kept_across_pages(client: Any, seeded: Seeded) -> None:
    lower = BASE + timedelta(days=1)
    upper = BASE + timedelta(days=5)
    seen, tokens = walk(client, "ListRecords", metadataPrefix="oai_dc", **{"from": stamp(lower), "until": stamp(upper)})
    want = expected(seeded, "oai_dc", lambda i: lower <= seeded.datestamps[i] <= upper)
    assert seen == want and len(tokens) >= 2
    assert all(t.get("completeListSize") == str(len(want)) for t in tokens)
