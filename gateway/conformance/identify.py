"""The checks of what a repository says about itself: Identify, ListMetadataFormats, and its identifiers' form.

What Identify declares (granularity, deletedRecord, earliestDatestamp, baseURL, the oai-identifier description) is
kept on the probe: the later checks judge datestamps, deleted records and identifiers by it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gateway.conformance.probe import Probe
from gateway.conformance.protocol import DAY, DAY_RE, SECONDS, SECONDS_RE, parse_stamp, q
from gateway.conformance.report import listed
from gateway.namespaces import OAI_IDENTIFIER

# oai-identifier.xsd, repositoryIdentifierType
_REPOSITORY_ID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")


def identify(probe: Probe) -> None:
    resp = probe.request([("verb", "Identify")])
    el = resp.verb_element("Identify")
    if el is None:
        probe.add("Identify", False, resp.describe())
        return
    probe.add("Identify", True)
    probe.schema_check("Identify", resp)

    def values(name: str) -> list[str]:
        return [(e.text or "").strip() for e in el.findall(q(name))]

    missing = []
    for name in (
        "repositoryName",
        "baseURL",
        "protocolVersion",
        "earliestDatestamp",
        "deletedRecord",
        "granularity",
    ):
        if len(values(name)) != 1:
            missing.append(f"{name} occurs {len(values(name))} times (must be once)")
    if not values("adminEmail"):
        missing.append("no adminEmail")
    probe.add("Identify: required elements", not missing, "; ".join(missing))

    version = values("protocolVersion")
    probe.add("Identify: protocolVersion", version == ["2.0"], f"protocolVersion {version}")

    granularity = values("granularity")
    ok = len(granularity) == 1 and granularity[0] in {DAY, SECONDS}
    probe.add("Identify: granularity", ok, f"granularity {granularity}")
    if ok:
        probe.granularity = granularity[0]

    deleted = values("deletedRecord")
    ok = len(deleted) == 1 and deleted[0] in {"no", "transient", "persistent"}
    probe.add("Identify: deletedRecord", ok, f"deletedRecord {deleted}")
    if ok:
        probe.deleted_record = deleted[0]

    earliest = values("earliestDatestamp")
    stamp = earliest[0] if earliest else ""
    pattern = SECONDS_RE if probe.granularity == SECONDS else DAY_RE
    moment = parse_stamp(stamp)
    ok = bool(pattern.match(stamp)) and moment is not None
    probe.add("Identify: earliestDatestamp", ok, f"{stamp!r} must be a valid date in granularity {probe.granularity}")
    if moment is not None:
        probe.earliest = moment

    base = values("baseURL")
    parts = urlsplit(base[0]) if base else None
    ok = parts is not None and parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.query
    detail = f"baseURL {base}"
    if ok and base[0] != probe.base_url:
        detail += f" (the URL checked is {probe.base_url}; fine behind a proxy)"
    probe.add("Identify: baseURL", ok, detail)
    if base:
        probe.declared_base_url = base[0]

    for description in el.findall(q("description")):
        oid = description.find(f"{{{OAI_IDENTIFIER}}}oai-identifier")
        if oid is None:
            continue
        scheme = (oid.findtext(f"{{{OAI_IDENTIFIER}}}scheme") or "").strip()
        repo_id = (oid.findtext(f"{{{OAI_IDENTIFIER}}}repositoryIdentifier") or "").strip()
        delimiter = (oid.findtext(f"{{{OAI_IDENTIFIER}}}delimiter") or "").strip()
        sample = (oid.findtext(f"{{{OAI_IDENTIFIER}}}sampleIdentifier") or "").strip()
        problems = []
        if scheme != "oai":
            problems.append(f"scheme {scheme!r} (must be 'oai')")
        if not _REPOSITORY_ID_RE.match(repo_id):
            problems.append(f"repositoryIdentifier {repo_id!r} is not a domain-name-like identifier")
        if delimiter != ":":
            problems.append(f"delimiter {delimiter!r} (must be ':')")
        if not sample.startswith(f"oai:{repo_id}:") or len(sample) <= len(f"oai:{repo_id}:"):
            problems.append(f"sampleIdentifier {sample!r} does not start with oai:{repo_id}:")
        probe.add("Identify: oai-identifier description", not problems, "; ".join(problems))
        probe.repository_id = repo_id
        probe.delimiter = delimiter or ":"
        break


def list_metadata_formats(probe: Probe) -> list[str]:
    resp = probe.request([("verb", "ListMetadataFormats")])
    el = resp.verb_element("ListMetadataFormats")
    if el is None:
        probe.add("ListMetadataFormats", False, resp.describe())
        return []
    probe.schema_check("ListMetadataFormats", resp)
    prefixes: list[str] = []
    problems = []
    for fmt in el.findall(q("metadataFormat")):
        prefix = (fmt.findtext(q("metadataPrefix")) or "").strip()
        for name in ("schema", "metadataNamespace"):
            if not (fmt.findtext(q(name)) or "").strip():
                problems.append(f"{prefix or '?'}: no {name}")
        if prefix in prefixes:
            problems.append(f"{prefix} listed twice")
        elif prefix:
            prefixes.append(prefix)
    if not prefixes:
        problems.append("no metadataFormat listed")
    probe.add("ListMetadataFormats", not problems, listed(problems) or f"formats {prefixes}")
    # The protocol requires every repository to disseminate unqualified Dublin Core.
    probe.add("ListMetadataFormats: oai_dc offered", "oai_dc" in prefixes, f"formats {prefixes}")
    return prefixes


def metadata_formats_of(probe: Probe, identifier: str, all_prefixes: list[str]) -> None:
    name = "ListMetadataFormats identifier=<a listed item>"
    resp = probe.request([("verb", "ListMetadataFormats"), ("identifier", identifier)])
    el = resp.verb_element("ListMetadataFormats")
    if el is None:
        probe.add(name, False, f"{identifier}: {resp.describe()}")
        return
    probe.schema_check(name, resp)
    got = [(f.findtext(q("metadataPrefix")) or "").strip() for f in el.findall(q("metadataFormat"))]
    extra = [p for p in got if p not in all_prefixes]
    ok = bool(got) and not extra
    probe.add(name, ok, f"{identifier}: formats {got}" + (f"; not in the repository's list: {extra}" if extra else ""))


def identifiers_match(probe: Probe, identifiers: list[str]) -> None:
    """Every identifier the lists gave starts as the oai-identifier description (if Identify gave one) says."""
    if probe.repository_id:
        stem = f"oai:{probe.repository_id}{probe.delimiter}"
        strangers = sorted({i for i in identifiers if not i.startswith(stem) or i == stem})
        probe.add(
            "Identify: oai-identifier matches the identifiers",
            not strangers,
            listed([f"{i} does not start with {stem}" for i in strangers]),
        )
