"""Configuration: a TOML file read into plain, validated data.

Relative paths (a directory source's `path`, an SQLite file) are resolved against the directory of the configuration
file, so the gateway behaves the same whatever directory it is started from.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "config/gateway.toml"
SOURCE_KINDS = ("oai-pmh", "directory", "grdm", "spreadsheet")
# Exports and sheets made inside the institution: each row says its disclosure, or nobody has said it is public.
IMPORT_KINDS = ("grdm", "spreadsheet")
METADATA_PREFIXES = ("jpcoar_2.0", "jpcoar_1.0", "oai_dc")
DISCLOSURES = ("public", "shared", "private")
PROFILES = ("auto", "annex3", "none")
PRIORITY_RANGE = 1000  # a source's priority is a whole number from -1000 to 1000 (default 0)
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_NAMESPACE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*(\.[A-Za-z][A-Za-z0-9\-]*)+$")


class ConfigError(Exception):
    """A configuration problem, phrased for the person who edits the file."""

    def __init__(self, path: Path | str | None, key: str | None, message: str) -> None:
        self.path = str(path) if path else None
        self.key = key
        self.message = message
        where = self.path or "configuration"
        if key:
            where += f": {key}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class RepositoryConfig:
    name: str = "Research Data Gateway"
    base_url: str = "http://127.0.0.1:8080/oai"
    identifier: str = "gateway.example.ac.jp"
    admin_email: tuple[str, ...] = ("admin@example.ac.jp",)
    page_size: int = 100
    token_lifetime: int = 86400  # seconds a resumption token stays valid
    token_secret: str | None = None
    description: str = ""


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    metadata_prefix: str = "jpcoar_2.0"
    metadata_disclosure: str = "public"
    url: str | None = None
    path: Path | None = None
    sets: tuple[str, ...] = ()
    schedule: str | None = None
    profile: str = "auto"
    enabled: bool = True
    timeout: float = 60.0
    # Annex-3 item 12 (リポジトリ情報): the repository the data is registered in; default: the gateway's name.
    repository_name: str | None = None
    # Of two records of one dataset from two sources, the one from the higher priority is served (ties: the first
    # stored); the other is its duplicate (gateway.dmp.gating).
    priority: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8


@dataclass(frozen=True)
class SchedulerConfig:
    harvest_on_start: bool = True
    max_concurrent: int = 2


@dataclass(frozen=True)
class AdminConfig:
    """The dashboard and the management API (`[admin]`)."""

    enabled: bool = True
    secret_key: str | None = None  # signs session cookies; generated and stored in the database if absent
    session_lifetime: int = 8 * 3600  # seconds a login lasts
    secure_cookies: bool = False  # send the session cookie over HTTPS only; set true behind an HTTPS proxy
    max_failed_logins: int = 5  # per user name and address within login_window
    login_window: int = 900  # seconds


@dataclass(frozen=True)
class ProjectConfig:
    """A funded project's period, from `[[projects]]`: the registration deadline (end + 61 days) is counted from it."""

    jgn: str  # Japan Grant Number (体系的番号)
    name: str
    start: date
    end: date
    funder: str | None = None
    program: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None
    repository: RepositoryConfig
    database_url: str
    sources: tuple[SourceConfig, ...]
    server: ServerConfig = ServerConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    projects: tuple[ProjectConfig, ...] = ()
    admin: AdminConfig = AdminConfig()

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(self.path, "sources", f"no source named {name!r} (known: {known})")


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("GATEWAY_CONFIG") or DEFAULT_CONFIG)


