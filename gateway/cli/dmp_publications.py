"""`gateway dmp publication|publications|unpublish`: results publications recorded against a project's DMP.

AMED moves data under 制限共有 to open at the earlier of two years after the project's end and the publication of its
results (a paper's acceptance, a patent application's publication); these commands record that date
(gateway.dmp.publications), which `gateway report transitions` reads. The commands join the `dmp` group of
gateway.cli.dmp.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import Any

import click

from gateway.cli.dmp import dmp
from gateway.cli.group import Context, friendly_errors
from gateway.db import session_factory, transaction
from gateway.dmp import publications as pubs
from gateway.reports.writers import Column, render

_COLUMNS = (
    Column("id", "id", "int"),
    Column("jgn", "体系的番号 JGN"),
    Column("kind_label", "種類 kind"),
    Column("date", "日付 date", "date"),
    Column("dataset_position", "No.", "int"),
    Column("data_number", "データNo. data number"),
    Column("dataset_name", "データの名称 dataset"),
    Column("note", "メモ note"),
    Column("recorded_by", "記録者 recorded by"),
    Column("recorded_at", "記録日時 recorded at", in_table=False),
)


def _labelled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["kind_label"] = f"{row['kind_ja']} {row['kind_en']}"
        if row["dataset_key"] is None:
            row["dataset_name"] = "（課題全体）(the whole project)"
        elif row["dataset_in_dmp"] is False:
            row["dataset_name"] = f"{row['dataset_key']} (no longer in the DMP)"
    return rows


def _who() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment: the record simply names nobody
        return None


@dmp.command("publication")
@click.argument("project")
@click.option(
    "--date",
    "when",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day of the paper's acceptance or of the patent application's publication (YYYY-MM-DD).",
)
@click.option("--kind", required=True, type=click.Choice(pubs.KINDS), help="paper (accepted) or patent (published).")
@click.option(
    "--dataset",
    default=None,
    help="The dataset's data number, or its position N in the DMP; without it, the whole project's results.",
)
@click.option("--note", default=None, help="What was published (a DOI, a journal, a patent number).")
@click.pass_obj
@friendly_errors
def publication_cmd(
    obj: Context, project: str, when: datetime, kind: str, dataset: str | None, note: str | None
) -> None:
    """Record a publication of PROJECT's results (for AMED's sharing transitions)."""
    try:
        with transaction(session_factory(obj.engine())) as session:
            row = pubs.record(
                session, project, published_on=when.date(), kind=kind, dataset=dataset, note=note, recorded_by=_who()
            )
    except pubs.PublicationError as exc:
        raise click.ClickException(exc.message) from None
    what = f"dataset {row['dataset_position']} ({row['data_number'] or row['dataset_name']})" if dataset else "project"
    click.echo(f"recorded publication {row['id']}: {row['kind_en']} on {row['date']}, {row['jgn']} {what}")


@dmp.command("publications")
@click.argument("project", required=False)
@click.option("--format", "fmt", type=click.Choice(("table", "csv", "json")), default="table", show_default=True)
@click.pass_obj
@friendly_errors
def publications_cmd(obj: Context, project: str | None, fmt: str) -> None:
    """The publications recorded for PROJECT (or for every project), oldest first."""
    with session_factory(obj.engine())() as session:
        rows = pubs.publications(session, project)
    render(_labelled(rows), _COLUMNS, fmt, sys.stdout.buffer)
    sys.stdout.buffer.flush()


@dmp.command("unpublish")
@click.argument("project")
@click.argument("publication_id", type=int)
@click.pass_obj
@friendly_errors
def unpublish_cmd(obj: Context, project: str, publication_id: int) -> None:
    """Remove a publication recorded by mistake (its id: `gateway dmp publications PROJECT`)."""
    try:
        with transaction(session_factory(obj.engine())) as session:
            pubs.remove(session, project, publication_id)
    except pubs.PublicationError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"removed publication {publication_id} of {project}")
