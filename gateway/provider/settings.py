"""Values the provider generates once and keeps in the `settings` table (the token secret, earliestDatestamp)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.models import Setting


def stored_setting(sessions: sessionmaker[Session], key: str, make: Callable[[], str]) -> str:
    """The value stored under `key`, creating it with `make()` when absent.

    Several processes (or threads) may get here at once on a fresh database: the primary key lets exactly one insert
    win, and the losers read the winner's value, so every process ends up with the same value.
    """
    with sessions() as session:
        row = session.get(Setting, key)
        if row is not None:
            return row.value
        session.add(Setting(key=key, value=make()))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        row = session.get(Setting, key, populate_existing=True)
        if row is None:  # pragma: no cover - the insert either succeeded or lost to a committed row
            raise RuntimeError(f"setting {key!r} could not be stored")
        return row.value
