"""Building the common-items document of an entry and its JPCOAR 2.0 record.

`resolve` reads an entry's values against the value lists into the intermediate "common items" document (namespace
`CI`), and maps that to JPCOAR 2.0 with ``mappings/commonitems_to_jpcoar_2.0.xsl``. A value that cannot be read is
left out of both and returned as a `Problem` (gateway.commonitems.problems); the rest of the entry is built all the
same. What is never published (remarks, 備考) is kept apart, in `Resolved.private`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from gateway import crosswalk
from gateway import namespaces as ns
from gateway.commonitems.layout import column_of
from gateway.commonitems.problems import CI, ILLEGAL_XML, RECORD, Problem
from gateway.commonitems.values import (
    EMAIL,
    JAPANESE,
    choices,
    lookup,
    parse_funder_label,
    read_listed,
    split_pair,
    text_lang,
)

STYLESHEET = "commonitems_to_jpcoar_2.0.xsl"
_XML_LANG = f"{{{ns.XML}}}lang"
_ROR_ID = re.compile(r"^0[a-z0-9]{6}[0-9]{2}$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


@dataclass
class Resolved:
    """One entry resolved: the intermediate document (with its JPCOAR 2.0 record inside), what is not published, and
    the values that could not be read (left out of both documents)."""

    document: etree._Element
    jpcoar: etree._Element
    project: str | None
    data_number: str | None
    disclosure: str | None
    private: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    def raw(self) -> bytes:
        """The stored raw record: the common items as read, a ``<ci:problem>`` for each value that could not be,
        and the JPCOAR 2.0 record mapped from the readable values inside."""
        wrapper = etree.fromstring(etree.tostring(self.document))
        for problem in self.problems:
            wrapper.append(problem.element())
        wrapper.append(etree.fromstring(etree.tostring(self.jpcoar)))
        return etree.tostring(wrapper, encoding="UTF-8", xml_declaration=False)


def _shown(value: Any) -> str:
    """A JSON value as found, shortened, for a problem's `value`."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:199] + "…"


_EXPECT_DATE = "a date that exists, written YYYY-MM-DD (or YYYY/MM/DD)"


class _Reader:
    """An entry's values as text; a value that cannot be read is noted as a problem and read as empty."""

    def __init__(self, entry: dict[str, Any], problems: list[Problem]) -> None:
        self.entry = entry
        self.problems = problems

    def problem(self, column: str | None, value: str, message: str, expected: str) -> None:
        self.problems.append(Problem(column, value, message, expected))

    def value(self, key: str, entry: dict[str, Any] | None = None) -> str:
        value = (self.entry if entry is None else entry).get(key)
        if isinstance(value, dict):
            value = value.get("value")
        if value is None:
            return ""
        if isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            self.problem(column_of(key), _shown(value), f"is a {type(value).__name__}, not a text", "a text value")
            return ""
        # control characters (pasted from other programs) cannot be stored in XML and carry no meaning
        return ILLEGAL_XML.sub("", value).strip()

    def date(self, key: str) -> str:
        text = self.value(key)
        if not text:
            return ""
        day = text.split("T")[0].split(" ")[0]
        match = _DATE.match(unicodedata.normalize("NFKC", day))
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
            except ValueError:
                self.problem(column_of(key), text, "is not a date: that day does not exist", _EXPECT_DATE)
                return ""
        self.problem(column_of(key), text, "is not a date (YYYY-MM-DD)", _EXPECT_DATE)
        return ""


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CI}}}{tag}")
    for name, value in attrs.items():
        element.set(_XML_LANG if name == "lang" else name, value)
    if text is not None:
        element.text = text
    return element


def _pair(parent: etree._Element, tag: str, ja: str, en: str) -> None:
    if ja:
        _sub(parent, tag, ja, lang="ja")
    if en:
        _sub(parent, tag, en, lang="en")


