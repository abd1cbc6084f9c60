"""`gateway runs`: the harvest history, one line (or JSON object) per run, newest first."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from gateway.db import session_factory


def run_rows(session: Any, *, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The runs as the dashboard and the API show them."""
    from gateway.admin.operations import list_runs

    return list_runs(session, source=source, limit=limit)


def register(cli: click.Group) -> None:
    from gateway.cli import Context, _table, friendly_errors

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
        _table(headers, table)
