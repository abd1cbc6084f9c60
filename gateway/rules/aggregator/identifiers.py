"""The identifier rules: identifiers in URI form, registered DOIs among the identifiers, name identifiers by scheme
(format and checksum), ISSN / ISBN check digits, and Japan Grant Numbers as award numbers."""

from __future__ import annotations

from lxml import etree

from gateway.rules import ids
from gateway.rules.aggregator.walk import Run, text_of

DOI_TYPES = {"JaLC", "Crossref", "DataCite"}
SCHEME_CHECKS = {
    "ORCID": ids.orcid_ok,
    "ISNI": ids.isni_ok,
    "ROR": ids.ror_ok,
    "e-Rad_Researcher": ids.erad_ok,
}


def check_identifier(run: Run, el: etree._Element) -> None:
    kind, value = el.get("identifierType"), text_of(el)
    ok = {"DOI": ids.doi_uri_ok, "HDL": ids.hdl_uri_ok, "URI": ids.uri_ok}.get(kind or "")
    if ok is None:
        run.add("identifier_type_mismatch", el, f"identifierType '{kind}' is not DOI, HDL or URI", kind)
    elif not ok(value):
        run.add(
            "identifier_type_mismatch", el, f"'{value}' is not a {kind} in URI form (e.g. https://doi.org/10.…)", value
        )


def check_registration(run: Run, el: etree._Element, identifiers: set[str]) -> None:
    kind, value = el.get("identifierType"), text_of(el)
    if kind in DOI_TYPES:
        if not ids.doi_ok(value):
            run.add(
                "identifier_registration_type_mismatch", el, f"a {kind} DOI is given as prefix/suffix (10.…/…)", value
            )
        elif f"https://doi.org/{value}" not in identifiers:
            run.add(
                "identifier_registration_mismatch",
                el,
                "the registered DOI is not among the identifiers (jpcoar:identifier DOI)",
                value,
            )
    elif kind == "PMID":
        if not value.isdigit():
            run.add("identifier_registration_type_mismatch", el, "a PMID is digits only", value)
    else:
        run.add("identifier_registration_type_mismatch", el, f"identifierRegistration type '{kind}' is not known", kind)


def check_name_identifier(run: Run, el: etree._Element) -> None:
    scheme, value = el.get("nameIdentifierScheme") or "", text_of(el)
    if value.startswith(("http://", "https://")) and scheme != "ROR":
        # ROR is written as its URI in JPCOAR 2.0 (official sample 14); every other scheme takes the bare identifier.
        run.add(
            "name_identifier_content_is_uri",
            el,
            f"{scheme}: give the identifier itself; the URI goes in nameIdentifierURI",
            value,
        )
        return
    ok = SCHEME_CHECKS.get(scheme)
    if ok is not None and not ok(value):
        run.add(
            "name_identifier_mismatch",
            el,
            f"'{value}' is not a well-formed {scheme} identifier (format or checksum)",
            value,
        )


def check_typed_identifier(run: Run, el: etree._Element) -> None:
    kind, value = el.get("identifierType"), text_of(el)
    if kind in ("PISSN", "EISSN", "ISSN") and value and not ids.issn_ok(value):
        run.add("issn_checksum", el, "ISSN check digit is wrong", value)
    elif kind == "ISBN" and value and not ids.isbn_ok(value):
        run.add("isbn_checksum", el, "ISBN check digit is wrong", value)
    elif kind == "DOI" and value and not (ids.doi_ok(value) or ids.doi_uri_ok(value)):
        run.add("identifier_type_mismatch", el, "not a DOI", value)


def check_award(run: Run, el: etree._Element) -> None:
    kind, value = el.get("awardNumberType"), text_of(el)
    if kind is None:
        return
    if kind != "JGN":
        run.add("award_number_type_not_supported", el, f"awardNumberType '{kind}': only JGN (体系的番号) is used", kind)
    elif not ids.jgn_ok(value):
        run.add(
            "award_number_format",
            el,
            "a Japan Grant Number is 'JP' + the systematic number / 体系的番号の形式が不正です",
            value,
        )