def resolve(entry: dict[str, Any], *, identifier: str | None = None, problems: list[Problem] | None = None) -> Resolved:
    """Resolve an entry's values against the value lists and map it to JPCOAR 2.0.

    A value that cannot be read is left out and listed in `Resolved.problems` (after the `problems` given, those
    found while reading the cells); the rest of the entry is resolved all the same.
    """
    found: list[Problem] = list(problems or ())
    r = _Reader(entry, found)
    doc = etree.Element(RECORD, nsmap={"ci": CI})
    if identifier:
        doc.set("identifier", identifier)

    _funder(doc, r.value("funder"))
    code = r.value("funding-stream-code")
    if code:
        _sub(doc, "fundingStreamCode", code)
    _pair(doc, "program", r.value("program-name-ja"), r.value("program-name-en"))
    project = r.value("japan-grant-number")
    if project:
        _sub(doc, "grantNumber", project)
    _pair(doc, "project", r.value("project-name-ja"), r.value("project-name-en"))
    data_number = r.value("grdm-file:data-number")
    if data_number:
        _sub(doc, "dataNumber", data_number)
    _pair(doc, "title", r.value("grdm-file:title-ja"), r.value("grdm-file:title-en"))
    issued = r.date("grdm-file:date-issued-updated")
    if issued:
        _sub(doc, "issued", issued)
    _pair(doc, "description", r.value("grdm-file:data-description-ja"), r.value("grdm-file:data-description-en"))
    _field(doc, r)
    _data_type(doc, r)
    size = r.value("grdm-file:file-size")
    if size:
        _sub(doc, "size", size)
    _rights(doc, r)
    _access(doc, r)
    # without it, an embargoed record is quarantined by the Annex-3 check with its reason; the row itself is readable
    available = r.date("grdm-file:available-date")
    if available:
        _sub(doc, "available", available)
    _pair(doc, "repository", r.value("grdm-file:repo-information-ja"), r.value("grdm-file:repo-information-en"))
    link = r.value("grdm-file:repo-url-doi-link")
    if link:
        _sub(doc, "link", link, type=_link_type(link))
    _creators(doc, r)
    _hosting(doc, r)
    _manager(doc, r)
    _contact(doc, r)
    disclosure = _metadata_access(doc, r)

    private = {}
    for lang in ("ja", "en"):
        remark = r.value(f"grdm-file:remarks-{lang}")
        if remark:
            private[f"remarks_{lang}"] = remark
    transform = crosswalk._stylesheet(STYLESHEET)
    jpcoar = crosswalk._run(transform, doc, "mapping common items to jpcoar_2.0")
    return Resolved(doc, jpcoar, project or None, data_number or None, disclosure, private, found)


def _funder(doc: etree._Element, value: str) -> None:
    if not value:
        return
    listed = lookup("funder", value)
    if listed is not None:
        ja, en, code = listed.ja, listed.en, listed.extra
    elif "|" in value:
        ja, en, code = parse_funder_label(value)
    elif value.isdigit():
        ja, en, code = None, None, value
    else:
        ja, en, code = (value, None, None) if JAPANESE.search(value) else (None, value, None)
    attrs = {"code": code} if code else {}
    funder = _sub(doc, "funder", **attrs)
    _pair(funder, "name", ja or "", en or "")


def _why(reason: str) -> str:
    return f" ({reason})" if reason else ""


def _field(doc: etree._Element, r: _Reader) -> None:
    value = r.value("grdm-file:data-research-field")
    if value == "project":  # GakuNin RDM: "the research field of the project"
        value = r.value("project-research-field")
    if not value:
        return
    listed, reason = read_listed("field", value)
    if listed is None and "|" in value:
        ja, en = split_pair(value)
        listed = lookup("field", ja) or lookup("field", en)
        if listed is None:
            _pair(doc, "field", ja, en)  # a field outside the e-Rad list (a repository's own): kept as written
            return
    if listed is None:
        r.problem(
            "research_field",
            value,
            "is not an e-Rad research field" + _why(reason),
            "an e-Rad research field: its code (189) or its label (ライフサイエンス, Life Science), or 'ja|en' for a "
            "field of the repository's own",
        )
        return
    _sub(doc, "field", listed.ja, lang="ja", code=listed.key)
    _sub(doc, "field", listed.en, lang="en", code=listed.key)


def _data_type(doc: etree._Element, r: _Reader) -> None:
    value = r.value("grdm-file:data-type")
    listed, reason = read_listed("data_type", value or "dataset")
    if listed is None:
        r.problem(
            "data_type",
            value,
            "is not a data type of the JPCOAR vocabulary" + _why(reason),
            "a JPCOAR data type: its name (experimental data), its Japanese label (実験データ) or its COAR URI",
        )
        return
    _sub(doc, "dataType", listed.key, uri=listed.uri or "")


def _rights(doc: etree._Element, r: _Reader) -> None:
    free = r.value("grdm-file:data-policy-free")
    if free:
        listed, reason = read_listed("policy", free)
        if listed is None:
            r.problem(
                "policy_free",
                free,
                "is not one of free / consideration" + _why(reason),
                "無償 (free) or 有償 (consideration)",
            )
        else:
            _sub(doc, "rights", listed.ja, lang="ja")
            _sub(doc, "rights", listed.en, lang="en")
    licence = r.value("grdm-file:data-policy-license")
    if licence:
        listed = lookup("license", licence)
        if listed is not None:
            attrs = {"uri": listed.uri} if listed.uri else {}
            _sub(doc, "rights", listed.ja, lang="ja", **attrs)
            _sub(doc, "rights", listed.en, lang="en", **attrs)
        elif licence.startswith(("http://", "https://")):
            _sub(doc, "rights", licence, lang="en", uri=licence)
        else:
            _sub(doc, "rights", licence, lang=text_lang(licence))
    _pair(doc, "rights", r.value("grdm-file:data-policy-cite-ja"), r.value("grdm-file:data-policy-cite-en"))


