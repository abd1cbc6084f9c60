"""A lock per source held in the database, so that one source is harvested at most once at a time across every
gateway process sharing the database (several schedulers on one PostgreSQL database, a `gateway harvest` started by
hand while `gateway run` is harvesting, ...).

The lock is one `source_locks` row: taken by an atomic INSERT (the primary key on source_id lets one of two racing
processes win), or by a conditional UPDATE of a row whose holder is gone (its expiry has passed, or it names a
process of this host that no longer exists). The holder refreshes the expiry after each page and deletes the row at
the end. A process killed while harvesting leaves its row behind; it is taken over once stale.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.db import transaction, utcnow
from gateway.harvest import HarvestError
from gateway.models import SourceLock

#: seconds a lock stays valid without a refresh; a page (with its retries) must take less than this
DEFAULT_TTL = 900.0


class SourceBusy(HarvestError):
    """The source is being harvested by another run (in this process or another)."""


class LockLost(HarvestError):
    """The lock expired and was taken over by another process while this one was still harvesting."""


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(holder: str) -> bool:
    """True when `holder` names a process of this host that has ended (its lock needs no waiting for)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class HeldLock:
    source_id: int
    holder: str
    expires_at: datetime
    took_over: str | None = None  # the stale holder this lock replaced, if any


def acquire(
    sessions: sessionmaker[Session], source_id: int, *, holder: str | None = None, ttl: float = DEFAULT_TTL
) -> HeldLock:
    """Take the lock of a source, or raise SourceBusy naming who holds it."""
    holder = holder or new_holder()
    now = utcnow()
    expires = now + timedelta(seconds=ttl)
    try:
        with transaction(sessions) as session:
            session.execute(
                insert(SourceLock).values(source_id=source_id, holder=holder, acquired_at=now, expires_at=expires)
            )
        return HeldLock(source_id, holder, expires)
    except IntegrityError:
        pass
    with sessions() as session:
        row = session.execute(
            select(SourceLock.holder, SourceLock.expires_at).where(SourceLock.source_id == source_id)
        ).first()
    if row is None:  # released in the meantime: try once more
        return acquire(sessions, source_id, holder=holder, ttl=ttl)
    current, current_expiry = row
    if current_expiry >= now and not _holder_is_dead(current):
        until = f"{current_expiry:%Y-%m-%d %H:%M:%S}"
        raise SourceBusy(f"the source is being harvested by {current} (lock valid until {until} UTC)")
    # Take the stale lock over; the condition on the old holder makes two would-be successors exclusive.
    with transaction(sessions) as session:
        taken = session.execute(
            update(SourceLock)
            .where(SourceLock.source_id == source_id, SourceLock.holder == current)
            .values(holder=holder, acquired_at=now, expires_at=expires)
        ).rowcount
    if taken != 1:
        raise SourceBusy(f"the source's stale lock (held by {current}) was just taken over by another process")
    return HeldLock(source_id, holder, expires, took_over=current)


def refresh(sessions: sessionmaker[Session], lock: HeldLock, *, ttl: float = DEFAULT_TTL) -> None:
    """Extend the lock; raise LockLost when another process has taken it over."""
    expires = utcnow() + timedelta(seconds=ttl)
    with transaction(sessions) as session:
        ok = session.execute(
            update(SourceLock)
            .where(SourceLock.source_id == lock.source_id, SourceLock.holder == lock.holder)
            .values(expires_at=expires)
        ).rowcount
    if ok != 1:
        raise LockLost("the harvest lock of the source expired and was taken over by another process")
    lock.expires_at = expires


def release(sessions: sessionmaker[Session], lock: HeldLock) -> None:
    with transaction(sessions) as session:
        session.execute(
            delete(SourceLock).where(SourceLock.source_id == lock.source_id, SourceLock.holder == lock.holder)
        )
