"""Identify, ListMetadataFormats, ListSets and GetRecord, with their errors; and the seed data valid against the
official schemas.  Every response body is validated against the official OAI-PMH schema set for its metadataPrefix,
and checked for the titles and identifiers of records that were never published."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from lxml import etree
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.db import utcnow
from gateway.models import Setting
from tests.conftest import make_config
from tests.provider.responses import NS, PAGE, error_codes, identifiers, oai, request_attrs, token_of
from tests.support.provider_fixtures import (
    BASE,
    PREFIXES,
    RENDER,
    REPO_ID,
    SET_NAMES,
    Seeded,
    add_published,
    make_source,
)

# ---------------------------------------------------------------------------------------------------------------
# fixture data


def test_fixture_fragments_are_valid_against_official_schemas() -> None:
    from tests.support.official_schemas import official_metadata_schema, official_validate

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
