"""`gateway dmp import|history|list`: DMPs imported as versions, and what each version changed.

The `dmp` group is shared by the DMP's command families: this module defines it (and its import and history
commands); gateway.cli.dmp_publications and the export add theirs to it by importing `dmp` from here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gateway.cli.group import EXIT_HELD, Context, cli, friendly_errors
from gateway.db import session_factory
from gateway.dmp import versions
from gateway.reports.writers import Column, render

HISTORY_COLUMNS = (
    Column("version", "版 version", "int"),
    Column("current", "現行 current", "bool"),
    Column("imported_at", "取込日時 imported at"),
    Column("dmp_date", "DMP作成日 DMP date", "date"),
    Column("file", "ファイル file"),
    Column("datasets", "データ数 datasets", "int"),
    Column("start", "開始 start", "date", in_table=False),
    Column("end", "終了 end", "date", in_table=False),
    Column("summary", "変更 changes"),
    Column("summary_ja", "変更（日本語） changes (ja)", in_table=False),
)
LIST_COLUMNS = (
    Column("jgn", "体系的番号 JGN"),
    Column("name", "研究課題名 project"),
    Column("version", "現行版 current version", "int"),
    Column("start", "開始 start", "date"),
    Column("end", "終了 end", "date"),
    Column("datasets", "データ数 datasets", "int"),
    Column("dmp_date", "DMP作成日 DMP date", "date", in_table=False),
    Column("imported_at", "取込日時 imported at"),
    Column("file", "ファイル file", in_table=False),
)
_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                       show_default=True)


@cli.group("dmp")
def dmp() -> None:
    """Data management plans: imported as versions, reconciled with what is held, exported with 登録状況."""


@dmp.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
@friendly_errors
def import_cmd(obj: Context, files: tuple[Path, ...]) -> None:
    """Import DMP files (.xlsx or .csv: 別紙2, AMED's form, or a plain table; headers in Japanese or English).

    Every project of a file becomes a new version of its DMP, in one transaction per file. A row with an error is
    reported (file, row, column, value, what is expected) and held; the rest of the file is imported and the exit
    status is 3. A file that cannot be read changes nothing; the other files are still imported and the exit status
    is 1.
    """
    sessions = session_factory(obj.engine())
    failed = held = False
    for path in files:
        try:
            result = versions.import_file(sessions, path, repository_identifier=obj.config.repository.identifier)
        except versions.DmpImportError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
            continue
        for project in result.projects:
            click.echo(f"{project.jgn}: version {project.version}, {project.datasets} datasets "
                       f"({project.summary()})")
        for row in result.held:
            click.echo(f"held: {row}", err=True)
        click.echo(f"{path.name}: {result.rows} rows imported, {result.held_rows} held with errors")
        held = held or bool(result.held)
    if failed:
        sys.exit(1)
    if held:
        sys.exit(EXIT_HELD)


@dmp.command("history")
@click.argument("project")
@_FORMAT
@click.pass_obj
@friendly_errors
def history_cmd(obj: Context, project: str, fmt: str) -> None:
    """Every version of a project's DMP (by Japan Grant Number): when and from which file it was imported, its
    datasets, and what it changed (datasets added or removed, sharing method, disclosure or access right, period)."""
    with session_factory(obj.engine())() as session:
        rows = versions.history(session, project.strip())
    if not rows:
        raise click.ClickException(f"no DMP of {project} was imported (gateway dmp import FILE)")
    render(rows, HISTORY_COLUMNS, fmt, sys.stdout.buffer, sheet="history")
    sys.stdout.buffer.flush()


@dmp.command("list")
@_FORMAT
@click.pass_obj
@friendly_errors
def list_cmd(obj: Context, fmt: str) -> None:
    """The projects with a DMP: their current version, period and number of datasets."""
    with session_factory(obj.engine())() as session:
        rows = versions.projects(session)
    if not rows and fmt == "table":
        click.echo("no DMP imported (gateway dmp import FILE.xlsx|.csv)")
        return
    render(rows, LIST_COLUMNS, fmt, sys.stdout.buffer, sheet="dmp")
    sys.stdout.buffer.flush()
