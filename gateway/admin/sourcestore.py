"""Sources kept in the database, so that the dashboard can add, edit, disable and delete them.

Which definition wins: the dashboard's. The configuration file's [[sources]] are imported on start, but a definition
that was edited (or disabled, or deleted) in the dashboard is never overwritten by the file; a definition that came
from the file and was never touched in the dashboard follows the file (changed, or removed when the file drops it).
The reason: the dashboard is where a manager fixes a source at two in the morning; a restart must not silently undo
that, whereas the file stays the way to provision sources on a new installation.

Every definition is validated by the configuration file's own rules (gateway.config), so a source the dashboard
accepts is one the file would accept, and `export_toml` writes a file the configuration parser reads back.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway import config as gwconfig
from gateway.config import Config, ConfigError, SourceConfig
from gateway.db import utcnow
from gateway.models import SourceDefinition

log = logging.getLogger(__name__)

# The fields of a [[sources]] table, in the order an exported file lists them.
FIELDS = (
    "name",
    "kind",
    "url",
    "path",
    "metadata_prefix",
    "sets",
    "metadata_disclosure",
    "profile",
    "schedule",
    "enabled",
    "timeout",
    "max_retries",
    "retry_ceiling",
    "min_delay",
    "repository_name",
    "priority",
)
_MAX_TEXT = {"url": 2000, "path": 4096, "repository_name": 1000, "schedule": 200}


class SourceError(ValueError):
    """A source definition that cannot be accepted; `field` names the offending field (None: the whole source)."""

    def __init__(self, field: str | None, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def _settings(source: SourceConfig, *, path: str | None = None) -> dict[str, Any]:
    """The stored form of a validated source: exactly the keys a [[sources]] table would hold (without enabled)."""
    out: dict[str, Any] = {"name": source.name, "kind": source.kind}
    if source.url:
        out["url"] = source.url
    if path is not None or source.path is not None:
        out["path"] = path if path is not None else str(source.path)
    out["metadata_prefix"] = source.metadata_prefix
    out["sets"] = list(source.sets)
    out["metadata_disclosure"] = source.metadata_disclosure
    out["profile"] = source.profile
    if source.schedule:
        out["schedule"] = source.schedule
    out["timeout"] = source.timeout
    if source.kind == "oai-pmh":
        for key in ("max_retries", "retry_ceiling", "min_delay"):
            if key in source.options:
                out[key] = source.options[key]
    if source.repository_name:
        out["repository_name"] = source.repository_name
    if source.priority:  # 0 is the default: left out, as a file would leave it out
        out["priority"] = source.priority
    return out


def _check_values(data: dict[str, Any]) -> None:
    """What TOML, JSON columns and PostgreSQL cannot hold, refused before the configuration rules run."""
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, float) and not math.isfinite(item):
                raise SourceError(key, "must be a finite number")
            if isinstance(item, str):
                if any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in item):
                    raise SourceError(key, "must not contain control characters")
                if len(item) > _MAX_TEXT.get(key, 255):
                    raise SourceError(key, f"is longer than {_MAX_TEXT.get(key, 255)} characters")
            if isinstance(item, dict | list):
                raise SourceError(key, "must not be nested")


def _field_of(exc: ConfigError, name: Any) -> str | None:
    key = exc.key or ""
    if key.startswith("sources["):  # before the name was known: "sources[0].name"
        return key.split("].", 1)[1] if "]." in key else "name"
    prefix = f"sources.{name}"
    if isinstance(name, str) and key.startswith(prefix):
        rest = key[len(prefix) :].lstrip(".")
        if rest:
            return rest
        if "unknown key" in exc.message:
            return exc.message.rsplit(": ", 1)[-1].split(", ")[0]
    return None


def validate(data: Any, *, base_dir: Path | None = None) -> SourceConfig:
    """A source definition checked by the configuration file's rules; SourceError names the field."""
    if not isinstance(data, dict):
        raise SourceError(None, "a source must be an object of settings")
    clean = {k: v for k, v in data.items() if v is not None}
    for key in clean:
        if not isinstance(key, str) or key not in FIELDS:
            raise SourceError(str(key), f"unknown field (expected one of: {', '.join(FIELDS)})")
    _check_values(clean)
    timeout = clean.get("timeout")
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and not 0 < timeout <= 3600:
        raise SourceError("timeout", "must be more than 0 and at most 3600 seconds")
    try:
        return gwconfig._source(gwconfig._Reader(None), clean, 0, base_dir or Path.cwd())
    except ConfigError as exc:
        raise SourceError(_field_of(exc, clean.get("name")), exc.message) from None


