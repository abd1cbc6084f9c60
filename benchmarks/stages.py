"""Time spent per stage of a harvest, measured by wrapping the functions that do each stage.

`StageTimer` replaces named functions (module attribute, or class attribute) with timing wrappers for the length of
a `with` block. Times are exclusive: a stage called inside another (a flush inside publishing) is counted once, to
the inner stage. Functions that are not there (renamed, or not in this version of the code) are listed as missing,
so the same benchmark runs against older revisions of the gateway for a before/after table.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: (stage name, "module:attribute" or "module:Class.attribute", label from the call's arguments or None)
Label = Callable[[tuple[Any, ...], dict[str, Any]], str] | None


def _prefix_label(name: str, position: int) -> Label:
    def label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        value = args[position] if len(args) > position else kwargs.get("prefix", "?")
        return f"{name} {value}"

    return label


HARVEST_STAGES: list[tuple[str, str, Label]] = [
    ("fetch (HTTP)", "gateway.harvest.oaipmh:OAIHarvester._attempt", None),
    ("fetch (HTTP)", "gateway.harvest.oaipmh:_Client._request", None),  # revisions before the fault work
    ("parse page", "gateway.harvest.oaipmh:parse_response", None),
    ("parse record", "gateway.pipeline:parse_bytes", None),
    ("crosswalk -> jpcoar_2.0", "gateway.crosswalk:to_canonical", None),
    ("render", "gateway.crosswalk:render", _prefix_label("render", 1)),
    ("serialize", "gateway.crosswalk:serialize", None),
    ("validate schema", "gateway.pipeline:check_schema", _prefix_label("validate schema", 1)),
    ("validate Annex-3", "gateway.pipeline:check_annex3", None),
    ("validate aggregator rules", "gateway.pipeline:check_aggregator", None),
    ("read Annex-3 view", "gateway.annex3:view", None),
    ("read Annex-3 summary", "gateway.annex3:summarize", None),
    ("policy gate", "gateway.store:decide", None),
    ("policy gate", "gateway.pipeline:decide", None),
    ("policy gate", "gateway.store:sets_for", None),
    ("policy gate", "gateway.pipeline:sets_for", None),
    ("db: look up stored", "gateway.harvest.runner:_known", None),
    ("db: look up stored", "gateway.store:SourceProcessor.load", None),
    ("db: look up stored", "gateway.pipeline:SourceProcessor.load", None),
    ("db: write provider tables", "gateway.publish:sync_many", None),
    ("db: write provider tables", "gateway.publish:write_page", None),
    ("db: write records", "gateway.store:SourceProcessor._write_records", None),
    ("db: ORM flush", "sqlalchemy.orm:Session.flush", None),
    ("db: commit", "sqlalchemy.orm:Session.commit", None),
    ("db: run bookkeeping", "gateway.harvest.runner:_save_counts", None),
    ("db: run bookkeeping", "gateway.harvest.runner:_mark_seen", None),
    ("db: run bookkeeping", "gateway.locks:refresh", None),
]


class StageTimer:
    def __init__(self, stages: list[tuple[str, str, Label]]) -> None:
        self.stages = stages
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.missing: list[str] = []
        self._local = threading.local()
        self._undo: list[Callable[[], None]] = []

    def _wrap(self, name: str, function: Callable[..., Any], label: Label) -> Callable[..., Any]:
        timer = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = getattr(timer._local, "stack", None)
            if stack is None:
                stack = timer._local.stack = []
            stage = label(args, kwargs) if label else name
            stack.append(0.0)  # time spent in stages nested in this one
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                nested = stack.pop()
                timer.seconds[stage] += spent - nested
                timer.calls[stage] += 1
                if stack:
                    stack[-1] += spent

        timed.__wrapped__ = function  # type: ignore[attr-defined]
        return timed

    def _install(self, name: str, target: str, label: Label) -> None:
        module_name, _, path = target.partition(":")
        try:
            owner: Any = importlib.import_module(module_name)
            *parents, attribute = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = owner.__dict__[attribute] if isinstance(owner, type) else getattr(owner, attribute)
        except (ImportError, AttributeError, KeyError):
            self.missing.append(target)
            return
        wrapped: Any = original
        if isinstance(original, staticmethod):
            wrapped = staticmethod(self._wrap(name, original.__func__, label))
        else:
            wrapped = self._wrap(name, original, label)
        setattr(owner, attribute, wrapped)
        self._undo.append(lambda: setattr(owner, attribute, original))

    @contextmanager
    def installed(self) -> Iterator[StageTimer]:
        for name, target, label in self.stages:
            self._install(name, target, label)
        try:
            yield self
        finally:
            for undo in reversed(self._undo):
                undo()
            self._undo.clear()

    def table(self, records: int, total_seconds: float) -> list[tuple[str, float, float]]:
        """(stage, ms per record, share of the total) for every stage that ran, then the rest as "other"."""
        rows = [(stage, 1000 * s / records, s / total_seconds) for stage, s in self.seconds.items()]
        rows.sort(key=lambda row: -row[1])
        measured = sum(self.seconds.values())
        rows.append(("other (runner, ORM objects, ...)", 1000 * (total_seconds - measured) / records,
                     (total_seconds - measured) / total_seconds))  # fmt: skip
        return rows
