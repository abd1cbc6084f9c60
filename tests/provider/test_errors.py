"""Protocol errors: bad verbs, every kind of bad argument (each problem reported), unknown formats, hostile raw
query strings, and non-ASCII identifiers echoed escaped."""

from __future__ import annotations

from typing import Any

from tests.provider.responses import error_codes, oai, request_attrs
from tests.support.provider_fixtures import REPO_ID


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
