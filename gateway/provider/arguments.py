"""Reading and validating the arguments of an OAI-PMH request (spec sections 3.1.1, 3.3, 3.6 and 4).

Everything here works on untrusted text: values are checked for length and characters before they are used or echoed,
so an odd request always ends in a protocol error and never in an exception.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from gateway.provider.errors import ProtocolError

# verb -> (required arguments, optional arguments, exclusive argument)
VERBS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken"),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken"),
}
LIST_VERBS = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})

MAX_FIELDS = 32
MAX_IDENTIFIER = 1300  # the width of published.oai_identifier
MAX_SET_SPEC = 255  # the width of published_sets.set_spec
MAX_PREFIX = 32  # the width of published_formats.prefix
MAX_TOKEN = 4096

# Patterns of the OAI-PMH schema's own simple types, so that whatever is accepted can be echoed validly.
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(?::[A-Za-z0-9\-_.!~*'()]+)*")
# An identifier is a URI (xs:anyURI): a scheme, a colon and characters that need no escaping in XML or URIs.
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SECOND = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_NAME = re.compile(r"[A-Za-z]{1,32}")


@dataclass(frozen=True)
class DateBound:
    """A from/until argument: its text (echoed and carried in tokens), its instant and its granularity."""

    text: str
    instant: datetime
    day: bool

    def upper_exclusive(self) -> datetime:
        # A day-granularity until covers the whole day; a seconds one covers that second.
        return self.instant + (timedelta(days=1) if self.day else timedelta(seconds=1))


@dataclass(frozen=True)
class OaiRequest:
    verb: str
    identifier: str | None = None
    metadata_prefix: str | None = None
    from_: DateBound | None = None
    until: DateBound | None = None
    set_spec: str | None = None
    resumption_token: str | None = None

    def echo(self) -> dict[str, str]:
        """The attributes of the response's <request> element: the arguments as received (all valid by now)."""
        attrs = {"verb": self.verb}
        if self.resumption_token is not None:
            if is_clean(self.resumption_token, MAX_TOKEN):
                attrs["resumptionToken"] = self.resumption_token
            return attrs
        if self.identifier is not None:
            attrs["identifier"] = self.identifier
        if self.metadata_prefix is not None:
            attrs["metadataPrefix"] = self.metadata_prefix
        if self.from_ is not None:
            attrs["from"] = self.from_.text
        if self.until is not None:
            attrs["until"] = self.until.text
        if self.set_spec is not None:
            attrs["set"] = self.set_spec
        return attrs


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    """Split an application/x-www-form-urlencoded string (a query string or a POST body) into pairs.

    Invalid UTF-8 becomes U+FFFD, which no valid value contains, so it is reported as a bad value later rather than
    failing here or being silently dropped.
    """
    text = raw.decode("utf-8", "replace")
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace", max_num_fields=MAX_FIELDS)
    except ValueError:
        # Too many fields: certainly not a protocol request; a repeated-argument error is the honest answer.
        return [("verb", ""), ("verb", "")]


def is_clean(value: str, limit: int) -> bool:
    """True when `value` is short enough and has no control, surrogate, non- or replacement characters."""
    if not value or len(value) > limit:
        return False
    for char in value:
        if char in "\ufffd\ufffe\uffff" or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            return False
    return True


def _describe(name: str) -> str:
    return f"'{name}'" if _NAME.fullmatch(name) else "an unnamed or unreadable argument"


def parse_date(text: str) -> DateBound | None:
    """A UTCdatetime of day or second granularity, or None when the text is neither."""
    day = _DAY.fullmatch(text)
    second = None if day else _SECOND.fullmatch(text)
    match = day or second
    if match is None:
        return None
    try:
        instant = datetime(*(int(part) for part in match.groups()))  # type: ignore[misc]
    except ValueError:
        return None
    return DateBound(text=text, instant=instant, day=day is not None)


def parse_request(pairs: list[tuple[str, str]]) -> OaiRequest:
    """Validate the arguments of one request; raise ProtocolError (badVerb or badArgument) when they do not hold."""
    verbs = [value for name, value in pairs if name == "verb"]
    if not verbs:
        raise ProtocolError.one("badVerb", "The verb argument is missing.")
    if len(verbs) > 1:
        raise ProtocolError.one("badVerb", "The verb argument is repeated.")
    verb = verbs[0]
    if verb not in VERBS:
        raise ProtocolError.one("badVerb", "The value of the verb argument is not a legal OAI-PMH verb.")

    required, optional, exclusive = VERBS[verb]
    allowed = required | optional | ({exclusive} if exclusive else set())
    errors: list[str] = []
    values: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name == "verb":
            continue
        if name not in allowed:
            errors.append(f"{_describe(name)} is not an argument of {verb}.")
            continue
        if name in seen:
            if f"'{name}' is repeated." not in errors:
                errors.append(f"'{name}' is repeated.")
            continue
        seen.add(name)
        values[name] = value

    if exclusive and exclusive in values:
        if len(values) > 1:
            errors.append(f"{exclusive} is an exclusive argument: only verb may accompany it.")
        elif not errors:
            # The token's own validity is judged later, as badResumptionToken; here it only has to be present.
            return OaiRequest(verb=verb, resumption_token=values[exclusive])
    else:
        for name in sorted(required - values.keys()):
            errors.append(f"The required argument '{name}' is missing.")

    request = _checked_values(verb, values, errors)
    if errors:
        raise ProtocolError([("badArgument", message) for message in errors])
    return request


def _checked_values(verb: str, values: dict[str, str], errors: list[str]) -> OaiRequest:
    identifier = values.get("identifier")
    if identifier is not None and not (is_clean(identifier, MAX_IDENTIFIER) and _IDENTIFIER.fullmatch(identifier)):
        errors.append("The identifier argument does not have the syntax of a URI.")
        identifier = None

    prefix = values.get("metadataPrefix")
    if prefix is not None and not (is_clean(prefix, MAX_PREFIX) and _PREFIX.fullmatch(prefix)):
        errors.append("The metadataPrefix argument has an illegal syntax.")
        prefix = None

    set_spec = values.get("set")
    if set_spec is not None and not (is_clean(set_spec, MAX_SET_SPEC) and _SET_SPEC.fullmatch(set_spec)):
        errors.append("The set argument is not a setSpec.")
        set_spec = None

    bounds: dict[str, DateBound | None] = {}
    for name in ("from", "until"):
        text = values.get(name)
        bound = parse_date(text) if text is not None and len(text) <= 20 else None
        if text is not None and bound is None:
            errors.append(f"The {name} argument is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDThh:mm:ssZ).")
        bounds[name] = bound
    start, end = bounds["from"], bounds["until"]
    if start is not None and end is not None:
        if start.day != end.day:
            errors.append("The from and until arguments have different granularities.")
        elif start.instant > end.instant:
            errors.append("The from argument is later than the until argument.")

    return OaiRequest(
        verb=verb, identifier=identifier, metadata_prefix=prefix, from_=start, until=end, set_spec=set_spec
    )
