"""A folder of XML files: bare JPCOAR / oai_dc documents or saved OAI-PMH responses.

Identity: a record inside an OAI-PMH response keeps its header identifier; a bare document is identified by its path
relative to the folder (without the `.xml` ending), so re-importing the same folder gives the same identifiers.
A folder is a complete snapshot: a record whose file is gone is deleted.

An optional `manifest.toml` in the folder says what the files cannot: per record (keyed by relative path or by
identifier) its metadata disclosure and its remarks, which are kept but never published:

    [records."survey-2024.xml"]
    disclosure = "shared"
    remarks = "Waiting for the ethics board"
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.config import DISCLOSURES, SourceConfig
from gateway.harvest.oairesponse import OAIProtocolError, parse_response, salvage_response
from gateway.harvest.records import HarvestedRecord, HarvestError, Page
from gateway.namespaces import OAI
from gateway.xmlsafe import XMLInputError, parse_bytes, strip_illegal_xml_chars, tostring

MANIFEST = "manifest.toml"
PAGE_SIZE = 100
MAX_FILE_BYTES = 64 * 1024 * 1024


class DirectoryHarvester:
    is_snapshot = True

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        self.root = Path(source.path or ".")
        self.requests = 0
        self.retries = 0
        self.response_date: str | None = None

    def _manifest(self) -> dict[str, dict[str, Any]]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise HarvestError(f"{path}: not valid TOML: {exc}") from None
        records = data.get("records", {})
        if not isinstance(records, dict):
            raise HarvestError(f"{path}: [records] must be a table")
        for key, entry in records.items():
            if not isinstance(entry, dict):
                raise HarvestError(f"{path}: records.{key!r} must be a table")
            disclosure = entry.get("disclosure")
            if disclosure is not None and disclosure not in DISCLOSURES:
                raise HarvestError(f"{path}: records.{key!r}.disclosure {disclosure!r} is not one of {DISCLOSURES}")
        return records

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            raise HarvestError(f"source {self.source.name}: {self.root} is not a directory")
        found = [p for p in self.root.rglob("*.xml") if p.is_file() and not p.is_symlink()]
        return sorted(found, key=lambda p: p.relative_to(self.root).as_posix())

    def pages(self) -> Iterator[Page]:
        manifest = self._manifest()
        batch: list[HarvestedRecord] = []
        warnings: list[str] = []
        for path in self.files():
            self.requests += 1
            for record in self._read(path, warnings):
                entry = manifest.get(record.identifier) or manifest.get(path.relative_to(self.root).as_posix())
                if entry:
                    record.disclosure = entry.get("disclosure")
                    remarks = entry.get("remarks")
                    if remarks:
                        record.private["remarks"] = str(remarks)
                batch.append(record)
                if len(batch) >= PAGE_SIZE:
                    yield Page(records=batch, warnings=warnings)
                    batch, warnings = [], []
        if batch or warnings:
            yield Page(records=batch, warnings=warnings)

    def _read(self, path: Path, warnings: list[str]) -> list[HarvestedRecord]:
        rel = path.relative_to(self.root).as_posix()
        ident = rel[:-4] if rel.endswith(".xml") else rel
        if path.stat().st_size > MAX_FILE_BYTES:
            return [HarvestedRecord(identifier=ident, error=f"{rel}: file larger than {MAX_FILE_BYTES} bytes")]
        data = path.read_bytes()
        cleaned, removed = strip_illegal_xml_chars(data)
        if removed:
            warnings.append(f"{rel}: removed {removed} character(s) that are not allowed in XML")
        try:
            root = parse_bytes(cleaned)
        except XMLInputError as exc:
            # A saved OAI-PMH response with one broken record: the others are read, the broken one is held.
            salvaged = salvage_response(cleaned, what=rel) if b"OAI-PMH" in cleaned[:4096] else None
            if salvaged is None:
                return [HarvestedRecord(identifier=ident, error=f"{rel}: {exc}")]
            warnings.extend(salvaged.warnings)
            for rec in salvaged.records:
                if rec.error:
                    rec.error = f"{rel}: {rec.error}"
                    rec.identifier = rec.identifier or ident
            return salvaged.records
        if root.tag == f"{{{OAI}}}OAI-PMH":
            try:
                response = parse_response(cleaned, what=rel)
            except OAIProtocolError as exc:
                if exc.code == "noRecordsMatch":
                    return []
                return [HarvestedRecord(identifier=ident, error=f"{rel}: {exc}")]
            except HarvestError as exc:
                return [HarvestedRecord(identifier=ident, error=str(exc))]
            for rec in response.records:
                if rec.error:
                    rec.error = f"{rel}: {rec.error}"
                    rec.identifier = rec.identifier or ident
            return response.records
        return [HarvestedRecord(identifier=ident, raw=tostring(root))]
