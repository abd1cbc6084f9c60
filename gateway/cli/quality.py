"""`gateway quarantine`, `records show`, `validate` and `check`: what is held back and why, one record's whole story,
and checking files (without a database) and OAI-PMH endpoints."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click
from lxml import etree

from gateway import crosswalk
from gateway.cli.group import Context, cli, friendly_errors
from gateway.db import session_factory
from gateway.xmlsafe import XMLInputError, parse_bytes

_OAI = "http://www.openarchives.org/OAI/2.0/"
_COLUMNS = ["file", "record", "severity", "rule", "item", "path", "value", "message"]


def _records_in(data: bytes) -> list[tuple[str, bytes]]:
    """The records of a file: each <metadata> of an OAI-PMH response, or the document itself."""
    try:
        root = parse_bytes(data)
    except XMLInputError:
        return [("", data)]
    if etree.QName(root).namespace != _OAI:
        return [("", data)]
    out = []
    for rec in root.iter(f"{{{_OAI}}}record"):
        ident = rec.findtext(f"{{{_OAI}}}header/{{{_OAI}}}identifier") or ""
        meta = rec.find(f"{{{_OAI}}}metadata")
        if meta is not None and len(meta):
            out.append((ident, etree.tostring(meta[0])))
    return out


def validate_paths(paths: list[Path], profile: str) -> list[dict[str, Any]]:
    """Findings of every record in the files (directories: their *.xml), one row per finding."""
    from gateway.pipeline import map_record

    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.xml")) if p.is_dir() else [p])
    rows = []
    for path in files:
        for ident, xml in _records_in(path.read_bytes()):
            # Item 12 (repository) is supplied by the gateway from its configuration, which offline checking has not.
            mapped = map_record(xml, prefix=None, profile=profile, repository="(supplied by the gateway)")
            for f in mapped.findings:
                rows.append({"file": str(path), "record": ident, **{k: f.get(k) for k in _COLUMNS[2:]}})
    return rows


def _emit(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else _COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for r in rows:
            item = f" [Annex-3 item {r['item']}]" if r.get("item") else ""
            where = " ".join(x for x in (r.get("file"), r.get("record")) if x)
            value = f" = {r['value']!r}" if r.get("value") else ""
            click.echo(f"{where}: {r['severity']} {r['rule']}{item} {r.get('path') or ''}{value}: {r['message']}")


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text")
@click.option("--profile", type=click.Choice(["auto", "annex3", "none"]), default="auto")
@friendly_errors
def validate_cmd(paths: tuple[Path, ...], fmt: str, profile: str) -> None:
    """Check JPCOAR / oai_dc files or OAI-PMH responses offline; exit 1 when any error is found."""
    crosswalk.formats()
    rows = validate_paths(list(paths), profile)
    _emit(rows, fmt)
    if any(r["severity"] == "error" for r in rows):
        sys.exit(1)


@cli.command("quarantine")
@click.option("--source", default=None, help="Only this source.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.pass_obj
@friendly_errors
def quarantine_cmd(obj: Context, source: str | None, fmt: str) -> None:
    """Quarantined records with their findings."""
    from sqlalchemy import select

    from gateway.models import Record, Source

    sessions = session_factory(obj.engine())
    prefix = f"oai:{obj.config.repository.identifier}:"
    rows = []
    with sessions() as session:
        query = select(Record).join(Source).where(Record.status == "quarantined").order_by(Record.local_id)
        if source:
            query = query.where(Source.name == source)
        for rec in session.scalars(query):
            for f in rec.findings or []:
                rows.append(
                    {
                        "record": prefix + rec.local_id,
                        "source": rec.source.name,
                        "title": rec.title,
                        **{k: f.get(k) for k in _COLUMNS[2:]},
                    }
                )
    if fmt == "table":
        for r in rows:
            item = f" [item {r['item']}]" if r.get("item") else ""
            click.echo(f"{r['record']}  {r['severity']} {r['rule']}{item} {r.get('path') or ''}: {r['message']}")
        if not rows:
            click.echo("no quarantined records")
    else:
        _emit(rows, fmt)


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
    # one dataset, one record: which record is served in this one's place, or which records are served as this one
    if info.get("duplicate_of"):
        click.echo(f"duplicate of {info['duplicate_of']}")
    if info.get("duplicates"):
        click.echo("duplicates: " + "; ".join(info["duplicates"]))
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
