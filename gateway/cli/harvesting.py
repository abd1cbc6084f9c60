"""`gateway harvest`, `remap`, `sources` and `runs`: harvesting now, re-mapping what is stored, and what came of it."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import click
from sqlalchemy import func, select

from gateway.cli.group import EXIT_HELD, Context, cli, friendly_errors, print_table
from gateway.db import session_factory

log = logging.getLogger("gateway")


def run_summary(source_name: str, kind: str, run: Any) -> str:
    """The one line `gateway harvest` prints for a run (and the CLI tests read)."""
    held, failed = run.records_held or 0, run.records_failed or 0
    line = (
        f"{source_name}: {run.status} — {run.records_new} new, {run.records_changed} changed, "
        f"{run.records_unchanged} unchanged, {run.records_deleted} deleted, {failed} failed, {held} held "
        f"in {run.pages} page(s)"
    )
    counted = [("retry", "retries", run.retries), ("restart", "restarts", run.restarts)]
    counted.append(("repair", "repairs", run.repairs))
    repairs = [f"{count} {one if count == 1 else many}" for one, many, count in counted if count]
    if run.records_repeated:
        repairs.append(f"{run.records_repeated} listed again and applied once")
    if repairs:
        line += "; " + ", ".join(repairs)
    if run.warnings:
        line += f"; {len(run.warnings)} warning(s) (gateway runs --source {source_name})"
    if kind in ("grdm", "spreadsheet"):
        rows = run.records_new + run.records_changed + run.records_unchanged + failed
        line += f"\n  {rows - held - failed} rows imported, {held} held with errors"
        if failed:
            line += f", {failed} could not be read at all"
    return line


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--full", is_flag=True, help="Harvest everything again, and delete what the source no longer has.")
@click.pass_obj
@friendly_errors
def harvest(obj: Context, sources: tuple[str, ...], full: bool) -> None:
    """Harvest now: the named sources, or every enabled source.

    Exit status: 0 when every harvest succeeded and nothing of their lists is held; 3 when they succeeded but records
    (rows) are held in quarantine (`gateway quarantine` says why); 1 when a harvest failed (what it stored stays, and
    the next harvest continues from its checkpoint).
    """
    from gateway.admin.sourcestore import effective_for
    from gateway.harvest.runner import run_harvest

    sessions = session_factory(obj.engine())
    config = effective_for(obj.config, sessions)  # the dashboard's sources too
    targets = [config.source(n) for n in sources] if sources else [s for s in config.sources if s.enabled]
    if not targets:
        raise click.ClickException("no sources to harvest (add [[sources]] to the configuration)")
    failed = held = 0
    for source in targets:
        display = ProgressDisplay()
        run = run_harvest(config, sessions, source, full=full, progress=display)
        display.finish()
        click.echo(run_summary(source.name, source.kind, run))
        if run.status != "succeeded":
            failed += 1
            click.echo(f"  {run.message}", err=True)
        else:
            held += 1 if run.records_held else 0
            for err in (run.errors or [])[:5]:
                click.echo(f"  record error: {err}", err=True)
    if failed:
        raise click.ClickException(f"{failed} of {len(targets)} harvest(s) failed")
    if held:
        click.echo(f"records are held in quarantine for {held} source(s): see `gateway quarantine`", err=True)
        sys.exit(EXIT_HELD)


class ProgressDisplay:
    """A live line per source on a terminal; at most one log line per page otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, p: Any) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = p.records / elapsed
        total = f"/{p.total}" if p.total else ""
        text = (
            f"{p.source}: {p.records}{total} records, {p.pages} pages, {rate:.0f}/s, "
            f"{p.new} new, {p.changed} changed, {p.deleted} deleted, {p.failed} failed, {p.retries} retries"
        )
        if p.restarts or p.repairs:
            text += f", {p.restarts} restarts, {p.repairs} repairs"
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + text)
            sys.stderr.flush()
            self.drawn = True
        elif not p.done:
            log.info(text)

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


@cli.command()
@click.pass_obj
@friendly_errors
def remap(obj: Context) -> None:
    """Re-map every stored raw record through the current crosswalks (no harvesting)."""
    from gateway.harvest.runner import remap as do_remap

    sessions = session_factory(obj.engine())

    def show(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\x1b[2Kremapped {done}/{total}")
            sys.stderr.flush()

    from gateway.admin.sourcestore import effective_for

    counts = do_remap(effective_for(obj.config, sessions), sessions, progress=show)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing to remap"
    click.echo(f"remap done: {summary}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
@friendly_errors
def sources(obj: Context, fmt: str) -> None:
    """Each source with its last harvest and its record counts."""
    from gateway.models import HarvestRun, Record, Source

    sessions = session_factory(obj.engine())
    rows = []
    from gateway.admin.sourcestore import effective_config

    with sessions() as session:
        for source in effective_config(obj.config, session).sources:
            src_id = session.scalar(select(Source.id).where(Source.name == source.name))
            counts = dict(
                session.execute(
                    select(Record.status, func.count()).where(Record.source_id == src_id).group_by(Record.status)
                ).all()
            )
            last = session.scalar(
                select(HarvestRun).where(HarvestRun.source_id == src_id).order_by(HarvestRun.id.desc()).limit(1)
            )
            rows.append(
                {
                    "name": source.name,
                    "kind": source.kind,
                    "prefix": source.metadata_prefix,
                    "enabled": source.enabled,
                    "schedule": source.schedule,
                    "last_run": last.started_at.strftime("%Y-%m-%d %H:%M:%S") if last else None,
                    "last_status": last.status if last else None,
                    "last_message": last.message if last else None,
                    "published": counts.get("published", 0),
                    "withheld": counts.get("withheld", 0),
                    "quarantined": counts.get("quarantined", 0),
                    "deleted": counts.get("deleted", 0),
                }
            )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    headers = ["name", "kind", "prefix", "last_run", "last_status", "published", "withheld", "quarantined", "deleted"]
    print_table(headers, [[r[h] for h in headers] for r in rows])


def run_rows(session: Any, *, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The runs as the dashboard and the API show them."""
    from gateway.admin.operations import list_runs

    return list_runs(session, source=source, limit=limit)


@cli.command()
@click.option("--source", "source", default=None, help="Only the runs of this source.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
@friendly_errors
def runs(obj: Context, source: str | None, limit: int, fmt: str) -> None:
    """The harvest history: each run with its counts, requests, retries, warnings and errors."""
    from gateway.models import Source

    sessions = session_factory(obj.engine())
    with sessions() as session:
        if source and session.scalar(select(Source.id).where(Source.name == source)) is None:
            known = {s.name for s in obj.config.sources}
            if source not in known:
                raise click.ClickException(f"no source named {source!r} (known: {', '.join(sorted(known))})")
        rows = run_rows(session, source=source, limit=limit)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    headers = ["id", "source", "mode", "status", "started", "seconds", "from", "pages"]
    headers += ["new", "changed", "unchanged", "deleted", "failed", "held", "repeated"]
    headers += ["requests", "retries", "restarts", "repairs", "warnings", "message"]
    table = []
    for r in rows:
        rec = r["records"]
        message = (r["message"] or "")[:80]
        table.append(
            [r["id"], r["source"], r["mode"], r["status"], r["started"],
             None if r["seconds"] is None else f"{r['seconds']:.0f}", r["from"], r["pages"],
             rec["new"], rec["changed"], rec["unchanged"], rec["deleted"], rec["failed"], rec["held"],
             rec["repeated"], r["requests"], r["retries"], r["restarts"], r["repairs"], len(r["warnings"]),
             message]
        )  # fmt: skip
    print_table(headers, table)
