"""What the dashboard (and the management API) does and reads, as plain functions over a database session.

Every function returns JSON-serialisable data, so the HTML pages and the JSON API show the same thing. Nothing here
checks who asks: the callers (pages, API) require a logged-in user, and a manager for the operations that change
anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from gateway.config import Config, SourceConfig
from gateway.db import session_factory, utcnow
from gateway.models import (
    FindingSnapshot,
    HarvestRun,
    OaiSet,
    Published,
    PublishedFormat,
    Record,
    RecordFunding,
    Source,
    SourceLock,
)
from gateway.namespaces import OAI

log = logging.getLogger(__name__)

_O = f"{{{OAI}}}"
#: a connection test reads at most this much of one answer: it is a look at the source, not a harvest
TEST_MAX_BYTES = 8 * 1024 * 1024
TEST_MAX_SET_PAGES = 5
TEST_TIMEOUT = 20.0
LATEST_ERRORS = 10
QUARANTINE_EXAMPLES = 20


def _stamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


def effective_sources(session: Session, config: Config) -> tuple[SourceConfig, ...]:
    """The sources as the harvests see them: the configuration merged with what the dashboard stored."""
    from gateway.admin.sourcestore import effective_config

    return effective_config(config, session).sources


def _next_fire(schedule: str | None, now: datetime) -> str | None:
    if not schedule:
        return None
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(schedule, timezone="UTC")
    except ValueError:
        return None
    fire = trigger.get_next_fire_time(None, now.replace(tzinfo=UTC))
    return fire.strftime("%Y-%m-%d %H:%M:%S") if fire else None


def _status_counts(session: Session) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for source_id, status, count in session.execute(
        select(Record.source_id, Record.status, func.count()).group_by(Record.source_id, Record.status)
    ).all():
        out.setdefault(source_id, {})[status] = count
    return out


def overview(session: Session, config: Config) -> dict[str, Any]:
    """Each source with its state, the latest errors, and the provider's totals."""
    now = utcnow()
    rows = {row.name: row for row in session.scalars(select(Source)).all()}
    counts = _status_counts(session)
    locked = {sid for sid in session.scalars(select(SourceLock.source_id).where(SourceLock.expires_at >= now)).all()}
    sources = []
    for src in effective_sources(session, config):
        row = rows.get(src.name)
        last = None
        if row is not None:
            last = session.scalar(
                select(HarvestRun)
                .where(HarvestRun.source_id == row.id)
                .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc())
                .limit(1)
            )
        by_status = counts.get(row.id, {}) if row is not None else {}
        sources.append(
            {
                "name": src.name,
                "kind": src.kind,
                "location": src.url or (str(src.path) if src.path else None),
                "metadata_prefix": src.metadata_prefix,
                "enabled": src.enabled,
                "schedule": src.schedule,
                "harvesting": bool(row is not None and row.id in locked) or is_harvesting(src.name),
                "last_run": None
                if last is None
                else {
                    "id": last.id,
                    "status": last.status,
                    "mode": last.mode,
                    "started": _stamp(last.started_at),
                    "finished": _stamp(last.finished_at),
                    "message": last.message,
                },
                "next_run": _next_fire(src.schedule, now) if src.enabled else None,
                "published": by_status.get("published", 0),
                "withheld": by_status.get("withheld", 0),
                "quarantined": by_status.get("quarantined", 0),
                "deleted": by_status.get("deleted", 0),
            }
        )
    errors = []
    failing = session.execute(
        select(HarvestRun, Source.name)
        .join(Source, Source.id == HarvestRun.source_id)
        .where(or_(HarvestRun.status == "failed", HarvestRun.records_failed > 0))
        .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc())
        .limit(LATEST_ERRORS)
    ).all()
    for run, name in failing:
        errors.append(
            {
                "run_id": run.id,
                "source": name,
                "at": _stamp(run.started_at),
                "status": run.status,
                "message": run.message or (run.errors[0] if run.errors else None),
                "errors": len(run.errors or []),
            }
        )
    served = dict(session.execute(select(Published.deleted, func.count()).group_by(Published.deleted)).all())
    by_status = dict(session.execute(select(Record.status, func.count()).group_by(Record.status)).all())
    by_access = dict(
        session.execute(
            select(Record.access_right, func.count()).where(Record.status == "published").group_by(Record.access_right)
        ).all()
    )
    return {
        "generated": _stamp(now),
        "repository": {"name": config.repository.name, "base_url": config.repository.base_url},
        "sources": sources,
        "latest_errors": errors,
        "totals": {
            "served": served.get(False, 0),
            "served_deleted": served.get(True, 0),
            "sets": session.scalar(select(func.count()).select_from(OaiSet)) or 0,
            "records": sum(by_status.values()),
            "by_status": {s: by_status.get(s, 0) for s in ("published", "withheld", "quarantined", "deleted")},
            "published_by_access": {
                (k or "unknown"): v for k, v in sorted(by_access.items(), key=lambda kv: kv[0] or "")
            },
        },
    }


