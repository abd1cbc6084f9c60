"""`gateway dmp export PROJECT --output F.xlsx`: the project's current DMP written back with メタデータ登録状況 filled
in from what the gateway holds (gateway.dmp.writeback). The command joins the `dmp` group of gateway.cli.dmp."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from gateway.cli.dmp import dmp
from gateway.cli.group import Context, friendly_errors
from gateway.db import session_factory
from gateway.dmp import writeback
from gateway.reports.common import ReportError


@dmp.command("export")
@click.argument("project")
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The workbook to write (.xlsx).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Export as of this date, YYYY-MM-DD (default: today).",
)
@click.pass_obj
@friendly_errors
def export_cmd(obj: Context, project: str, output: Path, today: datetime | None) -> None:
    """Write PROJECT's current DMP (by Japan Grant Number) to an .xlsx workbook, its datasets as imported, with
    登録状況 from the gateway: "YYYY年M月D日登録済み" for a dataset a held record matches, "未登録（期限 YYYY-MM-DD）"
    with its registration deadline for one that none does."""
    if output.suffix.lower() != ".xlsx":
        raise click.UsageError("--output must name an .xlsx file")
    as_of = today.date() if today else date.today()
    sessions = session_factory(obj.engine())
    try:
        with sessions() as session:
            found = writeback.exported(session, project, today=as_of, config=obj.config)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    # Written next to the target and renamed, so a failed export never leaves half a file where the last one was.
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as fh:
            writeback.write_xlsx(found, fh)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(
        f"wrote {output}: DMP version {found.version} of {found.jgn}, {len(found.rows)} datasets "
        f"({found.registered} registered, {found.not_registered} not registered)",
        err=True,
    )
