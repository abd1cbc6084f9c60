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

An export that cannot be read at all (not a zip, an unsafe archive, broken JSON or encoding, no file metadata, an
unreadable project entry) is an `InputError` and changes nothing.  A file entry or CSV row that cannot be read is held
(see gateway.harvest.spreadsheet): a quarantined record of its project, with a ``<ci:problem>`` for each bad value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway import commonitems
from gateway.harvest.records import HarvestedRecord
from gateway.harvest.safezip import UnsafeArchive, read_members
from gateway.harvest.spreadsheet import (
    InputError,
    Located,
    SnapshotImport,
    csv_rows,
    entries_from_rows,
    file_label,
    hold_duplicates,
    locate,
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
    def located_records(self) -> list[Located]:
        newest: dict[str, tuple[tuple[float, str], list[Located]]] = {}
        for name, data, mtime in self.inputs(lambda p: p.suffix.lower() in EXPORT_SUFFIXES):
            items = read_located(name, data, label=self.label(name))
            projects = {item.project for item in items if item.project}
            by_project: dict[str, list[Located]] = {}
            for item in items:
                # a row without a readable grant number goes with its export's project (an export is of one project),
                # so that a newer export replaces it too; in a file of several projects it stands alone
                key = item.project or (next(iter(projects)) if len(projects) == 1 else item.identifier)
                by_project.setdefault(key, []).append(item)
            for project, located in by_project.items():
                rank = (mtime, name)
                if project not in newest or rank > newest[project][0]:
                    newest[project] = (rank, located)
        return [item for _rank, located in newest.values() for item in located]


def read_export(name: str, data: bytes) -> list[HarvestedRecord]:
    """The records of one export, whatever its form (held ones included)."""
    return [item.record() for item in hold_duplicates(read_located(name, data))]


def read_located(name: str, data: bytes, *, label: str | None = None) -> list[Located]:
    """Each file entry or row of one export, resolved; `label` names the file in problems (default: its name)."""
    label = label or file_label(name)
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if data[:2] == b"PK" or name.lower().endswith(".zip"):
        return _crate_zip(name, label, data)
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        document = _json(name, data)
        if isinstance(document, dict) and "@graph" in document:
            return _crate(name, label, document)
        return _registration(name, label, document)
    return [
        locate(entry, file=label, row=number, problems=problems)
        for number, entry, problems in entries_from_rows(csv_rows(data, name), name)
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


class _EntryError(ValueError):
    """One file entry of an export cannot be read as file metadata (the rest of the export can)."""


def _file_metadata(obj: Any) -> tuple[dict[str, Any], str | None]:
    """(GRDM key -> value, file path) of one file's metadata, in any of the shapes GakuNin RDM stores it in:
    {"path", "items": [{"active", "data": {...}}]}, {"path", "metadata": {...}} or the keys themselves."""
    if not isinstance(obj, dict):
        raise _EntryError(f"is a {type(obj).__name__}, not file metadata")
    path = obj.get("path") if isinstance(obj.get("path"), str) else None
    if isinstance(obj.get("items"), list):
        active = [i for i in obj["items"] if isinstance(i, dict) and i.get("active", True)]
        data = active[0].get("data") if active else None
        if not isinstance(data, dict):
            raise _EntryError("has no active metadata item")
        return data, path
    if isinstance(obj.get("metadata"), dict):
        return obj["metadata"], path
    return {k: v for k, v in obj.items() if k not in ("path", "urlpath", "folder", "hash")}, path


_EXPECT_ENTRY = 'file metadata: {"path", "metadata": {...}} or {"path", "items": [{"active": true, "data": {...}}]}'


def _file_entry(project: dict[str, Any], value: Any, *, label: str, at: str, path: str | None = None) -> Located:
    """One file entry with its project's values; an entry that is not file metadata is held with its project's."""
    try:
        data, own_path = _file_metadata(value)
    except _EntryError as exc:
        problem = commonitems.Problem(None, _shown(value), str(exc), _EXPECT_ENTRY)
        return locate(dict(project), file=label, at=at, problems=[problem], identify=False)
    return locate({**project, **data}, file=label, at=at, path=own_path or path)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:199] + "…"


def _project_values(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: obj[key] for key in PROJECT_KEYS if key in obj}


def _registration(name: str, label: str, document: Any) -> list[Located]:
    if isinstance(document, dict) and isinstance(document.get("registered_meta"), dict):
        document = document["registered_meta"]
    if not isinstance(document, dict) or "grdm-files" not in document:
        raise InputError(f"{name}: not a GakuNin RDM export (no 'grdm-files' and no RO-Crate '@graph')")
    project = _project_values(document)
    files = _inner_json(document["grdm-files"], f"{name}: grdm-files")
    if not isinstance(files, list):
        raise InputError(f"{name}: grdm-files must be a list of files")
    return [_file_entry(project, item, label=label, at=f"grdm-files[{index}]") for index, item in enumerate(files, 1)]


def _crate_zip(name: str, label: str, data: bytes) -> list[Located]:
    try:
        members = read_members(data, lambda member: member.rsplit("/", 1)[-1] == CRATE_METADATA)
    except UnsafeArchive as exc:
        raise InputError(f"{name}: {exc}") from None
    if not members:
        raise InputError(f"{name}: no {CRATE_METADATA} in the archive: not an RO-Crate export")
    # the crate's own metadata file is the shallowest one
    member = min(members, key=lambda m: (m.count("/"), m))
    return _crate(f"{name}!{member}", f"{label}!{member}", _json(f"{name}!{member}", members[member]))


def _types(entity: dict[str, Any]) -> set[str]:
    kind = entity.get("@type")
    return {kind} if isinstance(kind, str) else {k for k in kind or [] if isinstance(k, str)}


def _crate(name: str, label: str, document: Any) -> list[Located]:
    graph = document.get("@graph") if isinstance(document, dict) else None
    if not isinstance(graph, list):
        raise InputError(f"{name}: '@graph' must be a list")
    projects: list[dict[str, Any]] = []
    files: list[tuple[str, Any, str | None]] = []
    for index, entity in enumerate(graph):
        if not isinstance(entity, dict):
            continue
        types = _types(entity)
        at = f"@graph[{index}] ({entity.get('@id', '?')})"
        if "RDMProjectMetadata" in types:
            # the project's own values: without them no file can be placed, so the export is refused whole
            value = _inner_json(entity.get("text"), f"{name}: {at}: text")
            if isinstance(value, dict) and isinstance(value.get("items"), list):
                try:
                    value, _ = _file_metadata(value)
                except _EntryError as exc:
                    raise InputError(f"{name}: {at}: the project metadata {exc}") from None
            if not isinstance(value, dict):
                raise InputError(f"{name}: {at}: project metadata must be an object")
            projects.append(value)
        elif "RDMFileMetadata" in types:
            about = entity.get("about")
            about_id = about.get("@id") if isinstance(about, dict) else None
            files.append((at, entity.get("text"), about_id))
    if not files:
        raise InputError(f"{name}: no RDMFileMetadata entities: no file metadata in this export")
    project: dict[str, Any] = {}
    for values in projects:  # several registrations of one project: later ones fill what earlier ones lack
        for key, value in _project_values(values).items():
            project.setdefault(key, value)
    out = []
    for at, text, about_id in files:
        path = about_id.removeprefix("./") if isinstance(about_id, str) else None
        try:
            value = _inner_json(text, "text")
        except InputError as exc:
            problem = commonitems.Problem(
                None, _shown(text), f"(its text) {str(exc).removeprefix('text: ')}", "a JSON text"
            )
            out.append(locate(dict(project), file=label, at=at, path=path, problems=[problem], identify=False))
            continue
        out.append(_file_entry(project, value, label=label, at=at, path=path))
    return out


def is_export(path: Path) -> bool:
    return path.suffix.lower() in EXPORT_SUFFIXES
