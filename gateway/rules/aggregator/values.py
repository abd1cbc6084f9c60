"""The controlled-value rules: values JPCOAR 2.0 made obsolete, and the COAR access right and version of a record
agreeing with their labels (an embargo with its Available date)."""

from __future__ import annotations

from lxml import etree

from gateway.rules.aggregator.tables import Tables
from gateway.rules.aggregator.walk import RDF_RESOURCE, Run, key, text_of


def check_obsolete(run: Run, t: Tables, el: etree._Element, attr: str, old: str, replacement: str) -> None:
    parent = el.getparent()
    parent_local = key(parent).partition(":")[2] if parent is not None else ""
    if parent_local not in t.obsolete_except.get(old, ()):
        run.add(
            "obsolete_value", el, f'{attr}="{old}" is obsolete in JPCOAR 2.0: use {replacement} / 廃止された値です', old
        )


def check_version(run: Run, t: Tables, el: etree._Element) -> None:
    uri = el.get(RDF_RESOURCE)
    if uri is None:
        return
    label = t.versions.get(uri)
    if label is None or label != text_of(el):
        run.add(
            "version_type_mismatch", el, f"oaire:version: '{text_of(el)}' and {uri} do not agree (COAR version)", uri
        )


def check_access(run: Run, t: Tables, el: etree._Element | None, has_available: bool, root: etree._Element) -> None:
    if el is None:
        return
    uri = el.get(RDF_RESOURCE)
    if uri is None:
        run.add(
            "access_rights_without_rdf_resource", el, "accessRights needs the COAR URI in rdf:resource", text_of(el)
        )
        return
    label = t.access.get(uri)
    if label is None:
        run.add("access_rights_wrong_uri", el, "accessRights URI is not a COAR access right", uri)
        return
    if text_of(el) and text_of(el) != label:
        run.add("access_rights_mismatch", el, f"accessRights: '{text_of(el)}' but the URI means '{label}'", text_of(el))
    if label == "embargoed access" and not has_available:
        run.add(
            "embargoed_without_available_date", el, 'embargoed access needs datacite:date dateType="Available"', uri
        )
    elif label != "embargoed access" and has_available:
        # After an embargo ends the date is often kept; harmless for publication, but worth tidying.
        run.add("available_date_not_embargoed", el, "an Available date on a record that is not embargoed", label)
