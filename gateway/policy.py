"""The policy gate: what may be published, and the OAI-PMH sets a published record belongs to.

Two levels must not be confused (DESIGN section 5): the *metadata disclosure* (public / shared / private) decides
whether a record is published at all; the *data access right* (open / restricted / metadata-only / embargoed) describes
the data, is published inside the record, and is what the counts are split by.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gateway.annex3 import Summary

PUBLISHED = "published"
WITHHELD = "withheld"
QUARANTINED = "quarantined"
DELETED = "deleted"
STATUSES = (PUBLISHED, WITHHELD, QUARANTINED, DELETED)

ACCESS_RIGHTS = ("open", "restricted", "metadata-only", "embargoed")
ACCESS_LABELS = {
    "open": "open access",
    "restricted": "restricted access",
    "metadata-only": "metadata only access",
    "embargoed": "embargoed access",
}

_SET_CHARS = re.compile(r"[^A-Za-z0-9\-_.!~*'()]+")


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str


def decide(*, source_deleted: bool, disclosure: str, has_errors: bool, narrowed_by: str | None = None) -> Decision:
    """The one place that says whether a record is published.

    `narrowed_by` is why a second gate withholds a record its source calls public (the project's DMP says its
    metadata is shared or private: gateway.dmp.gating); it can only narrow, so it is read last, for a public record.
    """
    if source_deleted:
        return Decision(DELETED, "deleted at the source")
    if has_errors:
        return Decision(QUARANTINED, "validation errors")
    if disclosure != "public":
        if disclosure == "unknown":
            return Decision(WITHHELD, "metadata disclosure could not be determined")
        return Decision(WITHHELD, f"metadata disclosure is {disclosure}, not public")
    if narrowed_by:
        return Decision(WITHHELD, narrowed_by)
    return Decision(PUBLISHED, "public and valid")


def set_token(value: str) -> str:
    """A value made safe for a setSpec component (OAI-PMH allows only unreserved URI characters)."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return _SET_CHARS.sub("-", ascii_text).strip("-").lower()[:120]


def sets_for(source_name: str, summary: Summary) -> dict[str, str]:
    """setSpec -> set name for a published record, parents included (a record in `source:x` is also in `source`)."""
    sets: dict[str, str] = {"source": "Sources", f"source:{source_name}": f"Source: {source_name}"}
    for funding in summary.fundings:
        funder_key = set_token(funding.funder_code or "") or set_token(funding.funder_name_en or "")
        if funder_key:
            sets["funder"] = "Funders"
            names = " / ".join(n for n in (funding.funder_name_ja, funding.funder_name_en) if n)
            sets[f"funder:{funder_key}"] = f"Funder: {names or funder_key}"
        jgn = set_token(funding.jgn or "").upper() if funding.jgn else ""
        if jgn:
            sets["project"] = "Projects (Japan Grant Number)"
            names = " / ".join(n for n in (funding.project_name_ja, funding.project_name_en) if n)
            sets[f"project:{jgn}"] = f"Project {funding.jgn}" + (f": {names}" if names else "")
    if summary.access_right in ACCESS_RIGHTS:
        sets["access"] = "Data access rights"
        sets[f"access:{summary.access_right}"] = f"Data access: {ACCESS_LABELS[summary.access_right]}"
    return sets
