"""Reading a DMP's values as people write them: dates and periods (western and Japanese era, fiscal years), Japan
Grant Numbers, the metadata disclosure and the data access right (with the common items' own lists), AMED's
data-sharing methods, data-related staff with 公表の可否, and the registration status.

A value that cannot be read raises `ValueProblem` with what is wrong and what is expected; the reader holds its row.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from gateway.commonitems import split_pair
from gateway.commonitems.tables import fold
from gateway.commonitems.values import read_listed
from gateway.dmp.layout import value_list

# JP + the systematic number (as gateway.rules.ids checks it); AMED's numbers have lower-case letters (JP21ab0101001)
_JGN = re.compile(r"^JP[0-9A-Za-z]{4,}$")
_JGN_FOOD_SAFETY = re.compile(r"^JPCACAA\d{8}$")  # the food-safety numbers: JPCACAA + 8 digits
_ERAS = {"令和": 2018, "平成": 1988, "R": 2018, "H": 1988}
# One date, western or Japanese era, down to the day or the month; or a fiscal year (年度, FY).
_DATE_TOKEN = re.compile(
    r"(?P<era>令和|平成)\s*(?P<eyear>元|\d{1,2})\s*年\s*(?:(?P<emonth>\d{1,2})\s*月\s*(?:(?P<eday>\d{1,2})\s*日)?|(?P<efy>度))"
    r"|(?P<year>\d{4})\s*(?:年\s*(?:(?P<jmonth>\d{1,2})\s*月\s*(?:(?P<jday>\d{1,2})\s*日)?|(?P<jfy>度))"
    r"|[-/.](?P<month>\d{1,2})(?:[-/.](?P<day>\d{1,2}))?)"
    r"|FY\s*(?P<fy>\d{4})"
)
EXPECTED_DATE = "a date that exists: YYYY-MM-DD (or YYYY/MM/DD, YYYY年M月D日, 令和N年M月D日), or an Excel date cell"
EXPECTED_PERIOD = (
    "two dates, start and end: 2021-04-01～2024-03-31, 2021年4月1日～2024年3月31日, "
    "or fiscal years: 令和3年度～令和5年度"
)
EXPECTED_JGN = "a Japan Grant Number: JP + the systematic number (JP22H00001), or JPCACAA + 8 digits"
ACCESS_OF_LISTED = {
    "open access": "open",
    "restricted access": "restricted",
    "metadata only access": "metadata-only",
    "embargoed access": "embargoed",
}


class ValueProblem(ValueError):
    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


# --- dates -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    first: date  # the first day the token can mean
    last: date  # the last day


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _DATE_TOKEN.finditer(nfkc(text)):
        if m.group("era"):
            year = _ERAS[m.group("era")] + (1 if m.group("eyear") == "元" else int(m.group("eyear")))
            month, day, fiscal = m.group("emonth"), m.group("eday"), m.group("efy")
        elif m.group("fy"):
            year, month, day, fiscal = int(m.group("fy")), None, None, "度"
        else:
            year = int(m.group("year"))
            month = m.group("jmonth") or m.group("month")
            day = m.group("jday") or m.group("day")
            fiscal = m.group("jfy")
        if fiscal:
            out.append(_Token(date(year, 4, 1), date(year + 1, 3, 31)))
            continue
        if month is None:
            continue
        number = int(month)
        if not 1 <= number <= 12:
            raise ValueProblem("is not a date: there is no such month", EXPECTED_DATE)
        if day is None:
            last = calendar.monthrange(year, number)[1]
            out.append(_Token(date(year, number, 1), date(year, number, last)))
            continue
        try:
            one = date(year, number, int(day))
        except ValueError:
            raise ValueProblem("is not a date: that day does not exist", EXPECTED_DATE) from None
        out.append(_Token(one, one))
    return out


def read_date(text: str) -> date:
    tokens = _tokens(text)
    rest = _DATE_TOKEN.sub("", nfkc(text)).strip(" 　()（）")
    if len(tokens) != 1 or tokens[0].first != tokens[0].last or rest:
        raise ValueProblem("is not a date", EXPECTED_DATE)
    return tokens[0].first


def read_period(text: str) -> tuple[date, date]:
    tokens = _tokens(text)
    if len(tokens) != 2:
        raise ValueProblem("is not a period of two dates", EXPECTED_PERIOD)
    start, end = tokens[0].first, tokens[1].last
    if end < start:
        raise ValueProblem(f"ends before it starts ({start.isoformat()})", "an end date on or after the start date")
    return start, end


def find_date(text: str) -> date | None:
    """The one whole date in a free text ("2023年5月31日登録済み"), or None (none, a month only, or no year)."""
    try:
        tokens = _tokens(text)
    except ValueProblem:
        return None
    days = [t.first for t in tokens if t.first == t.last]
    return days[0] if len(days) == 1 else None


# --- numbers and names -----------------------------------------------------------------------------------------------


# AMED's 課題管理番号 (21ab0101001, with its h0001 suffix or not): the grant number is JP + its first 11 characters
_AMED_NUMBER = re.compile(r"^(\d{2}[a-z]{2}\d{7})(?:h\d{4})?$")


def read_jgn(text: str) -> str:
    value = nfkc(text)
    amed = _AMED_NUMBER.match(value)
    if amed:
        value = "JP" + amed.group(1)
    if not (_JGN.match(value) and (not value.startswith("JPCACAA") or _JGN_FOOD_SAFETY.match(value))):
        raise ValueProblem("is not a Japan Grant Number", EXPECTED_JGN)
    return value


_BRACKETED = re.compile(
    r"[(（\[［【]\s*(?:課題番号|体系的番号|JGN)?\s*[:：]?\s*([^()（）\[\]［］【】]+?)\s*[)）\]］】]\s*$"
)


def read_project_name(text: str) -> tuple[str, str, str | None]:
    """(ja, en, Japan Grant Number or None) of 研究課題名（課題番号）: a number in brackets at the end (of either
    language) is the project's number; a food-safety 課題番号 of 8 digits is the grant number JPCACAA + those digits
    (別紙3, item 3)."""
    jgn = None
    names = []
    for part in split_pair((text or "").strip()):
        normal = unicodedata.normalize("NFKC", part).strip()
        found = _BRACKETED.search(normal)
        if found:
            inner = found.group(1).replace(" ", "")
            number = "JPCACAA" + inner if re.fullmatch(r"\d{8}", inner) else inner if _JGN.match(inner) else None
            if number:
                jgn = jgn or number
                part = normal[: found.start()].strip()
        names.append(part.strip())
    return names[0], names[1], jgn


# --- the listed values -----------------------------------------------------------------------------------------------


def _matches(kind: str, text: str) -> dict[str, Any] | None:
    sides = [text, *split_pair(text)] if "|" in text else [text]
    for side in sides:
        wanted = fold(side)
        if not wanted:
            continue
        for entry in value_list(kind):
            names = [entry.get("key", ""), entry.get("ja", ""), entry.get("en", ""), *entry.get("aliases", [])]
            if wanted in {fold(n) for n in names if n}:
                return entry
    return None


def undecided(text: str) -> bool:
    return _matches("undecided", text) is not None


def read_disclosure(text: str) -> str:
    """public | shared | private | undecided, from メタデータの公開/共有/非共有."""
    if undecided(text):
        return "undecided"
    listed, why = read_listed("metadata_access", text)
    if listed is None or not listed.extra:
        raise ValueProblem(
            "is not a metadata disclosure" + (f": {why}" if why else ""),
            "公開, 共有 or 非共有 (public, shared, not shared), or 未定 / 消費者庁と協議 while undecided",
        )
    return listed.extra


def read_access(text: str) -> str | None:
    """The data's access right as records have it (open, restricted, metadata-only, embargoed); None when the DMP
    says it is not decided yet."""
    if undecided(text):
        return None
    listed, why = read_listed("access", text)
    if listed is None:
        raise ValueProblem(
            "is not a data access right" + (f": {why}" if why else ""),
            "公開, 共有, 非公開・非共有 or 公開猶予 (open, restricted, metadata only, embargoed), or 未定",
        )
    return ACCESS_OF_LISTED.get(listed.key)


def read_sharing(text: str) -> str:
    entry = _matches("sharing", nfkc(text))
    if entry is None:
        raise ValueProblem("is not one of AMED's data-sharing methods", "one of: " + sharing_choices())
    return str(entry["key"])


def sharing_choices() -> str:
    return ", ".join(e["ja"] for e in value_list("sharing") if e["key"] != "restricted_sharing")


def sharing_info(key: str | None) -> dict[str, Any]:
    """ja, en, access and restricted_sharing of a sharing method (empty for None)."""
    for entry in value_list("sharing"):
        if entry["key"] == key:
            return {
                "key": key,
                "ja": entry["ja"],
                "en": entry["en"],
                "access": entry.get("access"),
                "restricted_sharing": bool(entry.get("restricted_sharing", False)),
            }
    return {}


def restricted_sharing(key: str | None) -> bool:
    return bool(sharing_info(key).get("restricted_sharing"))


def read_consent(text: str) -> bool | None:
    entry = _matches("consent", nfkc(text))
    if entry is None:
        return None
    return entry["key"] == "yes"


_STAFF_SPLIT = re.compile(r"[;；\n]")
_INLINE_CONSENT = re.compile(r"\s*[\[［【(（]\s*(公表\s*[可否]|[可否]|公表不可)\s*[\]］】)）]\s*$")
_AFFILIATION = re.compile(r"^(?P<name>[^(（]+?)\s*[(（](?P<aff>[^()（）]+)[)）]\s*$")


def read_staff(names: str, consents: str = "") -> list[dict[str, Any]]:
    """データ関連人材: "name（affiliation）" separated by ";", each with 公表の可否 (the consent column, by position, or
    【可】/【否】 after the name). Without a clear 可, a person is not published."""
    people = [p.strip() for p in _STAFF_SPLIT.split(names or "") if p.strip()]
    answers = [a.strip() for a in _STAFF_SPLIT.split(consents or "")] if (consents or "").strip() else []
    if len([a for a in answers if a]) > len(people):
        raise ValueProblem(
            f"gives 公表の可否 for {len(answers)} people but {len(people)} are named",
            "one 可 or 否 per person of データ関連人材, in the same order, separated by ';'",
        )
    out = []
    for index, person in enumerate(people):
        public = read_consent(answers[index]) if index < len(answers) and answers[index] else None
        if index < len(answers) and answers[index] and public is None:
            raise ValueProblem("is not 可 or 否", "可 (may be published) or 否 (not), for each person")
        inline = _INLINE_CONSENT.search(person)
        if inline:
            person = person[: inline.start()].strip()
            public = "否" not in inline.group(1) and "不可" not in inline.group(1) if public is None else public
        found = _AFFILIATION.match(person)
        name, affiliation = (found.group("name").strip(), found.group("aff").strip()) if found else (person, "")
        out.append({"name": name, "affiliation": affiliation, "public": public is True})
    return out


def read_status(text: str) -> dict[str, Any]:
    """メタデータ登録状況 as {"state": registered | planned | not_registered | unknown, "date": ISO or None}; never
    held: the column is the researchers' own note (別紙2, note 6)."""
    value = nfkc(text)
    when = find_date(value)
    folded = fold(value)
    state = "unknown"
    for entry in value_list("registration"):
        if any(fold(alias) in folded for alias in entry.get("aliases", [])):
            state = entry["key"]
            break
    if state == "registered" and "未登録" in value:
        state = "not_registered"
    return {"state": state, "date": when.isoformat() if when else None}
