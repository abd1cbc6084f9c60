"""The `gateway` command line: the group (gateway.cli.group) with every command family's commands added to it.

Importing a family module registers its commands on the group; the families import only the group module, never
this one or each other, so there is no import loop. A new command goes into the family it belongs to, or into a new
module here that is imported below. `main` is the console script (`gateway`) and `python -m gateway`.
"""

from __future__ import annotations

import os
import sys

from gateway.cli import (  # noqa: F401 (registration)
    accounts,
    dmp,
    dmp_export,
    dmp_publications,
    export,
    harvesting,
    projects,
    quality,
    report,
    running,
)
from gateway.cli.group import EXIT_HELD, Context, cli, friendly_errors
from gateway.cli.harvesting import ProgressDisplay, run_summary

__all__ = ["EXIT_HELD", "Context", "ProgressDisplay", "cli", "friendly_errors", "main", "run_summary"]


def main() -> None:
    try:
        cli(prog_name="gateway")
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
