"""The OAI-PMH provider, end to end: every verb and error, paging, dates, sets, tokens, compression and privacy.

Every response body is validated against the official OAI-PMH schema set for its metadataPrefix, and checked for the
titles and identifiers of records that were never published.
"""

from __future__ import annotations

import base64
import gzip
import json
import urllib.request
import zlib
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask
from lxml import etree
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.db import utcnow
from gateway.models import OaiSet, PublicationChange, Published, Setting
from gateway.provider.tokens import Position, TokenCodec
from tests.conftest import make_config
from tests.official_schemas import OFFICIAL_FILES, assert_valid_response
from tests.provider_fixtures import (
    BASE,
    PREFIXES,
    RENDER,
    REPO_ID,
    SECRET_IDENTIFIER,
    SECRET_TITLE,
    SET_NAMES,
    Seeded,
    add_published,
    make_source,
    seed,
)
from tests.servers import serve_wsgi

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "id": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
PAGE = 5


# ---------------------------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed(engine)


@pytest.fixture
def app(engine: Engine, db_url: str, seeded: Seeded) -> Flask:
    return create_app(make_config(db_url, page_size=PAGE), engine)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


def check_body(body: bytes, prefix: str | None) -> etree._Element:
    """Schema-valid for `prefix`, free of unpublished data; the parsed root."""
    assert SECRET_TITLE.encode() not in body and SECRET_IDENTIFIER.encode() not in body
    assert_valid_response(body, prefix if prefix in OFFICIAL_FILES else None)
    return etree.fromstring(body)


def check_http(headers: Any) -> None:
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "Accept-Encoding" in headers.get("Vary", "")


def oai(client: Any, args: Any = None, *, prefix: str | None = None, raw: str | None = None) -> etree._Element:
    """GET through the test client; `prefix` names the schema set when the arguments do not (resumption)."""
    if raw is not None:
        response = client.get("/oai", environ_overrides={"QUERY_STRING": raw})
    else:
        response = client.get("/oai", query_string=args)
    assert response.status_code == 200
    check_http(response.headers)
    if prefix is None and isinstance(args, dict):
        prefix = args.get("metadataPrefix")
    return check_body(response.data, prefix)


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall("o:error", NS)]


def request_attrs(root: etree._Element) -> dict[str, str]:
    return dict(root.find("o:request", NS).attrib)


