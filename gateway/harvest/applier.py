"""Applying a harvest's pages to the database, one page in the making while the one before is written.

Each page goes through two steps: `prepare` reads what is stored of its records, tells the unchanged ones by their
hash (the bulk of a re-harvest) and hands the new and changed ones to the mapper; `finish` waits for the mapping,
writes the page in one transaction and records the run's counts and checkpoint with it. The runner prepares page n+1
before it finishes page n, so that worker processes map one page while the harvesting process writes the other. A
page that shares a record with the page before it (a list restarted from its checkpoint lists some again) waits until
that page is written: it must see what that page stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import SourceConfig
from gateway.db import transaction, utcnow
from gateway.harvest.records import HarvestedRecord, Page
from gateway.models import HarvestRun, Record
from gateway.pipeline import raw_hash
from gateway.store import Mapper, Prepared, SourceProcessor

MAX_LOGGED_PROBLEMS = 200

#: what is known of a stored record before its page is applied: its hash, deletion flag and the run that last listed it
Known = dict[str, tuple["str | None", bool, "int | None"]]


@dataclass
class Progress:
    source: str
    pages: int = 0
    records: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    #: listed again after a restart of the list, and already stored by this run: applied once, counted here
    repeated: int = 0
    retries: int = 0
    restarts: int = 0
    repairs: int = 0
    #: records of this run's list held as quarantined (known at the end of the run)
    held: int = 0
    total: int | None = None
    done: bool = False
    status: str = "running"


@dataclass
class _Step:
    page: Page
    known: Known
    unchanged: set[int]  # ids of the page's items that are unchanged
    prepared: Prepared | None
    changed: list[HarvestedRecord] = field(default_factory=list)

    def identifiers(self) -> set[str]:
        return {item.identifier for item in self.page.records if item.identifier}


class PageApplier:
    """The pages of one run, prepared and finished in turn (see the module's docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: SourceConfig,
        processor: SourceProcessor,
        run_id: int,
        state: Progress,
        warnings: list[str],
        errors: list[str],
        *,
        save: Callable[[Session, Page], None],
        after_page: Callable[[Page], None],
    ) -> None:
        self.sessions, self.source, self.processor, self.run_id = sessions, source, processor, run_id
        self.source_id = processor.source_id
        self.state, self.warnings, self.errors = state, warnings, errors
        # `save` records the run's counts and checkpoint in the page's own transaction; `after_page` runs after it.
        self.save, self.after_page = save, after_page
        self.mapper: Mapper | None = None
        self._waiting: _Step | None = None

    def add(self, page: Page) -> None:
        """Prepare `page`, and finish the page before it (first, if the two share a record).

        Without a mapper (worker processes) nothing runs meanwhile, so each page is finished at once.
        """
        waiting = self._waiting
        if waiting is not None and waiting.identifiers() & {i.identifier for i in page.records if i.identifier}:
            self.flush()
            waiting = None
        step = self._prepare(page)
        if waiting is not None:
            self._finish(waiting)
        if self.mapper is None:
            self._finish(step)
        else:
            self._waiting = step

    def flush(self) -> None:
        """Finish the page still waiting, if any."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._finish(waiting)

    def drop(self) -> None:
        """Forget the page still waiting (the run stops; that page is fetched again when the run resumes)."""
        self._waiting = None

    def _prepare(self, page: Page) -> _Step:
        now = utcnow()
        with self.sessions() as session:
            known = _known(session, self.source_id, page.records)
            # Unchanged records are told by their hash alone; the rest of the page goes through the pipeline together.
            unchanged = {id(item) for item in page.records if _unchanged(item, known, self.source)}
            changed = [item for item in page.records if id(item) not in unchanged]
            prepared = self.processor.prepare(session, changed, now, mapper=self.mapper) if changed else None
        return _Step(page, known, unchanged, prepared, changed)

    def _finish(self, step: _Step) -> None:
        state, page = self.state, step.page
        with transaction(self.sessions) as session:
            if step.prepared is not None:
                changed_outcomes = self.processor.finish(session, step.prepared)
            elif step.changed:  # a page listing one record twice is applied in order
                changed_outcomes = self.processor.process_page(session, step.changed, utcnow(), mapper=self.mapper)
            else:
                changed_outcomes = []
            outcomes = iter(changed_outcomes)
            # Records the pipeline did not store again (unchanged, or garbled this time) still carry this run.
            listed: list[str] = []
            for item in page.records:
                if id(item) in step.unchanged:
                    # A record this run has stored already, listed again after a restart, is applied and counted once.
                    outcome = "repeated" if step.known[item.identifier][2] == self.run_id else "unchanged"
                else:
                    outcome = next(outcomes)
                if outcome in ("unchanged", "failed") and item.identifier:
                    listed.append(item.identifier)
                if outcome == "failed":
                    note(self.errors, f"{item.identifier or '(no identifier)'}: {item.error}")
                setattr(state, outcome, getattr(state, outcome) + 1)
                if outcome != "repeated":
                    state.records += 1
            # Every record of the list carries the run that last listed it: how a snapshot is reconciled, and how a
            # record listed again is told.
            mark_seen(session, self.source_id, self.run_id, listed)
            state.pages += 1
            state.total = page.complete_list_size or state.total
            for warning in page.warnings:
                note(self.warnings, warning)
            self.save(session, page)
        self.after_page(page)


def _known(session: Session, source_id: int, items: list[HarvestedRecord]) -> Known:
    """The stored hash, deletion flag and last listing run of a page's records, in one query instead of one per
    record."""
    identifiers = [item.identifier for item in items if item.identifier]
    out: Known = {}
    for start in range(0, len(identifiers), 500):
        rows = session.execute(
            select(Record.source_identifier, Record.raw_hash, Record.source_deleted, Record.run_id).where(
                Record.source_id == source_id, Record.source_identifier.in_(identifiers[start : start + 500])
            )
        )
        out.update({ident: (digest, bool(deleted), run) for ident, digest, deleted, run in rows})
    return out


def _unchanged(item: HarvestedRecord, known: Known, source: SourceConfig) -> bool:
    """What SourceProcessor would call unchanged, decided without loading the record (the common case of a
    re-harvest); anything else goes through the pipeline."""
    stored = known.get(item.identifier) if item.identifier and not item.error else None
    if stored is None:
        return False
    digest, deleted, _run = stored
    if item.deleted:
        return deleted
    return not deleted and digest == raw_hash(item, item.disclosure or source.metadata_disclosure)


def mark_seen(session: Session, source_id: int, run_id: int, identifiers: list[str]) -> None:
    """Mark records listed by this run, so that reconciling a snapshot works across a resume too."""
    for start in range(0, len(identifiers), 500):
        session.execute(
            update(Record)
            .where(Record.source_id == source_id, Record.source_identifier.in_(identifiers[start : start + 500]))
            .values(run_id=run_id)
            .execution_options(synchronize_session=False)
        )


def note(bucket: list[str], text: str) -> None:
    if len(bucket) < MAX_LOGGED_PROBLEMS:
        bucket.append(text)
    elif len(bucket) == MAX_LOGGED_PROBLEMS:
        bucket.append("… further problems not recorded")


def save_counts(session: Session, run_id: int, state: Progress, counters: Any, warnings: list[str],
                errors: list[str], checkpoint: str | None, response_date: str | None = None) -> None:  # fmt: skip
    session.execute(
        update(HarvestRun)
        .where(HarvestRun.id == run_id)
        .values(
            pages=state.pages,
            records_new=state.new,
            records_changed=state.changed,
            records_unchanged=state.unchanged,
            records_deleted=state.deleted,
            records_failed=state.failed,
            records_repeated=state.repeated,
            records_held=state.held,
            requests=counters.requests,
            retries=counters.retries,
            restarts=counters.restarts,
            repairs=counters.repairs,
            warnings=list(warnings),
            errors=list(errors),
            checkpoint=checkpoint,
            response_date=response_date,
        )
    )
