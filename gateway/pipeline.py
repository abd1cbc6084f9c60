"""One record through the mapping stages: crosswalk to the canonical record, render every output, validate them all.

`map_record` is pure (bytes in, findings and renderings out) so that `gateway validate`, harvests and `gateway remap`
share it, and so that worker processes can run it; `gateway.store` writes its results and publishes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from gateway import annex3, commonitems, crosswalk
from gateway import namespaces as ns
from gateway.annex3 import Summary
from gateway.dmp.keys import keys_of_view
from gateway.harvest import HarvestedRecord
from gateway.validate import (
    Finding,
    annex3_applies,
    check_aggregator,
    check_annex3,
    check_schema,
    finding,
    has_errors,
)
from gateway.xmlsafe import XMLInputError, parse_bytes

# Private values shorter than this are too common to be told apart from ordinary text when checking for leaks.
_LEAK_MIN_LENGTH = 4


@dataclass
class Mapped:
    canonical: bytes | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    view: dict[str, Any] = field(default_factory=dict)
    summary: Summary | None = None
    detected_prefix: str | None = None
    #: what tells the record's dataset (gateway.dmp.keys), read here so that worker processes do it, not the writer
    keys: list[tuple[str, str]] = field(default_factory=list)


def map_record(
    raw: bytes,
    *,
    prefix: str | None,
    profile: str = "auto",
    private: dict[str, Any] | None = None,
    repository: str | None = None,
) -> Mapped:
    """Crosswalk a raw record to canonical JPCOAR 2.0, render every output format, and validate them all."""
    result = Mapped()
    try:
        root = parse_bytes(raw)
    except XMLInputError as exc:
        result.findings.append(finding("error", "crosswalk", f"the record is not usable XML: {exc}"))
        return result
    detected = crosswalk.detect_format(root)
    result.detected_prefix = detected or prefix
    # A held spreadsheet / GakuNin RDM row carries why in its raw document, so a remap keeps it quarantined.
    result.findings.extend(commonitems.reading_findings(root))
    if detected is None:
        ns = etree.QName(root).namespace or "(no namespace)"
        result.findings.append(
            finding("error", "crosswalk", f"unrecognised metadata format (root element in {ns})", path=root.tag)
        )
        return result
    try:
        canonical = crosswalk.to_canonical(root, detected)
    except crosswalk.CrosswalkError as exc:
        result.findings.append(finding("error", "crosswalk", f"{detected} -> jpcoar_2.0: {exc}"))
        return result
    result.canonical = crosswalk.serialize(canonical)
    canonical_findings = check_schema(canonical, crosswalk.CANONICAL_PREFIX, label="canonical record")
    result.findings.extend(canonical_findings)
    # A proven stylesheet's output of a valid canonical record is valid (crosswalk.MetadataFormat.proven), except
    # where the 2.0 schema lets through a date of a day that does not exist, which xs:date in other schemas refuses.
    trusted = not has_errors(canonical_findings) and not _impossible_day(canonical)
    registered = crosswalk.formats()
    for out_prefix, fmt in registered.items():
        try:
            rendered = crosswalk.render(canonical, out_prefix)
        except crosswalk.CrosswalkError as exc:
            result.findings.append(finding("error", "crosswalk", f"jpcoar_2.0 -> {out_prefix}: {exc}"))
            continue
        if out_prefix != crosswalk.CANONICAL_PREFIX and not (trusted and fmt.proven):
            result.findings.extend(check_schema(rendered, out_prefix, label=f"{out_prefix} output"))
        result.outputs[out_prefix] = crosswalk.serialize(rendered)

    summary = annex3.summarize(canonical)
    result.summary = summary
    result.view = annex3.view(canonical)
    if repository and not result.view.get("repository"):
        # The aggregator adds the repository from where it harvests; the gateway knows it from the configuration.
        result.view["repository"] = [{"value": repository, "lang": "ja"}]
    result.keys = keys_of_view(result.view)
    if annex3_applies(profile, summary.resource_type_uri):
        result.findings.extend(check_annex3(result.view, summary.access_right))
    # The crosswalk repairs some faults; run the aggregator rules on the JPCOAR 2.0 record as received as well.
    raw_record = crosswalk._find_record(root)[0] if detected == crosswalk.CANONICAL_PREFIX else None
    if raw_record is not None and crosswalk.unchanged_by_mapping(raw_record, canonical, result.canonical):
        raw_record = None  # the record as received is the canonical one: its check would find the same, all dropped
    result.findings.extend(check_aggregator(canonical, raw_record))
    result.findings.extend(_leak_findings(result.outputs, private or {}))
    return result


#: the arguments of `map_record` for one record: raw bytes, prefix, profile, private values, repository name
MapArgs = tuple[bytes, "str | None", str, "dict[str, Any]", "str | None"]


def map_args_record(args: MapArgs) -> Mapped:
    """`map_record` over `SourceProcessor.map_args` (a top-level function, so that a process pool can call it)."""
    raw, prefix, profile, private, repository = args
    return map_record(raw, prefix=prefix, profile=profile, private=private, repository=repository)


_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DATES = f"{{{ns.DATACITE}}}date"


def _impossible_day(canonical: etree._Element) -> bool:
    """Whether a date of the record names a day that does not exist (2025-02-30)."""
    for element in canonical.iter(_DATES, f"{{{ns.DCTERMS}}}date", f"{{{ns.DCNDL}}}dateGranted"):
        for value in (element.text or "").strip().split("/"):
            match = _DAY.match(value)
            if match:
                try:
                    date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                except ValueError:
                    return True
    return False


def _leak_findings(outputs: dict[str, bytes], private: dict[str, Any]) -> list[Finding]:
    """A last line of defence: a value that must never be published must not be in any rendering."""
    out = []
    for key, value in private.items():
        text = str(value or "").strip()
        if len(text) < _LEAK_MIN_LENGTH:
            continue
        needle = text.encode("utf-8")
        for prefix, xml in outputs.items():
            if needle in xml:
                out.append(
                    finding("error", "policy", f"the private value '{key}' would be published in {prefix}", path=key)
                )
    return out


def raw_hash(item: HarvestedRecord, disclosure: str) -> str:
    digest = hashlib.sha256(item.raw or b"")
    digest.update(b"\0" + disclosure.encode() + b"\0")
    digest.update(json.dumps(item.private, sort_keys=True, ensure_ascii=False).encode())
    if item.warnings:
        # A repaired delivery differs from a clean one: once the source is mended, the record loses its warning.
        digest.update(b"\0" + json.dumps(item.warnings, ensure_ascii=False).encode())
    return digest.hexdigest()