def as_dict(row: SourceDefinition) -> dict[str, Any]:
    """A definition as the dashboard and the API show it: the settings plus where they came from."""
    out = dict(row.settings or {})
    out["enabled"] = bool(row.enabled)
    out["origin"] = row.origin
    out["edited_in_dashboard"] = row.edited_at is not None
    out["created_at"] = _iso(row.created_at)
    out["updated_at"] = _iso(row.updated_at)
    out["edited_at"] = _iso(row.edited_at)
    return out


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _row(session: Session, name: str) -> SourceDefinition | None:
    return session.scalar(select(SourceDefinition).where(SourceDefinition.name == name))


def list_sources(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(SourceDefinition).where(SourceDefinition.deleted_at.is_(None)).order_by(SourceDefinition.id)
    )
    return [as_dict(row) for row in rows]


def get_source(session: Session, name: str) -> dict[str, Any] | None:
    row = _row(session, name)
    if row is None or row.deleted_at is not None:
        return None
    return as_dict(row)


def save_source(session: Session, data: dict[str, Any], *, name: str | None = None) -> dict[str, Any]:
    """Create a source (name None) or replace the settings of the source `name`, as a dashboard edit."""
    if not isinstance(data, dict):
        raise SourceError(None, "a source must be an object of settings")
    data = dict(data)
    if name is not None:
        given = data.get("name")
        if given is not None and given != name:
            raise SourceError("name", "a source's name cannot be changed (it is part of its records' identifiers)")
        data["name"] = name
    for key in ("origin", "edited_in_dashboard", "created_at", "updated_at", "edited_at"):
        data.pop(key, None)  # read-only fields a client may send back unchanged
    raw_path = data.get("path")
    if isinstance(raw_path, str) and raw_path and not Path(raw_path).is_absolute():
        raise SourceError("path", "must be an absolute path (there is no configuration file to be relative to)")
    source = validate(data)
    row = _row(session, source.name)
    now = utcnow()
    if name is None and row is not None and row.deleted_at is None:
        raise SourceError("name", f"a source named {source.name!r} already exists")
    if name is not None and (row is None or row.deleted_at is not None):
        raise SourceError("name", f"no source named {name!r}")
    settings = _settings(source, path=raw_path if isinstance(raw_path, str) and raw_path else None)
    if row is None:
        row = SourceDefinition(name=source.name, origin="dashboard", created_at=now)
        session.add(row)
    row.settings = settings
    row.enabled = source.enabled if "enabled" in data or name is None or row.enabled is None else row.enabled
    row.updated_at = now
    row.edited_at = now
    row.deleted_at = None
    session.flush()
    return as_dict(row)


def delete_source(session: Session, name: str) -> None:
    """Delete a source's definition: it is no longer harvested (its records stay, published ones keep being served).

    The row stays as a tombstone so that the configuration file does not bring the source back on the next start;
    saving a source of the same name again revives it.
    """
    row = _row(session, name)
    if row is None or row.deleted_at is not None:
        raise SourceError("name", f"no source named {name!r}")
    now = utcnow()
    row.deleted_at = now
    row.edited_at = now
    row.updated_at = now
    session.flush()


def set_enabled(session: Session, name: str, enabled: bool) -> dict[str, Any]:
    row = _row(session, name)
    if row is None or row.deleted_at is not None:
        raise SourceError("name", f"no source named {name!r}")
    now = utcnow()
    row.enabled = bool(enabled)
    row.edited_at = now
    row.updated_at = now
    session.flush()
    return as_dict(row)


