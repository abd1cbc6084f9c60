"""The `gateway` command group and what every command shares: the context, the error handling, the table printer.

Every command family (gateway.cli.harvesting, .running, .quality, .report, .export, .accounts, .projects) imports this
module and adds its commands to `cli`; this module imports none of them, so the commands are registered without an
import loop. gateway.cli imports this module first and then each family.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from gateway import __version__
from gateway.config import Config, ConfigError, load
from gateway.db import DatabaseError, check_current, make_engine
from gateway.harvest import HarvestError

#: `gateway harvest`, `gateway projects import` and the imports: everything done, but records (rows) are held in
#: quarantine
EXIT_HELD = 3


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


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Rows under their headers, each column as wide as its widest cell."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
