"""`gateway report counts|embargoes|deadlines|dmp`: the administrators' numbers, as a table, CSV, JSON or .xlsx."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import click

from gateway import reports
from gateway.cli.group import Context, cli, friendly_errors
from gateway.db import session_factory
from gateway.reports import FORMATS, ReportError

_FORMAT = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
_OUTPUT = click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file instead of standard output (required for xlsx).",
)
_TODAY = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Report as of this date, YYYY-MM-DD (default: today).",
)


@contextmanager
def _destination(fmt: str, output: Path | None):  # type: ignore[no-untyped-def]
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs --output FILE.xlsx (a workbook is not written to a terminal)")
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    # Written next to the target and renamed, so a failed report never leaves half a file where the last one was.
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as fh:
            yield fh
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)


def _as_of(today: datetime | None) -> date:
    return today.date() if today else date.today()


def _run(
    obj: Any,
    fmt: str,
    output: Path | None,
    make: Callable[[Any], Any],
    write: Callable[[Any, str, IO[bytes]], None],
) -> None:
    sessions = session_factory(obj.engine())
    try:
        with sessions() as session:
            rows = make(session)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    with _destination(fmt, output) as out:
        write(rows, fmt, out)
    if output is not None:
        click.echo(f"wrote {output}", err=True)


@cli.group("report")
def report() -> None:
    """Administrators' reports: counts per project, embargoes, registration deadlines, DMPs against what is held."""


@report.command("counts")
@click.option("--project", default=None, help="Only this Japan Grant Number.")
@click.option("--source", default=None, help="Only records of this source.")
@_FORMAT
@_OUTPUT
@click.pass_obj
@friendly_errors
def counts_cmd(obj: Context, project: str | None, source: str | None, fmt: str, output: Path | None) -> None:
    """Held records per project (Japan Grant Number) by data access right, and by status; deleted records are
    not counted."""
    _run(
        obj,
        fmt,
        output,
        lambda s: reports.counts(s, project=project, source=source),
        reports.write_counts,
    )


@report.command("embargoes")
@click.option("--within", "within", type=click.IntRange(min=0), default=30, show_default=True, help="Days ahead.")
@_TODAY
@_FORMAT
@_OUTPUT
@click.pass_obj
@friendly_errors
def embargoes_cmd(obj: Context, within: int, today: datetime | None, fmt: str, output: Path | None) -> None:
    """Embargoed records whose available date has passed (overdue) or comes within --within days (due)."""
    as_of = _as_of(today)
    _run(
        obj,
        fmt,
        output,
        lambda s: reports.embargoes(s, today=as_of, within_days=within),
        reports.write_embargoes,
    )


@report.command("deadlines")
@_TODAY
@_FORMAT
@_OUTPUT
@click.pass_obj
@friendly_errors
def deadlines_cmd(obj: Context, today: datetime | None, fmt: str, output: Path | None) -> None:
    """Every registration due date of each project, overdue first: metadata 61 days after each fiscal year (April to
    March) that ends before the project does, metadata and counts 61 days after the end; what is missing at each
    (with a DMP, the datasets it declared by then that no held record matches). Periods come from [[projects]] and
    DMP imports; projects with records but no period are listed too."""
    as_of = _as_of(today)
    config = obj.config

    def make(session: Any) -> Any:
        rows = reports.deadlines(session, config, today=as_of)
        if not any(r["deadline"] for r in rows):
            click.echo(
                "no project periods known: add [[projects]] (jgn, name, start, end) to the config, or run "
                "`gateway dmp import FILE.xlsx|.csv` (or `gateway projects import` for a sheet of periods)",
                err=True,
            )
        return rows

    _run(obj, fmt, output, make, reports.write_deadlines)


@report.command("dmp")
@click.option("--project", default=None, help="Only this Japan Grant Number (default: every project with a DMP).")
@_TODAY
@_FORMAT
@_OUTPUT
@click.pass_obj
@friendly_errors
def dmp_cmd(obj: Context, project: str | None, today: datetime | None, fmt: str, output: Path | None) -> None:
    """Each DMP's datasets against the records held: registered (which record, how matched, access right,
    published), not registered (deadline, days overdue), records the DMP does not declare, and where the DMP's
    登録状況 disagrees with what is held."""
    as_of = _as_of(today)
    config = obj.config
    _run(
        obj,
        fmt,
        output,
        lambda s: reports.reconciliation(s, config, today=as_of, project=project),
        reports.write_reconciliation,
    )


@report.command("transitions")
@click.option("--project", default=None, help="Only this Japan Grant Number (default: every project with a DMP).")
@click.option(
    "--within", "within", type=click.IntRange(min=0), default=90, show_default=True, help="Days ahead for 'due'."
)
@_TODAY
@_FORMAT
@_OUTPUT
@click.pass_obj
@friendly_errors
def transitions_cmd(
    obj: Context, project: str | None, within: int, today: datetime | None, fmt: str, output: Path | None
) -> None:
    """AMED's sharing transitions: datasets under 制限共有 whose move to open (the earlier of end + 2 years and the
    results' publication, `gateway dmp publication`) is overdue or due within --within days, and the DMP reviews at
    end + 2 and end + 4 years; a dataset whose record is held as open access is no longer listed."""
    as_of = _as_of(today)
    _run(
        obj,
        fmt,
        output,
        lambda s: reports.transitions(s, today=as_of, within_days=within, project=project),
        reports.write_transitions,
    )
