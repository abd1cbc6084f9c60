"""GakuNin RDM exports of the common metadata items ("メタデータ共通項目2024版").

Three forms, told apart by their content (not their name):
- the CSV report, Japanese or English headers, one row per registered file (read like a spreadsheet);
- the RO-Crate project export: a zip holding `ro-crate-metadata.json`, whose `RDMFileMetadata` entities carry each
  file's metadata and `RDMProjectMetadata` entities the project's, both as JSON *strings* in `text`;
- the project registration JSON, whose `grdm-files` value is itself a JSON string listing the files' metadata.
Every file becomes one record, identified by project (Japan Grant Number) + data number, or + file path where the file
has no data number.  GakuNin RDM's metadata access right (grdm-file:metadata-access-rights) gives the disclosure:
only open access metadata is public; where an export does not carry it (the CSV report), the source's
`metadata_disclosure` applies.

A source is a file, a URL, or a folder of exports: in a folder, the newest export of each project wins (by file
modification time, then name), so dropping a new export next to the old one replaces the project's records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.harvest import HarvestedRecord
from gateway.harvest.safezip import UnsafeArchive, read_members
from gateway.harvest.spreadsheet import (
    InputError,
    SnapshotImport,
    csv_rows,
    entries_from_rows,
    make_record,
)

EXPORT_SUFFIXES = (".csv", ".zip", ".json")
CRATE_METADATA = "ro-crate-metadata.json"
PROJECT_KEYS = (
    "funder",
    "funding-stream-code",
    "program-name-ja",
    "program-name-en",
    "japan-grant-number",
    "project-name-ja",
    "project-name-en",
    "project-research-field",
)


class GrdmHarvester(SnapshotImport):
    def located_records(self) -> list[tuple[str, HarvestedRecord]]:
        newest: dict[str, tuple[tuple[float, str], list[tuple[str, HarvestedRecord]]]] = {}
        for name, data, mtime in self.inputs(lambda p: p.suffix.lower() in EXPORT_SUFFIXES):
            by_project: dict[str, list[tuple[str, HarvestedRecord]]] = {}
            for where, record in read_located(name, data):
                by_project.setdefault(record.identifier.split("/", 1)[0], []).append((where, record))
            for project, records in by_project.items():
                rank = (mtime, name)
                if project not in newest or rank > newest[project][0]:
                    newest[project] = (rank, records)
        return [record for _rank, records in newest.values() for record in records]


def read_export(name: str, data: bytes) -> list[HarvestedRecord]:
    """The records of one export, whatever its form."""
    return [record for _where, record in read_located(name, data)]


def read_located(name: str, data: bytes) -> list[tuple[str, HarvestedRecord]]:
    """(where, record) for each record of one export: `where` names the file and the row or entry."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if data[:2] == b"PK" or name.lower().endswith(".zip"):
        return _crate_zip(name, data)
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        document = _json(name, data)
        if isinstance(document, dict) and "@graph" in document:
            return _crate(name, document)
        return _registration(name, document)
    return [
        (f"{name}: row {number}", make_record(entry, f"{name}: row {number}"))
        for number, entry in entries_from_rows(csv_rows(data, name), name)
    ]


