"""`gateway users ...` and `gateway tokens ...`: the accounts of the dashboard and the management API."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gateway.admin import auth
from gateway.cli.group import Context, cli, friendly_errors, print_table
from gateway.db import session_factory, transaction


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def admin_errors(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except auth.AuthError as exc:
            raise click.ClickException(str(exc)) from None

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@cli.group()
def users() -> None:
    """Dashboard and API users (roles: manager — everything; viewer — read-only)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(auth.ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
@friendly_errors
@admin_errors
def users_add(obj: Context, name: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is asked for (or read with --password-stdin)."""
    auth.check_username(name)
    password = _read_password(password_stdin)
    with transaction(session_factory(obj.engine())) as session:
        auth.create_user(session, name, password, role)
    click.echo(f"user {name} added ({role})")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
@friendly_errors
@admin_errors
def users_password(obj: Context, name: str, password_stdin: bool) -> None:
    """Set a user's password (this ends the user's sessions)."""
    password = _read_password(password_stdin)
    with transaction(session_factory(obj.engine())) as session:
        auth.set_password(session, name, password)
    click.echo(f"password of {name} changed")


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
@friendly_errors
def users_list(obj: Context, fmt: str) -> None:
    """Every user with their role and last login."""
    with session_factory(obj.engine())() as session:
        rows = auth.list_users(session)
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {**r, "created_at": _stamp(r["created_at"]), "last_login_at": _stamp(r["last_login_at"]) or None}
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    print_table(
        ["username", "role", "created", "last_login"],
        [[r["username"], r["role"], _stamp(r["created_at"]), _stamp(r["last_login_at"])] for r in rows],
    )


@users.command("delete")
@click.argument("name")
@click.pass_obj
@friendly_errors
@admin_errors
def users_delete(obj: Context, name: str) -> None:
    """Delete a user and their API tokens."""
    with transaction(session_factory(obj.engine())) as session:
        auth.delete_user(session, name)
    click.echo(f"user {name} deleted")


@cli.group()
def tokens() -> None:
    """API tokens for scripts: `Authorization: Bearer <token>`, with the role of the user they belong to."""


@tokens.command("create")
@click.argument("name")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.pass_obj
@friendly_errors
@admin_errors
def tokens_create(obj: Context, name: str, username: str) -> None:
    """Create a token and print it (once: only its hash is stored)."""
    with transaction(session_factory(obj.engine())) as session:
        token = auth.create_token(session, name, username)
    click.echo(token)
    click.echo(f"token {name} for {username} created; it is shown only now", err=True)


@tokens.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
@friendly_errors
def tokens_list(obj: Context, fmt: str) -> None:
    """Every token (never the token itself): its user, role, creation, last use and revocation."""
    with session_factory(obj.engine())() as session:
        rows = auth.list_tokens(session)
    stamped = [{**r, **{k: _stamp(r[k]) or None for k in ("created_at", "last_used_at", "revoked_at")}} for r in rows]
    if fmt == "json":
        click.echo(json.dumps(stamped, indent=2))
        return
    headers = ["name", "user", "role", "created_at", "last_used_at", "revoked_at"]
    print_table(headers, [[r[h] for h in headers] for r in stamped])


@tokens.command("revoke")
@click.argument("name")
@click.pass_obj
@friendly_errors
@admin_errors
def tokens_revoke(obj: Context, name: str) -> None:
    """Revoke a token: it is refused from now on."""
    with transaction(session_factory(obj.engine())) as session:
        auth.revoke_token(session, name)
    click.echo(f"token {name} revoked")
