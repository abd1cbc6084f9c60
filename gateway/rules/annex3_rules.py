"""Annex-3 content rules on the Annex-3 view: formats and vocabularies of the common metadata items (DESIGN §4)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lxml import etree

from gateway import crosswalk
from gateway.rules import ids

Finding = dict[str, Any]
View = dict[str, list[dict[str, str]]]

_ACCESS_PREFIX = "http://purl.org/coar/access_right/"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(\+?\d[\d\s()-]{7,}\d)")
# An acronym-only name (JST, UTokyo, NIBIOHN): capitals, at most one lower-case run, no space.
_ACRONYM = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z]{2,10}$")
_FOOD_SAFETY_FUNDERS = ("消費者庁", "consumer affairs agency")


@lru_cache(maxsize=1)
def _resource_types() -> dict[str, str]:
    path = crosswalk.MAPPINGS_DIR / "vocab" / "coar_resource_types.xml"
    return {e.get("uri"): e.get("label") for e in etree.parse(str(path)).iter("type")}


@lru_cache(maxsize=1)
def _access_uris() -> frozenset[str]:
    path = crosswalk.MAPPINGS_DIR / "vocab" / "coar_access_rights.xml"
    return frozenset(e.get("uri") for e in etree.parse(str(path)).iter("right"))


def _f(severity: str, rule: str, item: int, path: str, value: str | None, message: str) -> Finding:
    return {
        "severity": severity,
        "layer": "annex3",
        "rule": f"annex3.{rule}",
        "item": item,
        "path": path,
        "value": value,
        "message": message,
    }


def check(view: View, access_right: str | None) -> list[Finding]:
    out: list[Finding] = []
    for key in ("date_issued", "date_updated", "date_available"):
        for v in view.get(key, []):
            if v.get("value") and not ids.iso_date_ok(v["value"]):
                out.append(
                    _f(
                        "error",
                        "date_format",
                        6 if key != "date_available" else 11,
                        key,
                        v["value"],
                        "dates are YYYY-MM-DD and a real date / 日付はYYYY-MM-DD形式で",
                    )
                )
    for v in view.get("access_rights", []):
        uri = v.get("uri") or ""
        if uri not in _access_uris():
            out.append(
                _f(
                    "error",
                    "access_rights_vocabulary",
                    11,
                    "access_rights",
                    uri or v.get("value"),
                    "access rights must be a COAR access right URI (open, restricted, metadata only, embargoed)",
                )
            )
    if view.get("date_available") and access_right not in (None, "embargoed"):
        # An embargo that has ended often leaves its date behind: harmless, so a warning, not a block.
        out.append(
            _f(
                "warning",
                "available_date_not_embargoed",
                11,
                "date_available",
                view["date_available"][0].get("value"),
                "an available date on a record that is not embargoed",
            )
        )
    types = _resource_types()
    for v in view.get("data_type", []):
        uri, label = v.get("uri") or "", (v.get("value") or "").strip()
        if uri not in types:
            out.append(
                _f(
                    "error",
                    "data_type_vocabulary",
                    9,
                    "data_type",
                    uri or label,
                    "data type must be a COAR resource type URI / データ種別が語彙にありません",
                )
            )
        elif label and label != types[uri]:
            out.append(
                _f(
                    "error",
                    "data_type_mismatch",
                    9,
                    "data_type",
                    f"{label} <{uri}>",
                    f"data type label '{label}' and URI ({types[uri]}) disagree / ラベルとURIが一致しません",
                )
            )
    funders = " ".join(v.get("value", "") for v in view.get("funder_name", [])).lower()
    streams = {v.get("value", "") for v in view.get("funding_stream_code", [])}
    food = "CA" in streams or any(n in funders for n in _FOOD_SAFETY_FUNDERS)
    jgns = view.get("jgn", [])
    for v in jgns:
        value = v.get("value", "")
        # A jointly funded record holds the food-safety number beside others: the food-safety form binds a number that
        # claims it (JPCA...) or the only number of a food-safety record, not every number of the record.
        food_number = value.startswith("JPCA") or (food and len(jgns) == 1)
        if not ids.jgn_ok(value, food_safety=food_number):
            want = "JPCACAA + 8 digits" if food_number else "JP + the systematic number"
            out.append(
                _f(
                    "error",
                    "jgn_format",
                    3,
                    "jgn",
                    v.get("value"),
                    f"Japan Grant Number must be {want} / 体系的番号の形式が不正です",
                )
            )
    for key, item in (("creator_erad", 13), ("data_manager_erad", 14)):
        for v in view.get(key, []):
            if not ids.erad_ok(v.get("value", "")):
                out.append(
                    _f("error", "erad_format", item, key, v.get("value"), "an e-Rad researcher number is 8 digits")
                )
    for v in view.get("hosting_institution_ror", []):
        value = v.get("value") or v.get("uri") or ""
        if not (value.startswith("https://ror.org/") and ids.ror_ok(value)):
            out.append(
                _f(
                    "error",
                    "ror_format",
                    14,
                    "hosting_institution_ror",
                    value,
                    "a ROR id is https://ror.org/ + 9 characters with a valid checksum",
                )
            )
    for v in view.get("hosting_institution", []):
        if _ACRONYM.match(v.get("value", "")):
            out.append(
                _f(
                    "warning",
                    "abbreviated_name",
                    14,
                    "hosting_institution",
                    v.get("value"),
                    "write the hosting institution in full, not abbreviated / 略称ではなく正式名称で",
                )
            )
    contact = [v.get("value", "") for v in view.get("contact", []) if v.get("value")]
    if contact and not any(_EMAIL.search(c) for c in contact):
        parts = [p for c in contact for p in re.split(r"[,\n;、]", c) if p.strip()]
        if not (any(_PHONE.search(c) for c in contact) and len(parts) >= 3):
            out.append(
                _f(
                    "error",
                    "contact_incomplete",
                    15,
                    "contact",
                    "; ".join(contact),
                    "contact needs an e-mail address, or else organisation, address and telephone",
                )
            )
    return out
