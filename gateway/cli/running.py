"""`gateway init`, `serve` and `run`: making the database ready, serving the provider, and the main scheduled job."""

from __future__ import annotations

import time
from typing import Any

import click

from gateway.cli.group import Context, cli, friendly_errors
from gateway.db import DatabaseError, migrate, session_factory


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


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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