def identifiers(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//o:header/o:identifier", NS)]


def token_of(root: etree._Element) -> etree._Element | None:
    return root.find(".//o:resumptionToken", NS)


def expected(seeded: Seeded, prefix: str, keep: Any = None) -> list[str]:
    """Identifiers a list in `prefix` must return, in id order: deleted ones in every format."""
    return [
        i
        for i in seeded.identifiers
        if (i in seeded.deleted or prefix in seeded.formats[i]) and (keep is None or keep(i))
    ]


def walk(client: Any, verb: str, **args: str) -> tuple[list[str], list[etree._Element]]:
    """Follow a list to its end; the identifiers in order and the resumptionToken element of every page."""
    prefix = args.get("metadataPrefix")
    root = oai(client, {"verb": verb, **args})
    seen = identifiers(root)
    tokens = []
    while (token := token_of(root)) is not None:
        tokens.append(token)
        if not token.text:
            break
        root = oai(client, {"verb": verb, "resumptionToken": token.text}, prefix=prefix)
        assert request_attrs(root) == {"verb": verb, "resumptionToken": token.text}
        seen += identifiers(root)
    return seen, tokens


# ---------------------------------------------------------------------------------------------------------------
# fixture data


def test_fixture_fragments_are_valid_against_official_schemas() -> None:
    from tests.official_schemas import official_metadata_schema, official_validate

    for prefix in PREFIXES:
        fragment = etree.fromstring(RENDER[prefix]("T & <x>", "a/1"))
        ok, log = official_validate(official_metadata_schema(prefix), fragment)
        assert ok, f"{prefix}: {log}"


# ---------------------------------------------------------------------------------------------------------------
# Identify, ListMetadataFormats, ListSets


def test_identify(client: Any, seeded: Seeded, app: Flask) -> None:
    root = oai(client, {"verb": "Identify"})
    assert request_attrs(root) == {"verb": "Identify"}
    ident = root.find("o:Identify", NS)
    get = lambda name: [e.text for e in ident.findall(f"o:{name}", NS)]  # noqa: E731
    assert get("repositoryName") == ["Test Gateway"]
    assert get("baseURL") == ["http://127.0.0.1:8080/oai"]
    assert get("protocolVersion") == ["2.0"]
    assert get("adminEmail") == ["rdm@test.ac.jp"]
    assert get("earliestDatestamp") == [min(seeded.datestamps.values()).strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert get("deletedRecord") == ["persistent"]
    assert get("granularity") == ["YYYY-MM-DDThh:mm:ssZ"]
    assert get("compression") == ["gzip", "deflate"]
    desc = ident.find("o:description/id:oai-identifier", NS)
    assert [e.text for e in desc] == ["oai", REPO_ID, ":", seeded.identifiers[0]]
    terms = ident.find("o:description/{http://www.openarchives.org/OAI/2.0/oai_dc/}dc", NS)
    lifetime = app.extensions["gateway"].config.repository.token_lifetime
    assert f"valid for {lifetime} seconds" in terms.findtext("{http://purl.org/dc/elements/1.1/}description")
    response_date = root.find("o:responseDate", NS).text
    assert abs(datetime.strptime(response_date, "%Y-%m-%dT%H:%M:%SZ") - utcnow()) < timedelta(minutes=1)


def test_identify_several_admins_and_escaping(engine: Engine, db_url: str) -> None:
    cfg = make_config(db_url, name='R&D <Data> "Gateway"', admin_email=["a@test.ac.jp", "b@test.ac.jp"])
    root = oai(create_app(cfg, engine).test_client(), {"verb": "Identify"})
    ident = root.find("o:Identify", NS)
    assert ident.find("o:repositoryName", NS).text == 'R&D <Data> "Gateway"'
    assert [e.text for e in ident.findall("o:adminEmail", NS)] == ["a@test.ac.jp", "b@test.ac.jp"]


def test_identify_before_anything_is_published_is_stable(engine: Engine, db_url: str) -> None:
    cfg = make_config(db_url)
    first = oai(create_app(cfg, engine).test_client(), {"verb": "Identify"})
    again = oai(create_app(cfg, engine).test_client(), {"verb": "Identify"})
    stamp = first.find("o:Identify/o:earliestDatestamp", NS).text
    assert again.find("o:Identify/o:earliestDatestamp", NS).text == stamp
    with Session(engine) as session:
        assert session.get(Setting, "earliest_datestamp").value == stamp
    sample = first.find(".//id:sampleIdentifier", NS).text
    assert sample.startswith(f"oai:{REPO_ID}:")


def test_list_metadata_formats(client: Any, seeded: Seeded, engine: Engine) -> None:
    from gateway.crosswalk import formats

    known = formats() if callable(formats) else formats
    root = oai(client, {"verb": "ListMetadataFormats"})
    entries = root.findall(".//o:metadataFormat", NS)
    assert [e.findtext("o:metadataPrefix", namespaces=NS) for e in entries] == list(known)
    for entry in entries:
        fmt = known[entry.findtext("o:metadataPrefix", namespaces=NS)]
        assert entry.findtext("o:metadataNamespace", namespaces=NS) == fmt.namespace
        assert entry.findtext("o:schema", namespaces=NS) == fmt.schema
    assert set(known) == set(PREFIXES)

    only_jpcoar = seeded.identifiers[6]  # record 7 is stored in jpcoar_2.0 only
    root = oai(client, {"verb": "ListMetadataFormats", "identifier": only_jpcoar})
    assert [e.text for e in root.iterfind(".//o:metadataPrefix", NS)] == ["jpcoar_2.0"]
    assert request_attrs(root) == {"verb": "ListMetadataFormats", "identifier": only_jpcoar}

    deleted = sorted(seeded.deleted)[0]
    root = oai(client, {"verb": "ListMetadataFormats", "identifier": deleted})
    assert [e.text for e in root.iterfind(".//o:metadataPrefix", NS)] == list(known)

    missing = f"oai:{REPO_ID}:weko/9999"
    root = oai(client, {"verb": "ListMetadataFormats", "identifier": missing})
    assert error_codes(root) == ["idDoesNotExist"]
    assert request_attrs(root) == {"verb": "ListMetadataFormats", "identifier": missing}

    with Session(engine) as session:
        bare = add_published(session, make_source(session, "weko"), 500, BASE, prefixes=())
        session.commit()
    root = oai(client, {"verb": "ListMetadataFormats", "identifier": bare})
    assert error_codes(root) == ["noMetadataFormats"]


def test_list_sets_pages_through_every_set(client: Any) -> None:
    root = oai(client, {"verb": "ListSets"})
    seen: dict[str, str] = {}
    cursors = []
    while True:
        for entry in root.iterfind(".//o:set", NS):
            spec = entry.findtext("o:setSpec", namespaces=NS)
            assert spec not in seen
            seen[spec] = entry.findtext("o:setName", namespaces=NS)
        token = token_of(root)
        assert token is not None
        cursors.append(int(token.get("cursor")))
        assert token.get("completeListSize") == str(len(SET_NAMES))
        if not token.text:
            break
        root = oai(client, {"verb": "ListSets", "resumptionToken": token.text})
    assert seen == SET_NAMES
    assert cursors == list(range(0, len(SET_NAMES), PAGE))


def test_no_set_hierarchy(engine: Engine, db_url: str) -> None:
    with Session(engine) as session:
        add_published(session, make_source(session, "weko"), 1, BASE, sets=set())
        session.commit()
    client = create_app(make_config(db_url), engine).test_client()
    assert error_codes(oai(client, {"verb": "ListSets"})) == ["noSetHierarchy"]
    for verb in ("ListIdentifiers", "ListRecords"):
        root = oai(client, {"verb": verb, "metadataPrefix": "oai_dc", "set": "source"})
        assert error_codes(root) == ["noSetHierarchy"]
        assert request_attrs(root) == {"verb": verb, "metadataPrefix": "oai_dc", "set": "source"}
        # Without a set the one record is served.
        assert len(identifiers(oai(client, {"verb": verb, "metadataPrefix": "oai_dc"}))) == 1


# ---------------------------------------------------------------------------------------------------------------
# GetRecord


def test_get_record_in_every_format(client: Any, seeded: Seeded) -> None:
    live = next(i for i in seeded.live() if i in seeded.with_about and len(seeded.formats[i]) == 3)
    plain = next(i for i in seeded.live() if i not in seeded.with_about)
    for prefix in PREFIXES:
        root = oai(client, {"verb": "GetRecord", "identifier": live, "metadataPrefix": prefix})
        assert request_attrs(root) == {"verb": "GetRecord", "identifier": live, "metadataPrefix": prefix}
        record = root.find("o:GetRecord/o:record", NS)
        header = record.find("o:header", NS)
        assert header.get("status") is None
        assert header.findtext("o:identifier", namespaces=NS) == live
        assert header.findtext("o:datestamp", namespaces=NS) == seeded.datestamps[live].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert {e.text for e in header.findall("o:setSpec", NS)} == seeded.sets[live]
        metadata = record.find("o:metadata", NS)[0]
        stored = RENDER[prefix](seeded.titles[live], live.rsplit(":", 1)[1])
        canonical = {"method": "c14n", "exclusive": True}
        assert etree.tostring(metadata, **canonical) == etree.tostring(etree.fromstring(stored), **canonical)
        about = record.find("o:about", NS)
        assert about is not None and about[0].tag == "{http://www.openarchives.org/OAI/2.0/provenance}provenance"

        root = oai(client, {"verb": "GetRecord", "identifier": plain, "metadataPrefix": prefix})
        assert root.find("o:GetRecord/o:record/o:about", NS) is None


def test_get_record_deleted_and_errors(client: Any, seeded: Seeded) -> None:
    for deleted in sorted(seeded.deleted):
        for prefix in PREFIXES:
            root = oai(client, {"verb": "GetRecord", "identifier": deleted, "metadataPrefix": prefix})
            record = root.find("o:GetRecord/o:record", NS)
            assert record.find("o:header", NS).get("status") == "deleted"
            assert record.find("o:metadata", NS) is None and record.find("o:about", NS) is None

    only_jpcoar = seeded.identifiers[6]
    root = oai(client, {"verb": "GetRecord", "identifier": only_jpcoar, "metadataPrefix": "oai_dc"})
    assert error_codes(root) == ["cannotDisseminateFormat"]
    assert request_attrs(root) == {"verb": "GetRecord", "identifier": only_jpcoar, "metadataPrefix": "oai_dc"}

    root = oai(client, {"verb": "GetRecord", "identifier": only_jpcoar, "metadataPrefix": "marc21"})
    assert error_codes(root) == ["cannotDisseminateFormat"]

    for missing in (f"oai:{REPO_ID}:weko/9999", "urn:x:1"):
        root = oai(client, {"verb": "GetRecord", "identifier": missing, "metadataPrefix": "jpcoar_2.0"})
        assert error_codes(root) == ["idDoesNotExist"]


# ---------------------------------------------------------------------------------------------------------------
# lists: paging, dates, sets


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


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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


# ---------------------------------------------------------------------------------------------------------------
# errors


def test_bad_verb(client: Any) -> None:
    for args in (
        {},
        {"verb": "nastyVerb"},
        [("verb", "Identify"), ("verb", "Identify")],
        {"verb": ""},
        {"verb": "identify"},
        {"verb": "Identify" * 200},
        {"metadataPrefix": "oai_dc"},
    ):
        root = oai(client, args)
        assert error_codes(root) == ["badVerb"], args
        assert request_attrs(root) == {}, args


BAD_ARGUMENTS: list[Any] = [
    {"verb": "Identify", "metadataPrefix": "oai_dc"},  # not an argument of the verb
    {"verb": "Identify", "bogus": "1"},
    {"verb": "ListSets", "set": "source"},
    {"verb": "ListMetadataFormats", "metadataPrefix": "oai_dc"},
    [("verb", "ListMetadataFormats"), ("identifier", "oai:a.b:1"), ("identifier", "oai:a.b:2")],  # repeated
    [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")],
    {"verb": "GetRecord", "identifier": f"oai:{REPO_ID}:weko/0001"},  # missing metadataPrefix
    {"verb": "GetRecord", "metadataPrefix": "oai_dc"},  # missing identifier
    {"verb": "GetRecord"},
    {"verb": "ListRecords"},
    {"verb": "ListIdentifiers", "set": "source"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-13-01"},  # malformed dates
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-02-30"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2024-01-01T00:00:00"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2024-01-01T00:00:00.5Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2024-01-01T25:00:00Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01T00:00Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "２０２４-01-01"},  # non-ASCII digits
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": ""},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2024-01-01", "until": "2024-01-02T00:00:00Z"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2024-01-02", "until": "2024-01-01"},
    {
        "verb": "ListIdentifiers",
        "metadataPrefix": "oai_dc",
        "from": "2024-01-01T00:00:01Z",
        "until": "2024-01-01T00:00:00Z",
    },
    {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},  # token not exclusive
    {"verb": "ListSets", "resumptionToken": "x", "set": "source"},
    {"verb": "ListIdentifiers", "resumptionToken": "x", "from": "2024-01-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "bad set"},  # syntax
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "source:"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": ":source"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": ""},
    {"verb": "ListRecords", "metadataPrefix": "oai dc"},
    {"verb": "ListRecords", "metadataPrefix": ""},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "no scheme here"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:<x>:1"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ""},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:a.b:" + "x" * 5000},
    {"verb": "ListMetadataFormats", "identifier": "oai:a.b:x\x01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "s" * 300},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc\u0000"},
]


def test_bad_arguments(client: Any) -> None:
    for args in BAD_ARGUMENTS:
        root = oai(client, args)
        codes = error_codes(root)
        assert codes and set(codes) == {"badArgument"}, args
        assert request_attrs(root) == {}, args


def test_bad_arguments_report_every_problem(client: Any) -> None:
    root = oai(client, {"verb": "ListRecords", "from": "x", "until": "y", "foo": "1"})
    assert error_codes(root) == ["badArgument"] * 4  # foo, missing metadataPrefix, from, until


def test_unknown_metadata_prefix(client: Any) -> None:
    for verb in ("ListRecords", "ListIdentifiers"):
        root = oai(client, {"verb": verb, "metadataPrefix": "marc21"})
        assert error_codes(root) == ["cannotDisseminateFormat"]
        assert request_attrs(root) == {"verb": verb, "metadataPrefix": "marc21"}


def test_hostile_raw_requests_are_protocol_errors(client: Any) -> None:
    cases = {
        "verb=Identify%FF": ["badVerb"],
        "verb=%C3%28": ["badVerb"],
        "verb=Identify&x=%FF%FE": ["badArgument"],
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Aa.b%3A%FF": ["badArgument"],
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Aa.b%3A%00": ["badArgument"],
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Aa.b%3Ax%0Ay": ["badArgument"],
        "verb=ListRecords&metadataPrefix=oai_dc&set=a%1Bb": ["badArgument"],
        "verb=ListRecords&metadataPrefix=oai_%EF%BF%BE": ["badArgument"],
        "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01%00": ["badArgument"],
        "verb=ListRecords&resumptionToken=%00%01%02": ["badResumptionToken"],
        "verb=ListRecords&resumptionToken=" + "A" * 10000: ["badResumptionToken"],
        "verb=ListRecords&resumptionToken=%FF.%FF": ["badResumptionToken"],
        "verb=ListRecords&resumptionToken=": ["badResumptionToken"],
        "verb=ListSets&resumptionToken=..": ["badResumptionToken"],
        "verb=Identify&" + "&".join(f"a{i}=1" for i in range(200)): ["badVerb"],
        "verb=Identify&%00=1": ["badArgument"],
        "verb=Identify;x=1": ["badVerb"],
        "%": ["badVerb"],
        "&&&=&=": ["badVerb"],
    }
    for query, codes in cases.items():
        root = oai(client, raw=query)
        assert error_codes(root) == codes, query
        attrs = request_attrs(root)
        if codes[0] in ("badVerb", "badArgument"):
            assert attrs == {}, query
        else:
            assert attrs.get("resumptionToken", "") in query
    # Raw bytes that are not UTF-8 at all (not even percent-encoded).
    root = oai(client, raw=b"verb=Identify\xff\xfe".decode("latin-1"))
    assert error_codes(root) == ["badVerb"]
    root = oai(client, raw=b"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:a.b:\xc3".decode("latin-1"))
    assert error_codes(root) == ["badArgument"]


def test_valid_non_ascii_identifier_is_echoed_escaped(client: Any) -> None:
    ident = "oai:a.b:データ&x='y'"
    root = oai(client, {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ident})
    assert error_codes(root) == ["idDoesNotExist"]
    assert request_attrs(root)["identifier"] == ident


# ---------------------------------------------------------------------------------------------------------------
# resumption tokens


def first_token(client: Any, verb: str = "ListIdentifiers", **args: str) -> str:
    root = oai(client, {"verb": verb, **({"metadataPrefix": "oai_dc"} if verb != "ListSets" else {}), **args})
    token = token_of(root)
    assert token is not None and token.text
    return token.text


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_bad_token(client: Any, verb: str, token: str) -> None:
    root = oai(client, {"verb": verb, "resumptionToken": token})
    assert error_codes(root) == ["badResumptionToken"], token
    assert not root.findall(".//o:header", NS) and not root.findall(".//o:set", NS)


def test_tampered_tokens_are_refused(client: Any) -> None:
    token = first_token(client, set="source")
    head, sig = token.split(".")
    payload = json.loads(_unb64(head))
    # Widening the selection, rewinding or editing counts all break the signature.
    for change in (
        {"set_spec": None},
        {"last": 0},
        {"metadata_prefix": "jpcoar_2.0"},
        {"exp": payload["exp"] + 10**6},
        {"verb": "ListRecords"},
    ):
        forged = _b64(json.dumps({**payload, **change}, separators=(",", ":"), sort_keys=True).encode())
        assert_bad_token(client, "ListIdentifiers", f"{forged}.{sig}")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert_bad_token(client, "ListIdentifiers", f"{head}.{flipped}")
    for garbage in ("garbage", "abc.def", head, f"{head}.", f".{sig}", token + "x", "x" + token, "%%%", "1.2.3"):
        assert_bad_token(client, "ListIdentifiers", garbage)
    # The untouched token still works.
    root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
    assert not error_codes(root)


def test_wrong_verb_tokens_are_refused(client: Any) -> None:
    identifiers_token = first_token(client, "ListIdentifiers")
    records_token = first_token(client, "ListRecords")
    sets_token = first_token(client, "ListSets")
    assert_bad_token(client, "ListRecords", identifiers_token)
    assert_bad_token(client, "ListIdentifiers", records_token)
    assert_bad_token(client, "ListRecords", sets_token)
    assert_bad_token(client, "ListSets", records_token)
    for verb in ("Identify", "GetRecord", "ListMetadataFormats"):
        root = oai(client, {"verb": verb, "resumptionToken": records_token})
        assert set(error_codes(root)) == {"badArgument"}


def test_expired_and_foreign_tokens_are_refused(engine: Engine, db_url: str, seeded: Seeded) -> None:
    cfg = make_config(db_url, page_size=PAGE, token_secret="one secret", token_lifetime=60)
    client = create_app(cfg, engine).test_client()
    position = Position("ListRecords", "oai_dc", None, None, None, 5, 5, 18)
    codec = TokenCodec(b"one secret", 60)
    fresh, _ = codec.encode(position, utcnow())
    assert not error_codes(oai(client, {"verb": "ListRecords", "resumptionToken": fresh}, prefix="oai_dc"))
    expired, _ = codec.encode(position, utcnow() - timedelta(seconds=61))
    assert_bad_token(client, "ListRecords", expired)
    foreign, _ = TokenCodec(b"another secret", 60).encode(position, utcnow())
    assert_bad_token(client, "ListRecords", foreign)
    # A token from another gateway (other secret) is refused even when its content is plausible.
    other = create_app(make_config(db_url, page_size=PAGE, token_secret="two secret"), engine).test_client()
    assert_bad_token(other, "ListRecords", fresh)
    # Signed but nonsensical payloads are refused, not crashed on.
    for odd in (
        Position("ListRecords", None, None, None, None, 5, 5, 18),
        Position("ListRecords", "oai_dc", None, "not a date", None, 5, 5, 18),
        Position("ListRecords", "oai_dc", None, None, None, "text", 5, 18),
        Position("ListSets", None, None, None, None, 7, 5, 18),
    ):
        token, _ = codec.encode(odd, utcnow())
        assert_bad_token(client, odd.verb, token)


def test_generated_secret_is_stored_and_shared(engine: Engine, db_url: str, seeded: Seeded) -> None:
    first = create_app(make_config(db_url, page_size=PAGE), engine).test_client()
    token = first_token(first, "ListRecords")
    with Session(engine) as session:
        secret = session.get(Setting, "token_secret").value
    assert len(secret) >= 32
    second = create_app(make_config(db_url, page_size=PAGE), engine).test_client()
    root = oai(second, {"verb": "ListRecords", "resumptionToken": token}, prefix="oai_dc")
    assert not error_codes(root)
    with Session(engine) as session:
        assert session.get(Setting, "token_secret").value == secret


def test_tokens_are_idempotent(client: Any) -> None:
    token = first_token(client, "ListRecords", metadataPrefix="jpcoar_2.0")
    one = identifiers(oai(client, {"verb": "ListRecords", "resumptionToken": token}, prefix="jpcoar_2.0"))
    two = identifiers(oai(client, {"verb": "ListRecords", "resumptionToken": token}, prefix="jpcoar_2.0"))
    assert one == two and len(one) == PAGE


def test_changes_during_a_walk_skip_and_repeat_nothing(client: Any, seeded: Seeded, engine: Engine) -> None:
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    seen = identifiers(root)
    token = token_of(root).text
    root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
    seen += identifiers(root)
    token = token_of(root).text
    served, pending = seen[0], expected(seeded, "oai_dc")[len(seen) + 2]
    # Both records change (datestamp bumped to now), and new records are published, while the harvester waits.
    with Session(engine) as session:
        touch(session, [served, pending])
        source = make_source(session, "weko")
        added = [add_published(session, source, n, utcnow()) for n in (101, 102)]
        session.commit()
    while token:
        root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
        seen += identifiers(root)
        token = (token_of(root).text if token_of(root) is not None else None) or None
    assert len(seen) == len(set(seen))
    assert seen == expected(seeded, "oai_dc") + added


def touch(session: Session, identifiers: list[str]) -> None:
    """Change published records as a publication does: a new datestamp and a new change number."""
    mark = PublicationChange(made_at=utcnow())
    session.add(mark)
    session.flush()
    session.execute(
        update(Published).where(Published.oai_identifier.in_(identifiers)).values(datestamp=utcnow(), change=mark.id)
    )


def test_record_changed_out_of_range_during_a_walk(client: Any, seeded: Seeded, engine: Engine) -> None:
    until = stamp(BASE + timedelta(days=5))
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": until})
    seen = identifiers(root)
    token = token_of(root).text
    in_list = expected(seeded, "oai_dc", lambda i: seeded.datestamps[i] <= BASE + timedelta(days=5))
    beyond = expected(seeded, "oai_dc", lambda i: seeded.datestamps[i] > BASE + timedelta(days=5))
    assert beyond and len(in_list) > len(seen) + 1
    moved, served_moved = in_list[-1], in_list[0]
    # The last record of the list and one already served change (new datestamp: now, far past `until`), records
    # outside the range change too, and a record is added, while the harvester waits.
    with Session(engine) as session:
        changed = [moved, served_moved, beyond[0]]
        touch(session, changed)
        added = add_published(session, make_source(session, "weko"), 101, utcnow())
        session.commit()
    while token:
        root = oai(client, {"verb": "ListIdentifiers", "resumptionToken": token}, prefix="oai_dc")
        seen += identifiers(root)
        token = (token_of(root).text if token_of(root) is not None else None) or None
    # Every record of the list when the walk began is served exactly once, the changed one with its new datestamp;
    # records outside the range that changed during the walk (never in the list) may come along; new ones do not.
    assert len(seen) == len(set(seen))
    assert set(in_list) <= set(seen) <= set(in_list) | {beyond[0]}
    assert added not in seen
    assert [i for i in seen if i in in_list] == in_list
    # A walk begun after the changes uses the range as it is now (the first page is counted exactly).
    root = oai(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": until})
    assert token_of(root).get("completeListSize") == str(len(in_list) - 2)


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


def test_secret_creation_is_race_safe(engine: Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from gateway.db import session_factory
    from gateway.provider.tokens import server_secret

    sessions = session_factory(engine)
    with ThreadPoolExecutor(max_workers=6) as pool:
        secrets = set(pool.map(lambda _: server_secret(sessions, None), range(12)))
    assert len(secrets) == 1
    with Session(engine) as session:
        assert session.get(Setting, "token_secret").value.encode() == secrets.pop()
    assert server_secret(sessions, "configured") == b"configured"