def load(path: str | Path | None = None, *, database_url: str | None = None) -> Config:
    """Read and validate a configuration file. `GATEWAY_DATABASE_URL` overrides the database URL."""
    cfg_path = config_path(str(path) if path else None)
    if not cfg_path.exists():
        raise ConfigError(cfg_path, None, "file not found (pass --config PATH or set GATEWAY_CONFIG)")
    try:
        with cfg_path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(cfg_path, None, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(cfg_path, None, f"cannot be read: {exc.strerror}") from None
    return from_dict(data, path=cfg_path, database_url=database_url)


def from_dict(data: dict[str, Any], *, path: Path | None = None, database_url: str | None = None) -> Config:
    base_dir = path.resolve().parent if path else Path.cwd()
    reader = _Reader(path)
    known_top = {"repository", "database", "sources", "server", "scheduler", "projects", "admin"}
    for key in data:
        if key not in known_top:
            raise ConfigError(path, key, f"unknown section (expected one of: {', '.join(sorted(known_top))})")

    repo = reader.table(data, "repository")
    repository = RepositoryConfig(
        name=reader.string(repo, "repository.name", RepositoryConfig.name),
        base_url=reader.string(repo, "repository.base_url", RepositoryConfig.base_url),
        identifier=reader.string(repo, "repository.identifier", RepositoryConfig.identifier),
        admin_email=reader.string_list(repo, "repository.admin_email", list(RepositoryConfig.admin_email)),
        page_size=reader.integer(repo, "repository.page_size", RepositoryConfig.page_size, minimum=1, maximum=5000),
        token_lifetime=reader.integer(
            repo, "repository.token_lifetime", RepositoryConfig.token_lifetime, minimum=60, maximum=30 * 86400
        ),
        token_secret=reader.optional_string(repo, "repository.token_secret"),
        description=reader.string(repo, "repository.description", ""),
    )
    reader.reject_unknown(repo, "repository", RepositoryConfig)
    if not _NAMESPACE_ID.match(repository.identifier):
        raise ConfigError(
            path, "repository.identifier", f"{repository.identifier!r} is not a domain-like oai-identifier namespace"
        )
    if not repository.admin_email:
        raise ConfigError(path, "repository.admin_email", "at least one address is required by OAI-PMH Identify")
    for addr in repository.admin_email:
        if "@" not in addr:
            raise ConfigError(path, "repository.admin_email", f"{addr!r} is not an e-mail address")
    if not repository.base_url.startswith(("http://", "https://")):
        raise ConfigError(path, "repository.base_url", "must be an http(s) URL")

    db = reader.table(data, "database")
    url = (
        database_url
        or os.environ.get("GATEWAY_DATABASE_URL")
        or reader.string(db, "database.url", "sqlite:///gateway.db")
    )
    url = _resolve_sqlite(url, base_dir)

    srv = reader.table(data, "server")
    server = ServerConfig(
        host=reader.string(srv, "server.host", ServerConfig.host),
        port=reader.integer(srv, "server.port", ServerConfig.port, minimum=1, maximum=65535),
        threads=reader.integer(srv, "server.threads", ServerConfig.threads, minimum=1, maximum=256),
    )
    sch = reader.table(data, "scheduler")
    scheduler = SchedulerConfig(
        harvest_on_start=reader.boolean(sch, "scheduler.harvest_on_start", True),
        max_concurrent=reader.integer(sch, "scheduler.max_concurrent", 2, minimum=1, maximum=64),
    )

    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(path, "sources", "must be an array of tables ([[sources]])")
    sources: list[SourceConfig] = []
    for index, raw in enumerate(raw_sources):
        sources.append(_source(reader, raw, index, base_dir))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(path, "sources", f"source name {name!r} is used more than once")
    return Config(
        path=path,
        repository=repository,
        database_url=url,
        sources=tuple(sources),
        server=server,
        scheduler=scheduler,
        projects=_projects(reader, data.get("projects", [])),
        admin=_admin(reader, reader.table(data, "admin")),
    )


def _admin(reader: _Reader, adm: dict[str, Any]) -> AdminConfig:
    admin = AdminConfig(
        enabled=reader.boolean(adm, "admin.enabled", True),
        secret_key=reader.optional_string(adm, "admin.secret_key"),
        session_lifetime=reader.integer(
            adm, "admin.session_lifetime", AdminConfig.session_lifetime, minimum=60, maximum=30 * 86400
        ),
        secure_cookies=reader.boolean(adm, "admin.secure_cookies", False),
        max_failed_logins=reader.integer(adm, "admin.max_failed_logins", 5, minimum=1, maximum=1000),
        login_window=reader.integer(adm, "admin.login_window", 900, minimum=1, maximum=86400),
    )
    reader.reject_unknown(adm, "admin", AdminConfig)
    if admin.secret_key is not None and len(admin.secret_key) < 16:
        raise ConfigError(reader.path, "admin.secret_key", "must be at least 16 characters (or leave it out)")
    return admin


_JGN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,63}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _projects(reader: _Reader, raw_projects: Any) -> tuple[ProjectConfig, ...]:
    if not isinstance(raw_projects, list):
        raise ConfigError(reader.path, "projects", "must be an array of tables ([[projects]])")
    projects: list[ProjectConfig] = []
    for index, raw in enumerate(raw_projects):
        where = f"projects[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(reader.path, where, "must be a table")
        jgn = reader.string(raw, f"{where}.jgn", None).strip()
        if not _JGN.match(jgn):
            raise ConfigError(reader.path, f"{where}.jgn", f"{jgn!r} is not a Japan Grant Number (letters and digits)")
        where = f"projects.{jgn}"
        if any(p.jgn == jgn for p in projects):
            raise ConfigError(reader.path, where, "this Japan Grant Number is listed more than once")
        reader.reject_unknown(raw, where, ProjectConfig)
        start = _date(reader, raw, f"{where}.start")
        end = _date(reader, raw, f"{where}.end")
        if end < start:
            raise ConfigError(reader.path, f"{where}.end", f"{end.isoformat()} is before start {start.isoformat()}")
        name = reader.string(raw, f"{where}.name", None).strip()
        if not name:
            raise ConfigError(reader.path, f"{where}.name", "must not be empty")
        projects.append(
            ProjectConfig(
                jgn=jgn,
                name=name,
                start=start,
                end=end,
                funder=reader.optional_string(raw, f"{where}.funder"),
                program=reader.optional_string(raw, f"{where}.program"),
            )
        )
    return tuple(projects)


