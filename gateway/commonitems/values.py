"""The value lists, and how a value as people write it is read against them.

The lists (funders, e-Rad research fields, data types, licences, use policies, data access rights in every wording the
guideline, GakuNin RDM and AMED use, metadata access rights) are data, in ``mappings/commonitems/values.toml``. A
value is compared leniently: width, case and spaces aside, either side of a "ja|en" pair, without bracketed
qualifiers, its ・／/、 parts in any order; funder labels "ja|en|e-Rad code" are read by pattern, malformed ones too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gateway.commonitems.tables import cached, fold, keep, load_table, versioned

JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# e-Rad funder codes are 3 or 4 digits; in a malformed label the code may be glued to words around it.
_FUNDER_CODE = re.compile(r"(?<![0-9])([0-9]{3,4})(?![0-9])")


@dataclass(frozen=True)
class Listed:
    key: str
    ja: str
    en: str
    uri: str | None
    extra: str | None = None  # funder code / disclosure
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return [n for n in (self.key, self.ja, self.en, self.uri or "", self.extra or "", *self.aliases) if n]


def _listed(kind: str) -> list[Listed]:
    return [listed for listed, _folded, _loose in _index(kind)]


def _index(kind: str) -> list[tuple[Listed, set[str], set[str]]]:
    """The listed values of a kind with their spellings in both comparison forms, built once per mappings version."""
    key = versioned(f"index:{kind}")
    found = cached(key)
    if found is not None:
        return found
    out = []
    for entry in load_table("values.toml").get(kind, []):
        if kind == "funder":
            ja, en, code = parse_funder_label(entry["label"])
            listed = Listed(entry["key"], ja or "", en or "", None, code, tuple(entry.get("aliases", ())))
        else:
            listed = Listed(
                entry["key"],
                entry.get("ja", ""),
                entry.get("en", entry["key"] if kind in ("data_type", "access", "metadata_access") else ""),
                entry.get("uri"),
                entry.get("disclosure"),
                tuple(entry.get("aliases", ())),
            )
        names = listed.names()
        out.append((listed, {fold(n) for n in names}, {_loose(n) for n in names} - {""}))
    keep(key, out)
    return out


# Brackets whose content qualifies a value ("制限共有（外部関係者と共有）", "公開 (open access)"): compared without it.
# After NFKC, full-width （）［］ are the ASCII ones.
_QUALIFIER = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|〈[^〈〉]*〉|《[^《》]*》")
_BRACKETS = re.compile(r"[()\[\]【】〔〕〈〉《》]")
_QUOTES = str.maketrans("", "", '「」『』"“”')
# The guideline writes the closed category both as 非共有・非公開 and as 非公開・非共有, and sheets use any of these
# (after NFKC: ／ is /, ， is "," and the half-width ･ ､ are ・ 、).
_SEPARATOR = re.compile(r"[・·/、,]")
_PARTS = re.compile(r"[|・·/、,]")  # the separators and the "ja|en" bar: "公開/open access" is one value twice


def _unbracketed(text: str) -> str:
    """The value without its bracketed qualifiers and quotes; a value that is all brackets ("【制限共有】") keeps its
    content."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    stripped = text
    while True:  # innermost first, so that nested brackets go too
        shorter = _QUALIFIER.sub("", stripped)
        if shorter == stripped:
            break
        stripped = shorter
    if stripped.strip():
        return stripped
    return _BRACKETS.sub("", text)


def _loose(text: str) -> str:
    """The lenient comparison form: `fold`, without bracketed qualifiers, with its ・／/、 parts in a fixed order."""
    folded = fold(_unbracketed(text))
    return "・".join(sorted(part for part in _SEPARATOR.split(folded) if part))


def _qualifiers(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    return [m.group(0)[1:-1] for m in _QUALIFIER.finditer(text) if m.group(0)[1:-1].strip()]


def lookup(kind: str, value: str) -> Listed | None:
    """The listed value spelled `value` (key, label, URI, alias), read leniently (see `read_listed`)."""
    return read_listed(kind, value)[0]


def read_listed(kind: str, value: str) -> tuple[Listed | None, str]:
    """(the listed value `value` means, or None; why not, when it is not).

    Tried in turn: the value as written (width, case and spaces aside); either side of a "ja|en" pair; the value
    without bracketed qualifiers, its ・／/、 parts in any order; and a value made of parts that each name the same
    listed value ("非公開・非共有", "公開/open access").  A qualifier naming a different listed value than the rest
    ("公開 (metadata only access)") contradicts it: no answer.
    """
    if not value or not value.strip():
        return None, ""
    found = _match(kind, value, loose=False)
    if found is None and "|" in value:
        ja, en = split_pair(value)
        found = (_match(kind, ja, loose=False) if ja else None) or (_match(kind, en, loose=False) if en else None)
    if found is None:
        found = _match(kind, value, loose=True)
    if found is None:
        parts = [p for p in _PARTS.split(_unbracketed(value)) if p.strip()]
        readings = {_match(kind, part, loose=True) for part in parts} if len(parts) > 1 else set()
        if len(readings) == 1 and None not in readings:
            found = readings.pop()
        elif len(readings - {None}) > 1:
            named = ", ".join(sorted(listed.key for listed in readings if listed is not None))
            return None, f"its parts name different values ({named})"
    if found is None:
        return None, ""
    for qualifier in _qualifiers(value):
        other = _match(kind, qualifier, loose=True)
        if other is not None and other.key != found.key:
            return None, f"it says both {found.key} and, in brackets, {other.key}"
    return found, ""


def _match(kind: str, value: str, *, loose: bool) -> Listed | None:
    wanted = _loose(value) if loose else fold(value)
    if not wanted:
        return None
    for listed, folded, lenient in _index(kind):
        if wanted in (lenient if loose else folded):
            return listed
    return None


def parse_funder_label(label: str) -> tuple[str | None, str | None, str | None]:
    """(ja, en, e-Rad code) of a funder label "ja|en|code", malformed ones included.

    The code is the last 3-4 digit number anywhere in the label; whatever else is written around it in the same part
    (as in "...Development|1305 Organization") belongs to the English name.
    """
    parts = [p.strip() for p in label.split("|")]
    code = None
    for index in range(len(parts) - 1, -1, -1):
        matches = list(_FUNDER_CODE.finditer(parts[index]))
        if matches:
            match = matches[-1]
            code = match.group(1)
            parts[index] = (parts[index][: match.start()] + " " + parts[index][match.end() :]).strip()
            break
    ja = next((p for p in parts if p and JAPANESE.search(p)), None)
    english = [p for p in parts if p and not JAPANESE.search(p)]
    en = " ".join(english) or None
    return ja, en, code


def split_pair(cell: str) -> tuple[str, str]:
    """A bilingual cell "日本語|English" as (ja, en); a cell without "|" is Japanese unless it has no Japanese text."""
    text = (cell or "").strip()
    if "|" in text:
        ja, _, en = text.partition("|")
        return ja.strip(), en.strip()
    if text and not JAPANESE.search(text):
        return "", text
    return text, ""


def choices(kind: str) -> str:
    """The listed values of a kind as the guideline names them, for "expected ..." (the list is data)."""
    return ", ".join(f"{listed.ja} ({listed.key})" if listed.ja else listed.key for listed in _listed(kind))


def text_lang(text: str) -> str:
    return "ja" if JAPANESE.search(text) else "en"
