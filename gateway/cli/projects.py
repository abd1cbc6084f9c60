"""`gateway projects import|list`: project periods from a DMP spreadsheet, for the registration-deadline report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway import projects
from gateway.cli.group import EXIT_HELD, Context, cli, friendly_errors
from gateway.db import session_factory
from gateway.reports import Column, render

_COLUMNS = (
    Column("jgn", "体系的番号 JGN"),
    Column("start", "開始 start", "date"),
    Column("end", "終了 end", "date"),
    Column("name_ja", "研究課題名 name (ja)"),
    Column("name_en", "name (en)"),
    Column("funder", "資金配分機関 funder"),
    Column("program", "プログラム名 program"),
    Column("file", "file"),
    Column("imported_at", "imported at"),
    Column("config", "[[projects]] wins", "bool"),
)


@cli.group("projects")
def projects_group() -> None:
    """Project periods (Japan Grant Number, start, end) imported from a DMP spreadsheet."""


@projects_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
@friendly_errors
def import_cmd(obj: Context, file: Path) -> None:
    """Add or update the projects of a DMP sheet (.xlsx or .csv; headers in Japanese or English).

    The whole file is checked first, and its good rows are stored in one transaction. A row with an error is
    reported (file, row, column, value, what is expected) and held, not stored; the exit status is then 3. A
    file that cannot be read at all changes nothing (exit status 1). Projects not in the file are kept.
    """
    sessions = session_factory(obj.engine())
    try:
        result = projects.import_file(sessions, file, repository_identifier=obj.config.repository.identifier)
    except projects.ProjectImportError as exc:
        raise click.ClickException(str(exc)) from None
    for held in result.held:
        click.echo(f"held: {held}", err=True)
    click.echo(
        f"{file.name}: {result.total} project(s): {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )
    click.echo(f"{result.total} rows imported, {result.held_rows} held with errors")
    configured = {p.jgn for p in obj.config.projects}
    both = sorted(configured & {r["jgn"] for r in _stored(sessions)})
    if both:
        click.echo(f"[[projects]] in the configuration wins for: {', '.join(both)}", err=True)
    if result.held:
        sys.exit(EXIT_HELD)


@projects_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
@friendly_errors
def list_cmd(obj: Context, fmt: str) -> None:
    """The stored projects; `config` says a [[projects]] entry with the same number is used instead."""
    configured = {p.jgn for p in obj.config.projects}
    rows = [{**r, "config": r["jgn"] in configured} for r in _stored(session_factory(obj.engine()))]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no projects stored (gateway projects import FILE.xlsx|.csv)")
        return
    render(rows, _COLUMNS, "table", sys.stdout.buffer)
    sys.stdout.buffer.flush()


def _stored(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return projects.stored(session)
