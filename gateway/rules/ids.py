"""Shape and checksum checks of identifiers (pure functions, compiled patterns, no per-call set-up)."""

from __future__ import annotations

import re
from datetime import date

_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_ISNI = re.compile(r"^\d{15}[\dX]$")
_ROR = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}\d{2}$")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_URI = re.compile(r"^https://doi\.org/10\.\d{4,9}/\S+$")
_HDL_URI = re.compile(r"^https?://hdl\.handle\.net/[^/\s]+/\S+$")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
_ERAD = re.compile(r"^\d{8}$")
_ISSN = re.compile(r"^\d{4}-?\d{3}[\dX]$")
_ISBN = re.compile(r"^[\d-]{9,16}[\dX]$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# AMED's numbers carry lower-case program letters (JP21km0908001: JP + the first 11 characters of the 課題管理番号),
# KAKENHI's upper-case ones (JP22H00001).
_JGN = re.compile(r"^JP[0-9A-Za-z]{4,}$")
_JGN_FOOD_SAFETY = re.compile(r"^JPCACAA\d{8}$")
# BCP 47 shape: language, optional script (4 letters), region (2 letters or 3 digits), variants, extensions.
_LANG = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|\d{3}))?(-(?:[0-9A-Za-z]{5,8}|\d[0-9A-Za-z]{3}))*"
    r"(-[0-9A-WY-Za-wy-z](-[0-9A-Za-z]{2,8})+)*$"
)


def mod11_2(digits: str) -> str:
    """ISO 7064 mod 11-2 check character over a string of digits (ORCID, ISNI)."""
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def orcid_ok(value: str) -> bool:
    if not _ORCID.match(value):
        return False
    digits = value.replace("-", "")
    return mod11_2(digits[:-1]) == digits[-1]


def isni_ok(value: str) -> bool:
    value = value.replace(" ", "")
    return bool(_ISNI.match(value)) and mod11_2(value[:-1]) == value[-1]


def ror_ok(value: str) -> bool:
    """A ROR id: 0 + 6 Crockford base32 characters + 2-digit ISO 7064 mod 97-10 checksum of the decoded number."""
    ident = value[len("https://ror.org/") :] if value.startswith("https://ror.org/") else value
    if not _ROR.match(ident):
        return False
    number = 0
    for ch in ident[:7]:
        number = number * 32 + _CROCKFORD.index(ch)
    return 98 - (number * 100) % 97 == int(ident[7:])


def erad_ok(value: str) -> bool:
    return bool(_ERAD.match(value))


def doi_ok(value: str) -> bool:
    return bool(_DOI.match(value))


def doi_uri_ok(value: str) -> bool:
    return bool(_DOI_URI.match(value))


def hdl_uri_ok(value: str) -> bool:
    return bool(_HDL_URI.match(value))


def uri_ok(value: str) -> bool:
    return bool(_URI.match(value))


def issn_ok(value: str) -> bool:
    if not _ISSN.match(value):
        return False
    digits = value.replace("-", "")
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits[7] == ("X" if check == 10 else str(check))


def isbn_ok(value: str) -> bool:
    if not _ISBN.match(value):
        return False
    digits = value.replace("-", "")
    if len(digits) == 10:
        total = sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(digits))
        return total % 11 == 0 and "X" not in digits[:-1]
    if len(digits) == 13 and digits.isdigit():
        return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0
    return False


def iso_date_ok(value: str) -> bool:
    """YYYY-MM-DD and a real calendar date."""
    m = _DATE.match(value)
    if not m:
        return False
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def jgn_ok(value: str, *, food_safety: bool = False) -> bool:
    return bool((_JGN_FOOD_SAFETY if food_safety else _JGN).match(value))


def lang_tag_shape_ok(value: str) -> bool:
    return bool(_LANG.match(value))
