"""Another process that changes what the provider serves, through the gateway's own publishing code.

Run as `python -m tests.support.provider_writer DATABASE_URL SEED`. Each line "step" on stdin makes one round of
changes, committed, and answers with one JSON line saying what it did: records changed (new rendering, so a new
datestamp), withdrawn (no longer public: served as deleted), added (newly published) and hidden (stored but never
published). "quit" ends it. Tests use it to walk a list while records change underneath, as in a real deployment
where the scheduler's harvest runs in its own process.
"""

from __future__ import annotations

import json
import random
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import publish
from gateway.db import make_engine, utcnow
from gateway.models import Published, PublishedSet, Record
from tests.support.provider_fixtures import RENDER, REPO_ID, SECRET_IDENTIFIER, SECRET_TITLE, SET_NAMES, make_source

PREFIXES = ("jpcoar_2.0", "oai_dc")


def _outputs(title: str, local: str) -> dict[str, bytes]:
    return {prefix: RENDER[prefix](title, local) for prefix in PREFIXES}


def _sync(session: Session, record: Record, sets: list[str] | None) -> str:
    published = record.status == "published"
    return publish.sync(
        session,
        record,
        repository_identifier=REPO_ID,
        outputs=_outputs(record.title or "", record.local_id) if published else None,
        sets={spec: SET_NAMES.get(spec, spec) for spec in sets or []} if published else None,
        about=None,
        now=utcnow(),
    )


def _identifier(session: Session, record: Record) -> str:
    return session.scalar(select(Published.oai_identifier).where(Published.record_id == record.id)) or ""


def one_round(session: Session, rng: random.Random, number: int) -> dict[str, list[str]]:
    done: dict[str, list[str]] = {"changed": [], "withdrawn": [], "added": [], "hidden": []}
    live = session.scalars(select(Record).where(Record.status == "published").order_by(Record.id)).all()
    picked = rng.sample(list(live), min(len(live), 3))
    for record in picked[:2]:
        sets = session.scalars(
            select(PublishedSet.set_spec).join(Published, Published.id == PublishedSet.published_id)
            .where(Published.record_id == record.id)
        ).all()
        record.title = f"{record.title} (revised {number})"
        if _sync(session, record, list(sets)) == "updated":
            done["changed"].append(_identifier(session, record))
    for record in picked[2:]:
        record.status = "withheld"
        record.disclosure = "private"
        if _sync(session, record, None) == "deleted":
            done["withdrawn"].append(_identifier(session, record))
    source = make_source(session, "writer")
    now = utcnow()
    for status, disclosure, title in (
        ("published", "public", f"Added during the walk {number}"),
        ("withheld", "private", f"{SECRET_TITLE} added {number}"),
    ):
        ident = f"{SECRET_IDENTIFIER}-w{number}" if status == "withheld" else f"added-{number}"
        record = Record(
            source_id=source.id,
            source_identifier=ident,
            local_id=f"writer/{ident}",
            harvested_at=now,
            disclosure=disclosure,
            status=status,
            title=title,
            updated_at=now,
        )
        session.add(record)
        session.flush()
        outcome = _sync(session, record, ["source", "source:writer"])
        if outcome == "published":
            done["added"].append(_identifier(session, record))
        else:
            done["hidden"].append(f"oai:{REPO_ID}:writer/{ident}")
    session.commit()
    return done


def main(argv: list[str]) -> int:
    url, seed = argv[1], int(argv[2])
    rng = random.Random(seed)
    engine = make_engine(url)
    number = 0
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "step":
            continue
        number += 1
        with Session(engine) as session:
            done = one_round(session, rng, number)
        sys.stdout.write(json.dumps(done) + "\n")
        sys.stdout.flush()
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
