"""The rules over a record as a whole, from what the walk remembered: its access right (and embargo date), its
registered identifiers, an accepted manuscript's link to the version of record, and what a thesis needs."""

from __future__ import annotations

from lxml import etree

from gateway.rules.aggregator.identifiers import check_registration
from gateway.rules.aggregator.tables import Tables
from gateway.rules.aggregator.values import check_access
from gateway.rules.aggregator.walk import Record, Run

THESIS_TYPES = {
    "http://purl.org/coar/resource_type/c_db06",  # doctoral thesis
    "http://purl.org/coar/resource_type/c_bdcc",  # master thesis
    "http://purl.org/coar/resource_type/c_46ec",  # thesis
}


def check_record(run: Run, t: Tables, rec: Record, root: etree._Element) -> None:
    check_access(run, t, rec.access, rec.has_available, root)
    for reg in rec.registrations:
        check_registration(run, reg, rec.identifiers)
    if rec.version_label == "AM" and not rec.has_vor_relation:
        run.add(
            "vor_relation_not_found",
            None,
            "an accepted manuscript should link to the version of record (relation isVersionOf)",
            path="jpcoar:relation",
        )
    if rec.degree_langs and "en" not in rec.degree_langs:
        run.add(
            "degree_name_english",
            None,
            'degreeName should also be given in English (xml:lang="en") / 学位名の英語表記がありません',
            path="dcndl:degreeName",
        )
    if rec.type_uri in THESIS_TYPES:
        if not rec.has_creator:
            run.add("no_creator_in_thesis", None, "a thesis needs its author (jpcoar:creator)", path="jpcoar:creator")
        missing = {"dissertationNumber", "degreeName", "dateGranted", "degreeGrantor"} - rec.dissertation_parts
        if missing:
            run.add(
                "dissertation_details_not_found",
                None,
                f"a thesis needs {', '.join(sorted(missing))} / 学位論文の必須項目がありません",
                path="dcndl:" + sorted(missing)[0],
            )
