"""Mapping records in worker processes during a large harvest.

`map_record` (crosswalk, render, validate) is pure and takes most of a harvest's CPU time, in libxslt and lxml under
the GIL: threads would not help, processes do.  A pool costs about a second to start (each worker imports lxml and
compiles the stylesheets), so a harvest only starts one once its source has announced (completeListSize) or
delivered enough records to repay it; small harvests and tests map in the harvesting process.

`GATEWAY_MAP_WORKERS` sets the number of worker processes (default: the number of CPUs, at most 4; 0 or 1 turns the
pool off).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from gateway.pipeline import MapArgs, Mapped, map_args_record

log = logging.getLogger(__name__)

#: a harvest of at least this many records maps in a pool
POOL_THRESHOLD = 2000


def configured_workers() -> int:
    value = os.environ.get("GATEWAY_MAP_WORKERS", "").strip()
    if value:
        try:
            return max(0, int(value))
        except ValueError:
            log.warning("GATEWAY_MAP_WORKERS=%r is not a number; mapping in the harvesting process", value)
            return 0
    return min(os.cpu_count() or 1, 4)


def _init_worker(mappings_dir: str | None) -> None:
    # The workers must read the same mappings/ as the harvesting process (tests and `remap` may point elsewhere).
    if mappings_dir:
        os.environ["GATEWAY_MAPPINGS_DIR"] = mappings_dir
        from gateway import crosswalk

        crosswalk.reload()


class PoolMapper:
    """A `store.Mapper` that maps a page's records in worker processes; results come back in order."""

    def __init__(self, workers: int) -> None:
        from gateway import crosswalk

        self.workers = workers
        # spawn, not fork: the harvesting process runs a prefetch thread and holds database connections.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(str(crosswalk.MAPPINGS_DIR),),
        )

    def submit(self, args: list[MapArgs]) -> Callable[[], list[Mapped]]:
        if len(args) < 2:
            return lambda: [map_args_record(a) for a in args]
        chunk = max(1, len(args) // (self.workers * 4))
        results = self._pool.map(map_args_record, args, chunksize=chunk)  # every chunk is submitted now
        return lambda: list(results)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def wants_pool(expected_records: int | None) -> bool:
    return configured_workers() > 1 and (expected_records or 0) >= POOL_THRESHOLD