def _date(reader: _Reader, table: dict[str, Any], dotted: str) -> date:
    """A TOML date (2025-03-31) or the same as a string; a date-time is refused, a period is in whole days."""
    value = reader._get(table, dotted, None)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(reader.path, dotted, f"must be a date YYYY-MM-DD, not {value!r}")


def _source(reader: _Reader, raw: Any, index: int, base_dir: Path) -> SourceConfig:
    where = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(reader.path, where, "must be a table")
    name = reader.string(raw, f"{where}.name", None)
    if not _SOURCE_NAME.match(name):
        raise ConfigError(
            reader.path, f"{where}.name", f"{name!r}: use letters, digits, '-', '_' or '.' (it appears in identifiers)"
        )
    where = f"sources.{name}"
    kind = reader.choice(raw, f"{where}.kind", None, SOURCE_KINDS)
    prefix = reader.choice(raw, f"{where}.metadata_prefix", "jpcoar_2.0", METADATA_PREFIXES)
    if kind in IMPORT_KINDS:
        # an export or a sheet is managed research data (profile annex3) whose disclosure, where a row does not
        # say it, is unknown (withheld) unless the manager declares it for the whole source
        disclosure = reader.choice(raw, f"{where}.metadata_disclosure", "unknown", (*DISCLOSURES, "unknown"))
        profile = reader.choice(raw, f"{where}.profile", "annex3", PROFILES)
        if bool(raw.get("url")) == bool(raw.get("path")):
            raise ConfigError(reader.path, f"{where}.path", f"a {kind} source needs either a path or a url")
    else:
        disclosure = reader.choice(raw, f"{where}.metadata_disclosure", "public", DISCLOSURES)
        profile = reader.choice(raw, f"{where}.profile", "auto", PROFILES)
    url = reader.optional_string(raw, f"{where}.url")
    raw_path = reader.optional_string(raw, f"{where}.path")
    schedule = reader.optional_string(raw, f"{where}.schedule")
    if schedule:
        _check_cron(reader.path, f"{where}.schedule", schedule)
    if kind == "oai-pmh" and not (url or "").startswith(("http://", "https://")):
        raise ConfigError(reader.path, f"{where}.url", "an oai-pmh source needs an http(s) url")
    if kind == "directory" and not raw_path:
        raise ConfigError(reader.path, f"{where}.path", "a directory source needs a path")
    known = {
        "name",
        "kind",
        "metadata_prefix",
        "metadata_disclosure",
        "url",
        "path",
        "sets",
        "schedule",
        "profile",
        "enabled",
        "timeout",
        "repository_name",
        "priority",
    }
    if kind == "oai-pmh":
        known |= set(_OAI_OPTIONS)
    options = {k: v for k, v in raw.items() if k not in known}
    if kind in (*SOURCE_KINDS[:2], *IMPORT_KINDS) and options:
        unknown = ", ".join(sorted(options))
        raise ConfigError(reader.path, f"{where}", f"unknown key(s) for a {kind} source: {unknown}")
    return SourceConfig(
        name=name,
        kind=kind,
        metadata_prefix=prefix,
        metadata_disclosure=disclosure,
        url=url,
        path=(base_dir / raw_path).resolve() if raw_path else None,
        sets=reader.string_list(raw, f"{where}.sets", []),
        schedule=schedule,
        profile=profile,
        enabled=reader.boolean(raw, f"{where}.enabled", True),
        timeout=float(reader.number(raw, f"{where}.timeout", 60.0)),
        repository_name=reader.optional_string(raw, f"{where}.repository_name"),
        priority=reader.integer(raw, f"{where}.priority", 0, minimum=-PRIORITY_RANGE, maximum=PRIORITY_RANGE),
        options=_oai_options(reader, raw, where) if kind == "oai-pmh" else options,
    )