def _json(name: str, data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 (invalid byte at offset {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def _inner_json(value: Any, where: str) -> Any:
    """A value GakuNin RDM stores as a JSON string (sometimes already decoded by whoever copied it)."""
    if isinstance(value, dict) and "value" in value and len(value) <= 3:
        value = value["value"]
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a JSON string, found {type(value).__name__}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def _file_metadata(obj: Any, where: str) -> tuple[dict[str, Any], str | None]:
    """(GRDM key -> value, file path) of one file's metadata, in any of the shapes GakuNin RDM stores it in:
    {"path", "items": [{"active", "data": {...}}]}, {"path", "metadata": {...}} or the keys themselves."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: file metadata must be an object")
    path = obj.get("path") if isinstance(obj.get("path"), str) else None
    if isinstance(obj.get("items"), list):
        active = [i for i in obj["items"] if isinstance(i, dict) and i.get("active", True)]
        data = active[0].get("data") if active else None
        if not isinstance(data, dict):
            raise InputError(f"{where}: no active metadata item")
        return data, path
    if isinstance(obj.get("metadata"), dict):
        return obj["metadata"], path
    return {k: v for k, v in obj.items() if k not in ("path", "urlpath", "folder", "hash")}, path


def _project_values(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: obj[key] for key in PROJECT_KEYS if key in obj}


def _registration(name: str, document: Any) -> list[tuple[str, HarvestedRecord]]:
    if isinstance(document, dict) and isinstance(document.get("registered_meta"), dict):
        document = document["registered_meta"]
    if not isinstance(document, dict) or "grdm-files" not in document:
        raise InputError(f"{name}: not a GakuNin RDM export (no 'grdm-files' and no RO-Crate '@graph')")
    project = _project_values(document)
    files = _inner_json(document["grdm-files"], f"{name}: grdm-files")
    if not isinstance(files, list):
        raise InputError(f"{name}: grdm-files must be a list of files")
    out = []
    for index, item in enumerate(files, 1):
        where = f"{name}: grdm-files[{index}]"
        data, path = _file_metadata(item, where)
        out.append((where, make_record({**project, **data}, where, path=path)))
    return out


def _crate_zip(name: str, data: bytes) -> list[tuple[str, HarvestedRecord]]:
    try:
        members = read_members(data, lambda member: member.rsplit("/", 1)[-1] == CRATE_METADATA)
    except UnsafeArchive as exc:
        raise InputError(f"{name}: {exc}") from None
    if not members:
        raise InputError(f"{name}: no {CRATE_METADATA} in the archive: not an RO-Crate export")
    # the crate's own metadata file is the shallowest one
    member = min(members, key=lambda m: (m.count("/"), m))
    return _crate(f"{name}!{member}", _json(f"{name}!{member}", members[member]))


def _types(entity: dict[str, Any]) -> set[str]:
    kind = entity.get("@type")
    return {kind} if isinstance(kind, str) else {k for k in kind or [] if isinstance(k, str)}


def _crate(name: str, document: Any) -> list[tuple[str, HarvestedRecord]]:
    graph = document.get("@graph") if isinstance(document, dict) else None
    if not isinstance(graph, list):
        raise InputError(f"{name}: '@graph' must be a list")
    projects: list[dict[str, Any]] = []
    files: list[tuple[str, Any, str | None]] = []
    for index, entity in enumerate(graph):
        if not isinstance(entity, dict):
            continue
        types = _types(entity)
        where = f"{name}: @graph[{index}] ({entity.get('@id', '?')})"
        if "RDMProjectMetadata" in types:
            value = _inner_json(entity.get("text"), f"{where}: text")
            if isinstance(value, dict) and isinstance(value.get("items"), list):
                value, _ = _file_metadata(value, where)
            if not isinstance(value, dict):
                raise InputError(f"{where}: project metadata must be an object")
            projects.append(value)
        elif "RDMFileMetadata" in types:
            about = entity.get("about")
            about_id = about.get("@id") if isinstance(about, dict) else None
            files.append((where, _inner_json(entity.get("text"), f"{where}: text"), about_id))
    if not files:
        raise InputError(f"{name}: no RDMFileMetadata entities: no file metadata in this export")
    project: dict[str, Any] = {}
    for values in projects:  # several registrations of one project: later ones fill what earlier ones lack
        for key, value in _project_values(values).items():
            project.setdefault(key, value)
    out = []
    for where, value, about_id in files:
        data, path = _file_metadata(value, where)
        path = path or (about_id.removeprefix("./") if isinstance(about_id, str) else None)
        out.append((where, make_record({**project, **data}, where, path=path)))
    return out


def is_export(path: Path) -> bool:
    return path.suffix.lower() in EXPORT_SUFFIXES