# --- connection test ---------------------------------------------------------------------------------------------


class _TestFailure(Exception):
    pass


def _fetch(session: Any, url: str, params: dict[str, str], timeout: float) -> bytes:
    import requests

    from gateway.harvest.oaipmh import USER_AGENT

    try:
        with session.get(url, params=params, timeout=timeout, stream=True, headers={"User-Agent": USER_AGENT}) as resp:
            if resp.status_code != 200:
                raise _TestFailure(f"{params['verb']}: HTTP {resp.status_code} {resp.reason or ''}".strip())
            body = bytearray()
            for chunk in resp.iter_content(65536):
                body += chunk
                if len(body) > TEST_MAX_BYTES:
                    raise _TestFailure(f"{params['verb']}: the answer is larger than {TEST_MAX_BYTES} bytes")
            return bytes(body)
    except requests.RequestException as exc:
        raise _TestFailure(f"{params['verb']}: {exc.__class__.__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else exc.__class__.__name__


def _parse(data: bytes, verb: str) -> Any:
    from gateway.harvest import HarvestError
    from gateway.harvest.oairesponse import OAIProtocolError, parse_response

    try:
        return parse_response(data, what=verb).root
    except OAIProtocolError as exc:
        if verb == "ListSets" and exc.code == "noSetHierarchy":
            return None
        raise _TestFailure(f"{verb}: {exc}") from None
    except HarvestError as exc:
        raise _TestFailure(str(exc)) from None


def _text(el: Any, tag: str) -> str | None:
    child = el.find(f"{_O}{tag}")
    return child.text.strip() if child is not None and child.text else None


def test_connection(source: dict[str, Any]) -> dict[str, Any]:
    """Identify, ListMetadataFormats and ListSets of an OAI-PMH source (a directory source: its folder is read).

    `ok` is whether the source can be harvested as configured; `problems` lists what was wrong with the other verbs,
    which do not stop a harvest by themselves.
    """
    result: dict[str, Any] = {"ok": False, "identify": {}, "formats": [], "sets": [], "error": None, "problems": []}
    kind = source.get("kind", "oai-pmh")
    if kind == "directory":
        return _test_directory(source, result)
    if kind in ("grdm", "spreadsheet"):
        return _test_export(source, result)
    url = str(source.get("url") or "")
    if not url.startswith(("http://", "https://")):
        result["error"] = "an oai-pmh source needs an http(s) url"
        return result
    timeout = min(float(source.get("timeout") or TEST_TIMEOUT), TEST_TIMEOUT)
    import requests

    with requests.Session() as http:
        try:
            root = _parse(_fetch(http, url, {"verb": "Identify"}, timeout), "Identify")
            identify = root.find(f"{_O}Identify")
            if identify is None:
                raise _TestFailure("Identify: the answer has no Identify element")
            for child in identify:
                if isinstance(child.tag, str) and child.text and child.text.strip():
                    result["identify"].setdefault(child.tag.split("}")[-1], child.text.strip())
        except _TestFailure as exc:
            result["error"] = str(exc)
            return result
        result["ok"] = True
        try:
            root = _parse(_fetch(http, url, {"verb": "ListMetadataFormats"}, timeout), "ListMetadataFormats")
            for fmt in root.iter(f"{_O}metadataFormat"):
                result["formats"].append(
                    {
                        "prefix": _text(fmt, "metadataPrefix"),
                        "schema": _text(fmt, "schema"),
                        "namespace": _text(fmt, "metadataNamespace"),
                    }
                )
            wanted = source.get("metadata_prefix")
            if wanted and not any(f["prefix"] == wanted for f in result["formats"]):
                result["problems"].append(f"the source does not list the metadata format {wanted}")
        except _TestFailure as exc:
            result["problems"].append(str(exc))
        try:
            params = {"verb": "ListSets"}
            for _ in range(TEST_MAX_SET_PAGES):
                root = _parse(_fetch(http, url, params, timeout), "ListSets")
                if root is None:
                    break
                for item in root.iter(f"{_O}set"):
                    result["sets"].append({"spec": _text(item, "setSpec"), "name": _text(item, "setName")})
                token = root.find(f".//{_O}resumptionToken")
                if token is None or not (token.text or "").strip():
                    break
                params = {"verb": "ListSets", "resumptionToken": token.text.strip()}
            else:
                result["problems"].append(f"ListSets: only the first {TEST_MAX_SET_PAGES} pages were read")
        except _TestFailure as exc:
            result["problems"].append(str(exc))
    return result


def _test_directory(source: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    raw = source.get("path")
    if not raw:
        result["error"] = "a directory source needs a path"
        return result
    path = Path(str(raw))
    if not path.is_dir():
        result["error"] = f"{path} is not a folder the gateway can read"
        return result
    files = sum(1 for _ in path.rglob("*.xml"))
    result["ok"] = True
    result["identify"] = {"path": str(path), "xml_files": str(files)}
    if not files:
        result["problems"].append("the folder holds no .xml files")
    return result


def _test_export(source: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """A GakuNin RDM export or a spreadsheet: read it as a harvest would, store nothing, and say what it holds."""
    from gateway.admin.sourcestore import SourceError, validate
    from gateway.harvest import open_source

    try:
        config = validate(source)
        records = errors = 0
        for page in open_source(config).pages():
            records += len(page.records)
            errors += sum(1 for r in page.records if r.error)
            result["problems"].extend(page.warnings)
    except SourceError as exc:
        result["error"] = str(exc)
        return result
    except Exception as exc:  # any unreadable export is reported to the manager, in its own words
        result["error"] = str(exc) or type(exc).__name__
        return result
    result["ok"] = True
    result["identify"] = {"location": str(source.get("path") or source.get("url") or ""), "records": str(records)}
    if errors:
        result["problems"].append(f"{errors} record(s) could not be read")
    return result


# --- harvests started from the dashboard -------------------------------------------------------------------------


class _Harvest:
    """A harvest started from the dashboard: its thread, and why it did not run if another run held the source."""

    def __init__(self) -> None:
        self.thread: threading.Thread = threading.Thread()
        self.busy: str | None = None


_active: dict[str, _Harvest] = {}
_active_guard = threading.Lock()
#: how long start_harvest waits to learn the id of the run it started
RUN_ID_WAIT = 5.0


def is_harvesting(name: str) -> bool:
    with _active_guard:
        job = _active.get(name)
        return bool(job and job.thread.is_alive())


def wait_for_harvest(name: str, timeout: float = 60.0) -> bool:
    """Wait for a harvest started here to end; True when it has (or none was running)."""
    with _active_guard:
        job = _active.get(name)
    if job is None:
        return True
    job.thread.join(timeout)
    return not job.thread.is_alive()


def start_harvest(config: Config, engine: Engine, name: str, *, full: bool = False) -> dict[str, Any]:
    """Harvest one source now, in a background thread; the run holds the source's database lock as any run does."""
    sessions = session_factory(engine)
    with sessions() as session:
        try:
            source = next(s for s in effective_sources(session, config) if s.name == name)
        except StopIteration:
            return {"started": False, "run_id": None, "message": f"no source named {name!r}"}
        if not source.enabled:
            return {"started": False, "run_id": None, "message": f"{name} is disabled"}
        row = session.scalar(select(Source).where(Source.name == name))
        before = 0
        if row is not None:
            holder = session.scalar(
                select(SourceLock.holder).where(SourceLock.source_id == row.id, SourceLock.expires_at >= utcnow())
            )
            if holder is not None:
                return {"started": False, "run_id": None, "message": f"{name} is being harvested already"}
            before = session.scalar(select(func.max(HarvestRun.id)).where(HarvestRun.source_id == row.id)) or 0
    # The effective configuration is passed whole, so the run sees the same sources as the scheduler would.
    effective = _with_sources(config, sessions)
    with _active_guard:
        running = _active.get(name)
        if running is not None and running.thread.is_alive():
            return {"started": False, "run_id": None, "message": f"{name} is being harvested already"}
        job = _Harvest()
        job.thread = threading.Thread(
            target=_harvest_in_background,
            args=(effective, engine, source, full, job),
            name=f"admin-harvest-{name}",
            daemon=True,
        )
        _active[name] = job
        job.thread.start()
    run_id = _wait_for_run(sessions, name, before, job)
    if job.busy:
        return {"started": False, "run_id": None, "message": job.busy}
    mode = "full re-harvest" if full else "harvest"
    return {"started": True, "run_id": run_id, "message": f"{mode} of {name} started"}


def _with_sources(config: Config, sessions: Any) -> Config:
    from gateway.admin.sourcestore import effective_config

    with sessions() as session:
        return effective_config(config, session)


def _wait_for_run(sessions: Any, name: str, before: int, job: _Harvest) -> int | None:
    deadline = time.monotonic() + RUN_ID_WAIT
    while time.monotonic() < deadline:
        with sessions() as session:
            run_id = session.scalar(
                select(func.max(HarvestRun.id))
                .join(Source, Source.id == HarvestRun.source_id)
                .where(Source.name == name, HarvestRun.id > before)
            )
        if run_id is not None or job.busy:
            return run_id
        if not job.thread.is_alive():
            return None
        time.sleep(0.05)
    return None


def _harvest_in_background(config: Config, engine: Engine, source: SourceConfig, full: bool, job: _Harvest) -> None:
    from gateway.harvest.runner import run_harvest
    from gateway.locks import SourceBusy

    try:
        run = run_harvest(config, session_factory(engine), source, full=full)
        log.info("%s: dashboard harvest %s (run %s)", source.name, run.status, run.id)
    except SourceBusy as exc:
        job.busy = str(exc)
        log.info("%s: dashboard harvest skipped: %s", source.name, exc)
    except Exception:
        log.exception("%s: dashboard harvest failed", source.name)


# --- runs --------------------------------------------------------------------------------------------------------


def _run_dict(run: HarvestRun, source_name: str) -> dict[str, Any]:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
    return {
        "id": run.id,
        "source": source_name,
        "mode": run.mode,
        "status": run.status,
        "started": _stamp(run.started_at),
        "finished": _stamp(run.finished_at),
        "seconds": seconds,
        "from": run.from_param,
        "until": run.until_param,
        "pages": run.pages or 0,
        "records": {
            "new": run.records_new or 0,
            "changed": run.records_changed or 0,
            "unchanged": run.records_unchanged or 0,
            "deleted": run.records_deleted or 0,
            "failed": run.records_failed or 0,
            "repeated": run.records_repeated or 0,
            "held": run.records_held or 0,
        },
        "requests": run.requests or 0,
        "retries": run.retries or 0,
        "restarts": run.restarts or 0,
        "repairs": run.repairs or 0,
        "checkpoint": run.checkpoint,
        "message": run.message,
        "warnings": list(run.warnings or []),
        "errors": list(run.errors or []),
    }


def list_runs(session: Session, *, source: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The harvest history, newest first."""
    query = select(HarvestRun, Source.name).join(Source, Source.id == HarvestRun.source_id)
    if source:
        query = query.where(Source.name == source)
    query = (
        query.order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc()).limit(max(limit, 0)).offset(max(offset, 0))
    )
    return [_run_dict(run, name) for run, name in session.execute(query).all()]


def count_runs(session: Session, *, source: str | None = None) -> int:
    query = select(func.count()).select_from(HarvestRun)
    if source:
        query = query.join(Source, Source.id == HarvestRun.source_id).where(Source.name == source)
    return session.scalar(query) or 0


def get_run(session: Session, run_id: int) -> dict[str, Any] | None:
    row = session.execute(
        select(HarvestRun, Source.name).join(Source, Source.id == HarvestRun.source_id).where(HarvestRun.id == run_id)
    ).first()
    if row is None:
        return None
    run, name = row
    out = _run_dict(run, name)
    out["records_stored"] = dict(
        session.execute(
            select(Record.status, func.count()).where(Record.run_id == run_id).group_by(Record.status)
        ).all()
    )
    return out


# --- records -----------------------------------------------------------------------------------------------------


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _local_part(ident: str) -> str:
    """`oai:<namespace>:<local id>` -> the local id (a namespace is domain-like: it has no colon)."""
    if ident.startswith("oai:") and ident.count(":") >= 2:
        return ident.split(":", 2)[2]
    return ident


def _counts_of(findings: list[dict[str, Any]] | None) -> tuple[int, int]:
    items = findings or []
    return (
        sum(1 for f in items if f.get("severity") == "error"),
        sum(1 for f in items if f.get("severity") == "warning"),
    )


def search_records(
    session: Session,
    *,
    q: str | None = None,
    status: str | None = None,
    project: str | None = None,
    source: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Records matching every given criterion, newest change first, and how many match in all.

    `q` matches the title, the identifier at the source and the local / OAI identifier (case-insensitive, anywhere);
    `project` a Japan Grant Number exactly or a project name partly.
    """
    conditions: list[Any] = []
    if q and q.strip():
        text = q.strip()
        pattern = _like(text)
        local = _like(_local_part(text))
        conditions.append(
            or_(
                Record.title.ilike(pattern, escape="\\"),
                Record.source_identifier.ilike(pattern, escape="\\"),
                Record.local_id.ilike(local, escape="\\"),
            )
        )
    if status:
        conditions.append(Record.status == status)
    if source:
        conditions.append(Source.name == source)
    if project and project.strip():
        name = _like(project.strip())
        conditions.append(
            Record.id.in_(
                select(RecordFunding.record_id).where(
                    or_(
                        RecordFunding.jgn == project.strip(),
                        RecordFunding.project_name_ja.ilike(name, escape="\\"),
                        RecordFunding.project_name_en.ilike(name, escape="\\"),
                    )
                )
            )
        )
    base = select(Record.id).join(Source, Source.id == Record.source_id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(
            Record.id,
            Record.local_id,
            Record.source_identifier,
            Record.title,
            Record.status,
            Record.access_right,
            Record.updated_at,
            Record.findings,
            Source.name,
            Published.oai_identifier,
        )
        .join(Source, Source.id == Record.source_id)
        .outerjoin(Published, Published.record_id == Record.id)
        .where(*conditions)
        .order_by(Record.updated_at.desc(), Record.id.desc())
        .limit(max(limit, 0))
        .offset(max(offset, 0))
    ).all()
    ids = [r.id for r in rows]
    projects: dict[int, list[str]] = {}
    if ids:
        for record_id, jgn in session.execute(
            select(RecordFunding.record_id, RecordFunding.jgn)
            .where(RecordFunding.record_id.in_(ids))
            .order_by(RecordFunding.position)
        ).all():
            if jgn:
                projects.setdefault(record_id, []).append(jgn)
    out = []
    for r in rows:
        errors, warnings = _counts_of(r.findings)
        out.append(
            {
                "id": r.id,
                "local_id": r.local_id,
                "oai_identifier": r.oai_identifier,
                "source": r.name,
                "source_identifier": r.source_identifier,
                "title": r.title,
                "status": r.status,
                "access_right": r.access_right,
                "projects": projects.get(r.id, []),
                "updated": _stamp(r.updated_at),
                "errors": errors,
                "warnings": warnings,
            }
        )
    return out, total


def find_record(session: Session, ident: str) -> Record | None:
    """A record by its numeric id, its OAI identifier, its local id or `source/identifier-at-the-source`."""
    ident = (ident or "").strip()
    if not ident:
        return None
    if ident.isdigit():
        return session.get(Record, int(ident))
    local = _local_part(ident)
    record = session.scalar(select(Record).where(Record.local_id == local))
    if record is None and ident.startswith("oai:"):
        record = session.scalar(
            select(Record).join(Published, Published.record_id == Record.id).where(Published.oai_identifier == ident)
        )
    if record is None and "/" in local:
        source_name, source_ident = local.split("/", 1)
        record = session.scalar(
            select(Record)
            .join(Source, Source.id == Record.source_id)
            .where(Source.name == source_name, Record.source_identifier == source_ident)
        )
    return record


def _outputs(session: Session, record: Record, pub: Published | None) -> list[dict[str, Any]]:
    """Each output format: what the provider serves, or (for a record not served) what it would render."""
    from gateway import crosswalk
    from gateway.xmlsafe import XMLInputError, parse_bytes

    served: dict[str, bytes] = {}
    if pub is not None and not pub.deleted:
        served = {
            prefix: xml
            for prefix, xml in session.execute(
                select(PublishedFormat.prefix, PublishedFormat.xml).where(PublishedFormat.published_id == pub.id)
            ).all()
        }
    canonical = None
    if record.canonical_xml and set(served) != set(crosswalk.formats()):
        try:
            canonical = parse_bytes(record.canonical_xml)
        except XMLInputError:
            canonical = None
    out = []
    for prefix in crosswalk.formats():
        if prefix in served:
            out.append({"prefix": prefix, "served": True, "xml": served[prefix].decode("utf-8", "replace")})
            continue
        if canonical is None:
            out.append({"prefix": prefix, "served": False, "xml": None})
            continue
        try:
            rendered = crosswalk.serialize(crosswalk.render(canonical, prefix)).decode("utf-8", "replace")
        except crosswalk.CrosswalkError as exc:
            rendered = f"(cannot be rendered: {exc})"
        out.append({"prefix": prefix, "served": False, "xml": rendered})
    return out


def _snapshot_reason(status: str, findings: list[dict[str, Any]], record: Record) -> str | None:
    if status == "quarantined":
        first = next((f for f in findings if f.get("severity") == "error"), None)
        return first.get("message") if first else "validation errors"
    if status == "withheld":
        return f"metadata disclosure: {record.disclosure}"
    if status == "deleted":
        return "deleted at the source"
    if status == "published":
        return "public and valid"
    return None


def record_detail(session: Session, ident: str, *, repository_identifier: str | None = None) -> dict[str, Any] | None:
    """Everything the gateway knows about one record: raw, canonical, each output format, findings, history."""
    record = find_record(session, ident)
    if record is None:
        return None
    pub = session.scalar(select(Published).where(Published.record_id == record.id))
    snapshots = session.scalars(
        select(FindingSnapshot)
        .where(FindingSnapshot.record_id == record.id)
        .order_by(FindingSnapshot.created_at.desc(), FindingSnapshot.id.desc())
        .limit(50)
    ).all()
    if pub is not None:
        oai_id: str | None = pub.oai_identifier
    elif repository_identifier:
        oai_id = f"oai:{repository_identifier}:{record.local_id}"
    else:
        oai_id = None
    history = []
    for snap in snapshots:
        errors, warnings = _counts_of(snap.findings)
        history.append(
            {
                "at": _stamp(snap.created_at),
                "run": snap.run_id,
                "status": snap.status,
                "reason": _snapshot_reason(snap.status, snap.findings or [], record),
                "errors": errors,
                "warnings": warnings,
            }
        )
    errors, warnings = _counts_of(record.findings)
    return {
        "id": record.id,
        "local_id": record.local_id,
        "oai_identifier": oai_id,
        "source": record.source.name,
        "source_identifier": record.source_identifier,
        "source_datestamp": record.source_datestamp,
        "harvested": _stamp(record.harvested_at),
        "updated": _stamp(record.updated_at),
        "run_id": record.run_id,
        "raw_format": record.raw_format,
        "status": record.status,
        "status_reason": record.status_reason,
        "disclosure": record.disclosure,
        "access_right": record.access_right,
        "available_date": record.available_date,
        "title": record.title,
        "published": bool(pub and not pub.deleted),
        "served_as_deleted": bool(pub and pub.deleted),
        "served_datestamp": pub.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ") if pub else None,
        "projects": [
            {
                "jgn": f.jgn,
                "funder_code": f.funder_code,
                "funder_ja": f.funder_name_ja,
                "funder_en": f.funder_name_en,
                "project_ja": f.project_name_ja,
                "project_en": f.project_name_en,
            }
            for f in record.fundings
        ],
        "errors": errors,
        "warnings": warnings,
        "findings": list(record.findings or []),
        "history": history,
        "annex3": record.annex3 or {},
        "private": record.private or {},
        "raw": record.raw_xml.decode("utf-8", "replace") if record.raw_xml else None,
        "canonical": record.canonical_xml.decode("utf-8", "replace") if record.canonical_xml else None,
        "outputs": _outputs(session, record, pub),
    }


# --- quarantine --------------------------------------------------------------------------------------------------


def _quarantined(session: Session, source: str | None) -> Iterator[Any]:
    query = (
        select(Record.id, Record.local_id, Record.title, Record.findings, Source.name)
        .join(Source, Source.id == Record.source_id)
        .where(Record.status == "quarantined")
        .order_by(Record.id)
    )
    if source:
        query = query.where(Source.name == source)
    yield from session.execute(query.execution_options(yield_per=500))


def quarantine_groups(session: Session, *, source: str | None = None) -> list[dict[str, Any]]:
    """Quarantined records grouped by the error that keeps them out, largest group first.

    One crosswalk fault gives the same finding on many records: fixing it once releases the whole group.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in _quarantined(session, source):
        seen: set[tuple[Any, ...]] = set()
        for f in row.findings or []:
            if f.get("severity") != "error":
                continue
            key = (f.get("severity"), f.get("rule"), f.get("item"), f.get("message"))
            if key in seen:  # the same error twice in one record counts the record once
                continue
            seen.add(key)
            group = groups.setdefault(
                key,
                {
                    "severity": f.get("severity"),
                    "rule": f.get("rule"),
                    "layer": f.get("layer"),
                    "item": f.get("item"),
                    "message": f.get("message"),
                    "count": 0,
                    "records": [],
                },
            )
            group["count"] += 1
            if len(group["records"]) < QUARANTINE_EXAMPLES:
                group["records"].append(
                    {"id": row.id, "local_id": row.local_id, "title": row.title, "source": row.name}
                )
    return sorted(groups.values(), key=lambda g: (-g["count"], str(g["rule"]), str(g["message"])))