# Politeness and fault handling of an oai-pmh source: key -> (default, minimum, maximum).
_OAI_OPTIONS: dict[str, tuple[float, float, float]] = {
    "min_delay": (0.0, 0.0, 3600.0),  # seconds between two requests to the source
    "max_retries": (5, 0, 100),  # retries of one request (timeouts, resets, 503, short pages)
    "retry_ceiling": (300.0, 0.0, 86400.0),  # the longest wait for one retry, whatever Retry-After asks
}


def _oai_options(reader: _Reader, raw: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (default, low, high) in _OAI_OPTIONS.items():
        if key == "max_retries":
            out[key] = reader.integer(raw, f"{where}.{key}", int(default), minimum=int(low), maximum=int(high))
            continue
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(reader.path, f"{where}.{key}", f"must be a number of seconds, not {value!r}")
        value = float(value)
        if not low <= value <= high:
            raise ConfigError(reader.path, f"{where}.{key}", f"must be between {low:g} and {high:g} seconds")
        out[key] = value
    timeout = float(reader.number(raw, f"{where}.timeout", 60.0))
    if not 0 < timeout <= 3600:
        raise ConfigError(reader.path, f"{where}.timeout", "must be more than 0 and at most 3600 seconds")
    return out


def _check_cron(path: Path | None, key: str, expr: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr)
    except ValueError as exc:
        raise ConfigError(
            path, key, f"{expr!r} is not a cron expression (minute hour day month weekday): {exc}"
        ) from None


def _resolve_sqlite(url: str, base_dir: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        rel = url[len(prefix) :]
        if rel and not rel.startswith(":"):
            return prefix + str((base_dir / rel).resolve())
    return url


class _Reader:
    """Typed access to TOML tables, raising ConfigError naming the file and key."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(self.path, key, "must be a table")
        return value

    def _get(self, table: dict[str, Any], dotted: str, default: Any) -> Any:
        leaf = dotted.rsplit(".", 1)[-1]
        if leaf not in table:
            if default is None:
                raise ConfigError(self.path, dotted, "is required")
            return default
        return table[leaf]

    def string(self, table: dict[str, Any], dotted: str, default: str | None) -> str:
        value = self._get(table, dotted, default)
        if not isinstance(value, str):
            raise ConfigError(self.path, dotted, f"must be a string, not {type(value).__name__}")
        return value

    def optional_string(self, table: dict[str, Any], dotted: str) -> str | None:
        leaf = dotted.rsplit(".", 1)[-1]
        if leaf not in table:
            return None
        return self.string(table, dotted, None) or None

    def choice(self, table: dict[str, Any], dotted: str, default: str | None, allowed: tuple[str, ...]) -> str:
        value = self.string(table, dotted, default)
        if value not in allowed:
            raise ConfigError(self.path, dotted, f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    def integer(self, table: dict[str, Any], dotted: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self._get(table, dotted, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.path, dotted, f"must be a whole number, not {value!r}")
        if not minimum <= value <= maximum:
            raise ConfigError(self.path, dotted, f"{value} is out of range ({minimum}..{maximum})")
        return value

    def number(self, table: dict[str, Any], dotted: str, default: float) -> float:
        value = self._get(table, dotted, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(self.path, dotted, f"must be a positive number, not {value!r}")
        return value

    def boolean(self, table: dict[str, Any], dotted: str, default: bool) -> bool:
        value = self._get(table, dotted, default)
        if not isinstance(value, bool):
            raise ConfigError(self.path, dotted, f"must be true or false, not {value!r}")
        return value

    def string_list(self, table: dict[str, Any], dotted: str, default: list[str]) -> tuple[str, ...]:
        value = self._get(table, dotted, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.path, dotted, "must be a list of strings")
        return tuple(value)

    def reject_unknown(self, table: dict[str, Any], section: str, cls: type) -> None:
        allowed = set(cls.__dataclass_fields__)
        for key in table:
            if key not in allowed:
                raise ConfigError(
                    self.path, f"{section}.{key}", f"unknown key (expected one of: {', '.join(sorted(allowed))})"
                )
