"""Writing a stored record back as a row of the layout: the inverse of reading a row (`gateway export spreadsheet`).

Exported and imported again as a `spreadsheet` source, a record gives the same record: values from the lists are
written by their keys, bilingual items as "ja|en", creators and their e-Rad numbers from the canonical record.
"""

from __future__ import annotations

from typing import Any

from gateway import namespaces as ns
from gateway.commonitems.layout import columns
from gateway.commonitems.values import EMAIL, JAPANESE, lookup, text_lang

_XML_LANG = f"{{{ns.XML}}}lang"
_J = f"{{{ns.JPCOAR_2}}}"


def _pair_cell(ja: str | None, en: str | None) -> str:
    ja, en = (ja or "").strip(), (en or "").strip()
    if ja and en:
        return f"{ja}|{en}"
    if en:
        return f"|{en}"
    # a lone value in Latin script would be read back as English: mark it Japanese
    return ja if not ja or JAPANESE.search(ja) else f"{ja}|"


def _by_lang(values: list[dict[str, str]]) -> tuple[str, str]:
    ja = next((v["value"] for v in values if v.get("lang") == "ja"), "")
    en = next((v["value"] for v in values if v.get("lang") == "en"), "")
    if not ja and not en and values:
        ja = values[0]["value"]
    return ja, en


def row_from_record(
    canonical: bytes | None,
    view: dict[str, list[dict[str, str]]],
    *,
    private: dict[str, Any] | None = None,
    disclosure: str | None = None,
) -> dict[str, str]:
    """A stored record as a row of the layout (column key -> cell), the inverse of reading a row.

    Items the view keeps as flat lists (creators and their numbers) are read from the canonical record, where each
    creator is one element; the rest comes from the Annex-3 view.
    """
    view = view or {}
    private = private or {}
    row: dict[str, str] = {c.key: "" for c in columns()}

    def pair(key: str) -> str:
        return _pair_cell(*_by_lang(view.get(key, [])))

    def first(key: str, attr: str = "value") -> str:
        values = view.get(key) or []
        return (values[0].get(attr) or "") if values else ""

    names = _by_lang(view.get("funder_name", []))
    code = first("funder_code")
    listed = lookup("funder", code) if code else None
    if listed is not None and (listed.ja, listed.en) == names:
        row["funder"] = listed.key
    elif code or names[0] or names[1]:
        row["funder"] = "|".join([names[0], names[1], code]) if code else _pair_cell(*names)
    row["funding_stream_code"] = first("funding_stream_code")
    row["program_name"] = pair("program_name")
    row["jgn"] = first("jgn")
    row["project_name"] = pair("project_name")
    row["data_number"] = first("data_number")
    row["title"] = pair("title")
    row["date"] = first("date_updated") or first("date_issued")
    row["description"] = pair("description")
    field_ja, field_en = _by_lang(view.get("research_field", []))
    field = lookup("field", field_ja) if field_ja else None
    row["research_field"] = field.key if field is not None and field.en == field_en else _pair_cell(field_ja, field_en)
    data_type = first("data_type", "uri") or first("data_type")
    listed_type = lookup("data_type", data_type) if data_type else None
    row["data_type"] = listed_type.key if listed_type is not None else first("data_type")
    row["size"] = first("size")
    _rights_cells(view.get("rights", []), row)
    access = first("access_rights", "uri") or first("access_rights")
    listed_access = lookup("access", access) if access else None
    row["access_rights"] = listed_access.key if listed_access is not None else first("access_rights")
    row["available_date"] = first("date_available")
    row["repository"] = pair("repository")
    row["repository_url"] = first("repository_url")
    creators, numbers = _creator_cells(canonical)
    row["creators"], row["creator_erad"] = creators, numbers
    row["hosting_institution"] = pair("hosting_institution")
    row["hosting_institution_id"] = first("hosting_institution_ror", "uri") or first("hosting_institution_ror")
    row["data_manager"] = pair("data_manager")
    row["data_manager_erad"] = first("data_manager_erad")
    contact_ja, contact_en = _by_lang(view.get("contact", []))
    if contact_ja and not contact_en and EMAIL.match(contact_ja):
        row["contact_email"] = contact_ja
    else:
        # free text: read back as the organisation, which gives the same published contact
        row["contact_org"] = _pair_cell(contact_ja, contact_en)
    row["remarks"] = _pair_cell(private.get("remarks_ja"), private.get("remarks_en")) or str(
        private.get("remarks") or ""
    )
    row["metadata_access"] = {"public": "open access", "shared": "restricted access", "private": "closed access"}.get(
        disclosure or "", ""
    )
    return row


def _rights_cells(values: list[dict[str, str]], row: dict[str, str]) -> None:
    citation: dict[str, list[str]] = {"ja": [], "en": []}
    for value in values:
        text, uri, lang = (
            value.get("value", ""),
            value.get("uri"),
            value.get("lang") or text_lang(value.get("value", "")),
        )
        if uri:
            listed = lookup("license", uri)
            if not row["license"]:
                row["license"] = listed.key if listed is not None else uri
            continue
        policy = lookup("policy", text)
        if policy is not None:
            row["policy_free"] = policy.key
            continue
        listed = lookup("license", text)
        if listed is not None:
            row["license"] = row["license"] or listed.key
            continue
        citation.setdefault(lang, []).append(text)
    row["citation"] = _pair_cell(" ".join(citation["ja"]), " ".join(citation["en"]))


def _creator_cells(canonical: bytes | None) -> tuple[str, str]:
    if not canonical:
        return "", ""
    from gateway.xmlsafe import parse_bytes

    root = parse_bytes(canonical)
    names, numbers = [], []
    for creator in root.iter(f"{_J}creator"):
        by_lang: dict[str, str] = {}
        for name in creator.findall(f"{_J}creatorName"):
            by_lang.setdefault(name.get(_XML_LANG, "ja"), " ".join((name.text or "").split()))
        if not by_lang:
            for family in creator.findall(f"{_J}familyName"):
                lang = family.get(_XML_LANG, "ja")
                given = next((g.text for g in creator.findall(f"{_J}givenName") if g.get(_XML_LANG, "ja") == lang), "")
                by_lang.setdefault(
                    lang, ", ".join(p for p in ((family.text or "").strip(), (given or "").strip()) if p)
                )
        number = next(
            (
                (i.text or "").strip()
                for i in creator.findall(f"{_J}nameIdentifier")
                if i.get("nameIdentifierScheme") == "e-Rad_Researcher"
            ),
            "",
        )
        if not by_lang and not number:
            continue
        names.append(_pair_cell(by_lang.get("ja"), by_lang.get("en")))
        numbers.append(number)
    return ";".join(names), (";".join(numbers) if any(numbers) else "")
