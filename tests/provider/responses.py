"""Asking the provider and reading its answers, every answer checked: valid against the official OAI-PMH schema set of
its metadataPrefix, and free of the titles and identifiers of records that were never published.

The first group reads through Flask's test client (`oai`, `walk`) and over HTTP (`check_body`); the second
(`parse`, `errors_of`, `headers_of`, `token_text`) reads bodies of any origin for the tests at scale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from tests.support.official_schemas import OFFICIAL_FILES, assert_valid_response
from tests.support.provider_fixtures import SECRET_IDENTIFIER, SECRET_TITLE, Seeded

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "id": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
PAGE = 5


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



def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def first_token(client: Any, verb: str = "ListIdentifiers", **args: str) -> str:
    root = oai(client, {"verb": verb, **({"metadataPrefix": "oai_dc"} if verb != "ListSets" else {}), **args})
    token = token_of(root)
    assert token is not None and token.text
    return token.text


def parse(body: bytes) -> etree._Element:
    assert SECRET_TITLE.encode() not in body and SECRET_IDENTIFIER.encode() not in body
    return etree.fromstring(body)


def errors_of(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall("o:error", NS)]


def headers_of(root: etree._Element) -> list[tuple[str, bool]]:
    return [
        (h.findtext("o:identifier", namespaces=NS), h.get("status") == "deleted")
        for h in root.iterfind(".//o:header", NS)
    ]


def token_text(root: etree._Element) -> str | None:
    token = root.find(".//o:resumptionToken", NS)
    return token.text if token is not None and token.text else None
