"""The `gateway` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy import func, select

from gateway import __version__
from gateway.config import Config, ConfigError, load
from gateway.db import DatabaseError, check_current, make_engine, migrate, session_factory
from gateway.harvest import HarvestError

log = logging.getLogger("gateway")


class Context:
    def __init__(self, config_path: str | None, database_url: str | None) -> None:
        self.config_path = config_path
        self.database_url = database_url
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load(self.config_path, database_url=self.database_url)
        return self._config

    def engine(self, *, require_current: bool = True):  # type: ignore[no-untyped-def]
        engine = make_engine(self.config.database_url)
        if require_current:
            check_current(engine)
        return engine


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Errors are one clear line and a non-zero exit; GATEWAY_DEBUG=1 shows the traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, DatabaseError, HarvestError) as exc:
            raise click.ClickException(str(exc)) from None
        except click.ClickException:
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except BrokenPipeError:
            raise
        except Exception as exc:
            if os.environ.get("GATEWAY_DEBUG"):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise click.ClickException(
                f"unexpected {exc.__class__.__name__}: {first} (set GATEWAY_DEBUG=1 for the traceback)"
            ) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="GATEWAY_CONFIG",
    default=None,
    help="Configuration file (default config/gateway.toml; env GATEWAY_CONFIG).",
)
@click.option("--database-url", envvar="GATEWAY_DATABASE_URL", default=None, help="Override [database] url.")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.version_option(__version__, prog_name="gateway")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None, verbose: bool) -> None:
    """OAI-PMH gateway for Japanese research-data metadata (JPCOAR 2.0 and the Annex-3 common items)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("sickle", "urllib3", "apscheduler.executors", "waitress.queue", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = Context(config_path, database_url)


@cli.command()
@click.pass_obj
@friendly_errors
def init(obj: Context) -> None:
    """Create the database, or migrate it to the newest schema."""
    engine = obj.engine(require_current=False)
    try:
        revision = migrate(engine)
    except Exception as exc:
        raise DatabaseError(f"cannot create or migrate the database: {str(exc).splitlines()[0]}") from None
    from gateway.db import transaction
    from gateway.harvest.runner import ensure_source

    with transaction(session_factory(engine)) as session:
        for source in obj.config.sources:
            ensure_source(session, source)
    from gateway.admin.sourcestore import import_on_start

    import_on_start(session_factory(engine), obj.config)  # dashboard edits are kept (see README)
    click.echo(f"database ready at revision {revision}: {_display_url(obj.config.database_url)}")


#: `gateway harvest` and the imports: everything done, but records (rows) are held in quarantine
EXIT_HELD = 3


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
@click.option("--host", default=None, help="Address to listen on (default from [server], 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default from [server], 8080).")
@click.pass_obj
@friendly_errors
def serve(obj: Context, host: str | None, port: int | None) -> None:
    """Serve the OAI-PMH provider (no harvesting)."""
    from gateway.app import create_app

    config = obj.config
    app = create_app(config, obj.engine())
    _serve(app, host or config.server.host, port or config.server.port, config.server.threads)


def _serve(app: Any, host: str, port: int, threads: int) -> None:
    import waitress

    click.echo(f"OAI-PMH provider at http://{host}:{port}/oai (Ctrl-C stops)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="jrd-gateway")


@cli.command()
@click.option("--host", default=None, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port.")
@click.option("--no-serve", is_flag=True, help="Only run the scheduler.")
@click.pass_obj
@friendly_errors
def run(obj: Context, host: str | None, port: int | None, no_serve: bool) -> None:
    """The main job: migrate, harvest on schedule (and once at start), and serve the provider."""
    from gateway.app import create_app
    from gateway.scheduler import start_scheduler

    config = obj.config
    engine = obj.engine(require_current=False)
    migrate(engine)
    scheduler = start_scheduler(config, session_factory(engine))
    try:
        if no_serve:
            click.echo("scheduler running (Ctrl-C stops)")
            while True:
                time.sleep(3600)
        else:
            _serve(
                create_app(config, engine),
                host or config.server.host,
                port or config.server.port,
                config.server.threads,
            )
    finally:
        scheduler.shutdown(wait=False)


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
    _table(headers, [[r[h] for h in headers] for r in rows])


@cli.command()
@click.argument("base_url")
@click.option("--max-pages", type=int, default=1000, show_default=True, help="Bound on each list walk.")
@click.option("--timeout", type=float, default=30, show_default=True, help="Seconds per request.")
@friendly_errors
def check(base_url: str, max_pages: int, timeout: float) -> None:
    """Check an OAI-PMH endpoint (this gateway's or any repository's) for conformance to OAI-PMH 2.0."""
    from gateway.conformance import check_endpoint, format_report

    report = check_endpoint(base_url, max_pages=max_pages, timeout=timeout)
    click.echo(format_report(report))
    if report.failures:
        raise click.ClickException(f"{len(report.failures)} conformance check(s) failed")


@cli.group()
def records() -> None:
    """Inspect stored records."""


@records.command("show")
@click.argument("oai_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
@friendly_errors
def records_show(obj: Context, oai_id: str, fmt: str) -> None:
    """Raw record, canonical JPCOAR, validation result and publication status of one record."""
    from gateway.inspect import describe_record

    sessions = session_factory(obj.engine())
    with sessions() as session:
        info = describe_record(session, obj.config, oai_id)
    if info is None:
        raise click.ClickException(f"no record {oai_id!r}")
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    for key in (
        "oai_identifier",
        "source",
        "source_identifier",
        "source_datestamp",
        "status",
        "status_reason",
        "disclosure",
        "published",
        "published_datestamp",
        "access_right",
        "title",
    ):
        click.echo(f"{key:20} {info.get(key)}")
    click.echo("findings:")
    for f in info["findings"] or []:
        item = f" [Annex-3 item {f['item']}]" if f.get("item") else ""
        click.echo(f"  {f['severity']:7} {f['layer']:9}{item} {f.get('path') or ''}: {f['message']}")
    if not info["findings"]:
        click.echo("  none")
    click.echo("history (newest first):")
    for h in info["history"]:
        run = f"run {h['run']}" if h["run"] else "remap"
        click.echo(f"  {h['at']}  {run:8}  {h['status']:11}  {h['errors']} error(s), {h['warnings']} warning(s)")
    click.echo("\n--- raw record ---")
    click.echo(info["raw"] or "(none)")
    click.echo("--- canonical JPCOAR 2.0 ---")
    click.echo(info["canonical"] or "(none)")


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        cli(prog_name="gateway")
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


from gateway.cli_quality import register as _register_quality  # noqa: E402

_register_quality(cli)
from gateway.cli_harvest import register as _register_harvest  # noqa: E402

_register_harvest(cli)
from gateway.cli_export import register as _register_export  # noqa: E402

_register_export(cli)
from gateway.cli_report import register as _register_report  # noqa: E402

_register_report(cli)
from gateway.cli_admin import register as _register_admin  # noqa: E402

_register_admin(cli)
from gateway.cli_projects import register as _register_projects  # noqa: E402

_register_projects(cli)