def _access(doc: etree._Element, r: _Reader) -> None:
    value = r.value("grdm-file:access-rights")
    if not value:
        return
    listed, reason = read_listed("access", value)
    if listed is None:
        if lookup("access_undecided", value) is not None:
            # AMED's "その他（未定など）": not chosen yet; counting it under any right would be a guess
            message = "is not a data access right: it says the access right is not decided yet"
        else:
            message = "is not a data access right" + _why(reason)
        r.problem(
            "access_rights",
            value,
            message,
            f"one of {choices('access')}, or another spelling listed in mappings/commonitems/values.toml "
            "(AMED's sharing levels included)",
        )
        return
    _sub(doc, "access", listed.key, uri=listed.uri or "")


def _metadata_access(doc: etree._Element, r: _Reader) -> str | None:
    value = r.value("grdm-file:metadata-access-rights")
    if not value:
        return None
    listed, reason = read_listed("metadata_access", value)
    if listed is None:
        r.problem(
            "metadata_access",
            value,
            "is not a metadata access right" + _why(reason),
            f"one of {choices('metadata_access')}",
        )
        return None
    _sub(doc, "metadataAccess", listed.key)
    return listed.extra


def _link_type(link: str) -> str:
    lowered = link.lower()
    if "doi.org/" in lowered or lowered.startswith("10."):
        return "DOI"
    if "hdl.handle.net/" in lowered:
        return "HDL"
    return "URI"


def _creators(doc: etree._Element, r: _Reader) -> None:
    creators = r.entry.get("grdm-file:creators")
    if isinstance(creators, dict):
        creators = creators.get("value")
    if creators in (None, ""):
        return
    if not isinstance(creators, list):
        r.problem(
            "creators", _shown(creators), "is not a list of creators", "a list of creators (name_ja, name_en, number)"
        )
        return
    for index, creator in enumerate(creators, 1):
        if not isinstance(creator, dict):
            r.problem(
                "creators",
                _shown(creator),
                f"(creator {index}) is not a creator",
                "an object with name_ja, name_en, number",
            )
            continue
        # GakuNin RDM writes both name_ja and name-ja (see reference/grdm/README.md)
        norm = {str(k).replace("-", "_"): v for k, v in creator.items()}
        ja, en = r.value("name_ja", norm), r.value("name_en", norm)
        number = r.value("number", norm)
        if number and not re.fullmatch(r"[0-9A-Za-z\-]+", number):
            r.problem(
                "creator_erad",
                number,
                f"(creator {index}) is not an e-Rad researcher number",
                "an e-Rad researcher number (digits, letters and '-')",
            )
            number = ""
        if not (ja or en or number):
            continue
        element = _sub(doc, "creator")
        _pair(element, "name", ja, en)
        if number:
            _sub(element, "erad", number)


def _hosting(doc: etree._Element, r: _Reader) -> None:
    ja, en = r.value("grdm-file:hosting-inst-ja"), r.value("grdm-file:hosting-inst-en")
    ror = r.value("grdm-file:hosting-inst-id")
    if not (ja or en or ror):
        return
    element = _sub(doc, "hostingInstitution")
    _pair(element, "name", ja, en)
    if ror:
        if _ROR_ID.match(ror):
            ror = f"https://ror.org/{ror}"
        _sub(element, "ror", ror)


def _manager(doc: etree._Element, r: _Reader) -> None:
    ja, en = r.value("grdm-file:data-man-name-ja"), r.value("grdm-file:data-man-name-en")
    number = r.value("grdm-file:data-man-number")
    if not (ja or en or number):
        return
    attrs = {}
    kind = r.value("grdm-file:data-man-type")
    if kind:
        attrs["type"] = kind
    element = _sub(doc, "dataManager", **attrs)
    _pair(element, "name", ja, en)
    if number:
        _sub(element, "erad", number)


def _contact(doc: etree._Element, r: _Reader) -> None:
    """Annex 3 item 15: an e-mail address, or else the organisation, address and phone, as one free text."""
    email = r.value("grdm-file:data-man-email")
    if email and not EMAIL.match(email):
        r.problem("contact_email", email, "is not an e-mail address", "an e-mail address (name@example.ac.jp)")
        email = ""
    tel = r.value("grdm-file:data-man-tel")
    parts = {
        lang: [r.value(f"grdm-file:data-man-org-{lang}"), r.value(f"grdm-file:data-man-address-{lang}")]
        for lang in ("ja", "en")
    }
    details = _sub(doc, "contactDetails")
    for lang in ("ja", "en"):
        for name, value in zip(("organization", "address"), parts[lang], strict=True):
            if value:
                _sub(details, name, value, lang=lang)
    if tel:
        _sub(details, "tel", tel)
    if email:
        _sub(details, "email", email)
    if email:
        _sub(doc, "contact", email, lang="ja")
        return
    for lang in ("ja", "en"):
        words = [p for p in parts[lang] if p]
        if words:
            _sub(doc, "contact", " / ".join([*words, tel] if tel else words), lang=lang)
    if tel and not any(parts["ja"]) and not any(parts["en"]):
        _sub(doc, "contact", tel, lang="ja")