def import_config_sources(session: Session, config: Config) -> dict[str, list[str]]:
    """Bring the configuration file's sources into the database without overwriting dashboard edits.

    New names are added; definitions from the file that were never edited in the dashboard follow the file (and are
    removed when the file no longer has them); edited or deleted ones are left alone. Returns what happened, by name.
    """
    outcome: dict[str, list[str]] = {"added": [], "updated": [], "kept": [], "removed": []}
    rows = {row.name: row for row in session.scalars(select(SourceDefinition))}
    now = utcnow()
    in_file = set()
    for source in config.sources:
        in_file.add(source.name)
        settings = _settings(source)
        row = rows.get(source.name)
        if row is None:
            session.add(
                SourceDefinition(
                    name=source.name,
                    settings=settings,
                    enabled=source.enabled,
                    origin="config",
                    created_at=now,
                    updated_at=now,
                )
            )
            outcome["added"].append(source.name)
        elif row.edited_at is not None or row.deleted_at is not None or row.origin != "config":
            outcome["kept"].append(source.name)
        elif row.settings != settings or row.enabled != source.enabled:
            row.settings, row.enabled, row.updated_at = settings, source.enabled, now
            outcome["updated"].append(source.name)
    for name, row in rows.items():
        if name not in in_file and row.origin == "config" and row.edited_at is None and row.deleted_at is None:
            session.delete(row)
            outcome["removed"].append(name)
    session.flush()
    return outcome


def import_on_start(sessions: sessionmaker[Session], config: Config) -> dict[str, list[str]]:
    """`import_config_sources` in its own transaction; a second process importing at the same moment is harmless."""
    for attempt in range(3):
        session = sessions()
        try:
            outcome = import_config_sources(session, config)
            session.commit()
            if any(outcome[k] for k in ("added", "updated", "removed")):
                log.info("sources from the configuration: %s", {k: v for k, v in outcome.items() if v})
            return outcome
        except IntegrityError:
            session.rollback()  # another process inserted the same name first; read its rows and try again
            if attempt == 2:
                raise
        finally:
            session.close()
    raise RuntimeError("unreachable")  # pragma: no cover


def effective_config(config: Config, session: Session) -> Config:
    """The configuration with its sources as the harvests must see them: the database's, merged with the file's.

    The merge is what `import_config_sources` would store, computed without writing, so a process that has not
    imported yet (a CLI command, a test) sees the same sources as one that has.
    """
    rows = {row.name: row for row in session.scalars(select(SourceDefinition).order_by(SourceDefinition.id))}
    if not rows:
        return config
    base_dir = config.path.resolve().parent if config.path else Path.cwd()
    sources: list[SourceConfig] = []
    for source in config.sources:
        row = rows.pop(source.name, None)
        if row is None or _follows_file(row):
            sources.append(source)
        elif row.deleted_at is None:
            _append_stored(sources, row, base_dir)
    for row in rows.values():
        if row.deleted_at is None and not _follows_file(row):
            _append_stored(sources, row, base_dir)
    return replace(config, sources=tuple(sources))


def _follows_file(row: SourceDefinition) -> bool:
    return row.origin == "config" and row.edited_at is None and row.deleted_at is None


def _append_stored(sources: list[SourceConfig], row: SourceDefinition, base_dir: Path) -> None:
    try:
        source = validate(dict(row.settings or {}), base_dir=base_dir)
    except SourceError as exc:
        # A definition stored by an older gateway whose rules have since tightened: skip it, and say so.
        log.warning("source %s is not used: %s", row.name, exc)
        return
    sources.append(replace(source, enabled=bool(row.enabled)))


def export_toml(session: Session) -> str:
    """The current sources as [[sources]] tables that the configuration parser reads back unchanged."""
    lines = [
        "# Sources exported from the gateway's database. Paste into the configuration file,",
        "# or keep as a record of what the dashboard holds.",
    ]
    for item in list_sources(session):
        lines.append("")
        lines.append("[[sources]]")
        for key in FIELDS:
            if key in item and item[key] is not None:
                lines.append(f"{key} = {_toml_value(item[key])}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, except that TOML also wants DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def effective_for(config: Config, sessions: sessionmaker[Session]) -> Config:
    """`effective_config` in a session of its own (for the CLI and the scheduler)."""
    with sessions() as session:
        return effective_config(config, session)
