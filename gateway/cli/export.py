"""`gateway export spreadsheet`: the records in the common-item layout, one row per record, as .xlsx or .csv;
`gateway export catalogue`: the DMP items of AMED DataCat (gateway.reports.catalogue).

The layout is the one the funders' databases take as an upload and the one the `spreadsheet` source reads, so an export
imported again gives the same records.  Every record the gateway holds is exported (published, withheld or quarantined;
not deleted ones): what researchers must register is all their metadata, not only what is public.  The last column, the
metadata access right, is not part of GakuNin RDM's report; it carries each record's disclosure through a round trip.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway import commonitems
from gateway.cli.group import Context, cli, friendly_errors
from gateway.models import Record, Source

__all__ = ["export_rows", "write_sheet"]


def export_rows(
    sessions: sessionmaker[Session], *, project: str | None = None, source: str | None = None
) -> list[dict[str, str]]:
    """Rows (column key -> cell) of every record not deleted, optionally of one project (Japan Grant Number)."""
    rows = []
    with sessions() as session:
        query = select(Record).join(Source).where(Record.source_deleted.is_(False)).order_by(Record.local_id)
        if source:
            query = query.where(Source.name == source)
        for record in session.execute(query.execution_options(yield_per=500)).scalars():
            view = record.annex3 or {}
            if project and project not in {v.get("value") for v in view.get("jgn", [])}:
                continue
            rows.append(
                commonitems.row_from_record(
                    record.canonical_xml, view, private=record.private, disclosure=record.disclosure
                )
            )
    return sorted(rows, key=lambda r: (r["jgn"], r["data_number"]))


def write_sheet(rows: list[dict[str, Any]], path: Path, lang: str) -> None:
    """Write the rows with the headers of `lang` (ja or en): .xlsx, or .csv in UTF-8 with a BOM for Excel."""
    columns = commonitems.columns()
    headers = [c.header(lang) for c in columns]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(c.key, "") for c in columns])
        path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    elif suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "common metadata items" if lang == "en" else "共通メタデータ項目"
        sheet.append(headers)
        for row in rows:
            # as text: a data number like 00001 or a date must not become a number or a date serial
            sheet.append([row.get(c.key, "") for c in columns])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                cell.number_format = "@"
        sheet.freeze_panes = "A2"
        workbook.save(path)
    else:
        raise click.ClickException(f"{path}: the output must end in .xlsx or .csv")


@cli.group("export")
def export_group() -> None:
    """Export metadata for the funders' databases."""


@export_group.command("spreadsheet")
@click.option("--project", default=None, help="Only this project (Japan Grant Number).")
@click.option("--source", default=None, help="Only this source.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", help="Header language.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.xlsx or .csv")
@click.pass_obj
@friendly_errors
def spreadsheet_cmd(obj: Context, project: str | None, source: str | None, lang: str, output: Path) -> None:
    """The common-item layout, one row per record (ready for upload; re-importable as a spreadsheet source)."""
    from gateway.db import session_factory

    if output.suffix.lower() not in (".xlsx", ".csv"):
        raise click.ClickException(f"{output}: the output must end in .xlsx or .csv")
    rows = export_rows(session_factory(obj.engine()), project=project, source=source)
    write_sheet(rows, output, lang)
    click.echo(f"{len(rows)} record(s) written to {output}")


@export_group.command("catalogue")
@click.option("--project", default=None, help="Only this project (Japan Grant Number).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), required=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.pass_obj
@friendly_errors
def catalogue_cmd(obj: Context, project: str | None, fmt: str, output: Path) -> None:
    """The DMP items AMED publishes in its data catalogue (AMED DataCat), one row per dataset of each current DMP:
    never the PI's address, telephone or e-mail, nor data-related staff without 公表の可否 可."""
    from gateway import reports
    from gateway.db import session_factory

    try:
        with session_factory(obj.engine())() as session:
            rows = reports.catalogue(session, project=project)
    except reports.ReportError as exc:
        raise click.ClickException(str(exc)) from None
    partial = output.with_name(output.name + ".partial")  # a failed export never leaves half a file in its place
    try:
        with partial.open("wb") as fh:
            reports.write_catalogue(rows, fmt, fh)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"{len(rows)} dataset(s) written to {output}")
