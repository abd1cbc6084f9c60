"""Validation: findings about a canonical record and its rendered outputs.

A finding is a plain dict (it is stored as JSON with the record):
    {"severity": "error"|"warning", "layer": "crosswalk"|"schema"|"annex3"|"policy",
     "item": Annex-3 item number or None, "path": element path, "value": offending value,
     "message": what is wrong, in words a repository manager understands,
     "rule": a stable rule id (e.g. "annex3.required_missing", "xmllang_duplicated")}
An error blocks publication; a warning does not.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway import annex3, schemas
from gateway.rules import aggregator, annex3_rules

Finding = dict[str, Any]

# The COAR resource types of the dataset family (dataset and its narrower concepts in the JPCOAR 2.0 vocabulary):
# records of these types are managed research data, to which the Annex-3 rules apply.
DATASET_TYPES = {
    "http://purl.org/coar/resource_type/c_ddb1",  # dataset
    "http://purl.org/coar/resource_type/ACF7-8YT9",  # aggregated data
    "http://purl.org/coar/resource_type/c_cb28",  # clinical trial data
    "http://purl.org/coar/resource_type/FXF3-D3G7",  # compiled data
    "http://purl.org/coar/resource_type/AM6W-6QAW",  # encoded data
    "http://purl.org/coar/resource_type/63NG-B465",  # experimental data
    "http://purl.org/coar/resource_type/A8F1-NPV9",  # genomic data
    "http://purl.org/coar/resource_type/2H0M-X761",  # geospatial data
    "http://purl.org/coar/resource_type/H41Y-FW7B",  # laboratory notebook
    "http://purl.org/coar/resource_type/DD58-GFSX",  # measurement and test data
    "http://purl.org/coar/resource_type/FF4C-28RK",  # observational data
    "http://purl.org/coar/resource_type/CQMR-7K63",  # recorded data
    "http://purl.org/coar/resource_type/W2XT-7017",  # simulation data
    "http://purl.org/coar/resource_type/NHD0-W6SY",  # survey data
}


# Rule ids of findings made outside the rule modules, which have one kind of finding per layer.
_DEFAULT_RULES = {
    "crosswalk": "crosswalk.failed",
    "schema": "schema.invalid",
    "policy": "policy.private_value_published",
    "harvest": "harvest.unreadable",
}


def finding(
    severity: str,
    layer: str,
    message: str,
    *,
    item: int | None = None,
    path: str | None = None,
    value: str | None = None,
    rule: str | None = None,
) -> Finding:
    return {
        "severity": severity,
        "layer": layer,
        "rule": rule or _DEFAULT_RULES.get(layer, layer),
        "item": item,
        "path": path,
        "value": value,
        "message": message,
    }


def has_errors(findings: list[Finding]) -> bool:
    return any(f["severity"] == "error" for f in findings)


def annex3_applies(profile: str, resource_type_uri: str | None) -> bool:
    """Annex-3 rules apply to managed research data: the dataset family, or every record where the profile says so."""
    if profile == "annex3":
        return True
    if profile == "none":
        return False
    return resource_type_uri in DATASET_TYPES


def check_schema(document: etree._Element, prefix: str, *, label: str | None = None) -> list[Finding]:
    out = []
    for issue in schemas.validate(document, prefix):
        where = f"{label or prefix}: " if label else ""
        out.append(finding("error", "schema", f"{where}{issue.message}", path=issue.path))
    return out


def check_annex3(view: dict[str, list[dict[str, str]]], access_right: str | None) -> list[Finding]:
    """Every required Annex-3 item present, in every language the item requires."""
    out: list[Finding] = []
    for item in annex3.items():
        values = [v for v in view.get(item.key, []) if (v.get("value") or v.get("uri") or "").strip()]
        label = f"{item.label_en} ({item.label_ja})"
        if item.required and not values:
            out.append(
                finding(
                    "error",
                    "annex3",
                    f"required item missing: {label}",
                    item=item.no,
                    path=item.key,
                    rule="annex3.required_missing",
                )
            )
            continue
        if values:
            for lang in item.languages:
                if not any(v.get("lang") == lang for v in values):
                    out.append(
                        finding(
                            "error" if item.required else "warning",
                            "annex3",
                            f"{label}: no value in language '{lang}'",
                            item=item.no,
                            path=item.key,
                            rule="annex3.language_missing",
                        )
                    )
    if access_right == "embargoed" and not view.get("date_available"):
        out.append(
            finding(
                "error",
                "annex3",
                'embargoed access needs an available date (datacite:date dateType="Available")',
                item=11,
                path="date_available",
                rule="annex3.available_date_missing",
            )
        )
    out.extend(annex3_rules.check(view, access_right))
    return out


def check_aggregator(canonical: etree._Element, raw: etree._Element | None = None) -> list[Finding]:
    """Aggregator rules on the canonical record and, for JPCOAR 2.0 input, on the record as received.

    The crosswalk repairs or drops some faults (a wrong language tag, an unknown contributorType); checked only on the
    canonical record they would never be reported.  A fault found only as received was repaired, so it is a warning.
    """
    out = aggregator.check(canonical)
    if raw is None:
        return out
    seen = {(f["rule"], f["path"], f["value"]) for f in out}
    for f in aggregator.check(raw):
        if (f["rule"], f["path"], f["value"]) in seen:
            continue
        f["severity"] = "warning"
        f["message"] += " (as received; the gateway repaired or dropped it in the published record)"
        out.append(f)
    return out
