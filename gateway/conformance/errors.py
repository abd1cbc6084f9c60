"""The checks of the error conditions: every OAI-PMH error code, provoked on purpose and expected back.

Bad verbs, bad and repeated arguments, bad dates and granularities, garbage and tampered resumption tokens, unknown
formats and identifiers, selections that match nothing: each must answer its error code, with a valid document and,
for badVerb and badArgument, a `<request>` without attributes.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from gateway.conformance.probe import Probe
from gateway.conformance.protocol import DAY, Response

_ERROR_CODES = {
    "badArgument",
    "badResumptionToken",
    "badVerb",
    "cannotDisseminateFormat",
    "idDoesNotExist",
    "noRecordsMatch",
    "noMetadataFormats",
    "noSetHierarchy",
}
_UNKNOWN_PREFIX = "conformance_check_no_such_format"
_FAR_FUTURE = "2999-01-01"


def expect_error(
    probe: Probe, name: str, params: list[tuple[str, str]], codes: set[str], method: str = "GET"
) -> Response:
    """One request that must fail with one of `codes`, with a valid document (and no echo for badVerb/badArgument)."""
    resp = probe.request(params, method)
    got = resp.errors
    ok = resp.root is not None and bool(set(got) & codes)
    probe.add(name, ok, f"expected {' or '.join(sorted(codes))}, got {resp.describe()}")
    if resp.root is None:
        return resp
    unknown = [c for c in got if c not in _ERROR_CODES]
    if unknown:
        probe.add(f"{name} [error codes]", False, f"codes not defined by OAI-PMH: {unknown}")
    if {"badVerb", "badArgument"} & set(got):
        req = resp.request_element
        attrs = dict(req.attrib) if req is not None else {}
        probe.add(f"{name} [request has no attributes]", not attrs, f"<request> attributes {attrs}" if attrs else "")
    probe.schema_check(name, resp)
    return resp


def error_conditions(probe: Probe, prefix: str, known_id: str | None, token: tuple[str, str] | None) -> None:
    """Every error condition of the protocol, for the format `prefix`, a known record and a real resumption token."""
    e = partial(expect_error, probe)
    e("badVerb: no verb", [], {"badVerb"})
    e("badVerb: unknown verb", [("verb", "ConformanceCheck")], {"badVerb"})
    e("badVerb: repeated verb", [("verb", "Identify"), ("verb", "Identify")], {"badVerb"})
    e("badArgument: unknown argument", [("verb", "Identify"), ("conformanceCheck", "1")], {"badArgument"})
    e(
        "badArgument: repeated argument",
        [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("metadataPrefix", prefix)],
        {"badArgument"},
    )
    e("badArgument: ListIdentifiers without metadataPrefix", [("verb", "ListIdentifiers")], {"badArgument"})
    e("badArgument: ListRecords without metadataPrefix", [("verb", "ListRecords")], {"badArgument"})
    e(
        "badArgument: bad date",
        [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("from", "2001-13-45")],
        {"badArgument"},
    )
    e(
        "badArgument: mixed granularities",
        [
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", prefix),
            ("from", "2001-01-01"),
            ("until", "2001-01-02T00:00:00Z"),
        ],
        {"badArgument"},
    )
    e(
        "badArgument: from later than until",
        [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("from", "2001-01-02"), ("until", "2001-01-01")],
        {"badArgument"},
    )
    if probe.granularity == DAY:
        e(
            "badArgument: seconds granularity to a day-granularity repository",
            [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("from", "2001-01-01T00:00:00Z")],
            {"badArgument"},
        )
    verb, real_token = token if token else ("ListIdentifiers", "conformance-check-token")
    e(
        "badArgument: resumptionToken with another argument",
        [("verb", verb), ("resumptionToken", real_token), ("metadataPrefix", prefix)],
        {"badArgument"},
    )
    e(
        "badArgument: GetRecord without identifier",
        [("verb", "GetRecord"), ("metadataPrefix", prefix)],
        {"badArgument"},
    )
    if known_id:
        e(
            "badArgument: GetRecord without metadataPrefix",
            [("verb", "GetRecord"), ("identifier", known_id)],
            {"badArgument"},
        )
    e(
        "badResumptionToken: garbage",
        [("verb", "ListIdentifiers"), ("resumptionToken", "conformance-check-garbage")],
        {"badResumptionToken"},
    )
    e(
        "badResumptionToken: garbage (ListRecords)",
        [("verb", "ListRecords"), ("resumptionToken", "conformance-check-garbage")],
        {"badResumptionToken"},
    )
    if token:
        tampered = _tamper(real_token)
        e(
            "badResumptionToken: tampered token",
            [("verb", verb), ("resumptionToken", tampered)],
            {"badResumptionToken"},
        )
    else:
        probe.add("badResumptionToken: tampered token", True, "not tested: no list needed a resumptionToken")
    e(
        "cannotDisseminateFormat: ListRecords",
        [("verb", "ListRecords"), ("metadataPrefix", _UNKNOWN_PREFIX)],
        {"cannotDisseminateFormat"},
    )
    e(
        "cannotDisseminateFormat: ListIdentifiers",
        [("verb", "ListIdentifiers"), ("metadataPrefix", _UNKNOWN_PREFIX)],
        {"cannotDisseminateFormat"},
    )
    if known_id:
        e(
            "cannotDisseminateFormat: GetRecord",
            [("verb", "GetRecord"), ("identifier", known_id), ("metadataPrefix", _UNKNOWN_PREFIX)],
            {"cannotDisseminateFormat"},
        )
    missing = unknown_identifier(probe)
    e(
        "idDoesNotExist: GetRecord",
        [("verb", "GetRecord"), ("identifier", missing), ("metadataPrefix", prefix)],
        {"idDoesNotExist"},
    )
    e(
        "idDoesNotExist: ListMetadataFormats",
        [("verb", "ListMetadataFormats"), ("identifier", missing)],
        {"idDoesNotExist"},
    )
    e(
        "noRecordsMatch: from far in the future",
        [("verb", "ListRecords"), ("metadataPrefix", prefix), ("from", _FAR_FUTURE)],
        {"noRecordsMatch"},
    )
    if probe.earliest is not None:
        before = (probe.earliest.date() - timedelta(days=1)).isoformat()
        e(
            "noRecordsMatch: until before earliestDatestamp",
            [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("until", before)],
            {"noRecordsMatch"},
        )
    e("badVerb: over POST", [("verb", "ConformanceCheck")], {"badVerb"}, method="POST")


def unknown_identifier(probe: Probe) -> str:
    if probe.repository_id:
        return f"oai:{probe.repository_id}{probe.delimiter}conformance-check-no-such-item"
    return "oai:conformance-check.invalid:no-such-item"


def _tamper(token: str) -> str:
    """The token with one character in the middle changed (a character that carries data in any encoding)."""
    pos = len(token) // 2
    c = token[pos]
    if c.isdigit():
        new = str((int(c) + 1) % 10)
    elif "a" <= c <= "y" or "A" <= c <= "Y":
        new = chr(ord(c) + 1)
    elif c in "zZ":
        new = chr(ord(c) - 25)
    else:
        new = "A"
    return token[:pos] + new + token[pos + 1 :]
