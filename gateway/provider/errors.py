"""OAI-PMH error conditions (spec section 3.6) as one exception type."""

from __future__ import annotations

# Every code the protocol defines; nothing else may appear in an <error code="...">.
CODES = frozenset(
    {
        "badArgument",
        "badResumptionToken",
        "badVerb",
        "cannotDisseminateFormat",
        "idDoesNotExist",
        "noRecordsMatch",
        "noMetadataFormats",
        "noSetHierarchy",
    }
)


class ProtocolError(Exception):
    """One or more OAI-PMH errors for the current request.

    `echo` decides what the response's <request> element carries: the spec (3.6) wants no attributes for badVerb and
    badArgument, and for the other errors only argument values that are themselves valid.
    """

    def __init__(self, errors: list[tuple[str, str]], *, echo: dict[str, str] | None = None) -> None:
        for code, _ in errors:
            if code not in CODES:
                raise ValueError(f"not an OAI-PMH error code: {code}")
        super().__init__("; ".join(f"{code}: {message}" for code, message in errors))
        self.errors = errors
        self.echo = echo

    @classmethod
    def one(cls, code: str, message: str, *, echo: dict[str, str] | None = None) -> ProtocolError:
        return cls([(code, message)], echo=echo)
