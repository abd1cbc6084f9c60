"""What a harvest carries: records as a source delivered them, pages of them, and the harvester protocol.

Every source kind (harvest/oaipmh.py, directory.py, grdm.py, spreadsheet.py) builds these and the rest of the gateway
reads them; they live apart from `open_source` (harvest/__init__.py), which picks the harvester of a source, so that
the harvesters import no module that imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class HarvestError(RuntimeError):
    """A source could not be harvested; the message carries the source's own words where it gave any."""


@dataclass
class HarvestedRecord:
    """One record as a source delivered it."""

    identifier: str
    datestamp: str | None = None
    deleted: bool = False
    sets: list[str] = field(default_factory=list)
    raw: bytes | None = None  # the metadata element, serialised with its in-scope namespaces
    prefix: str | None = None  # the metadata format `raw` is in, when the source says so
    disclosure: str | None = None  # per-record metadata disclosure; None means the source's default
    private: dict[str, Any] = field(default_factory=dict)  # never published (remarks, ...)
    error: str | None = None  # why this record could not be read; the rest of its page goes on
    #: what was repaired in this record on the way in (characters XML forbids, removed): warning findings on it
    warnings: list[str] = field(default_factory=list)


@dataclass
class Page:
    records: list[HarvestedRecord]
    resumption_token: str | None = None  # the token that fetches the NEXT page
    complete_list_size: int | None = None
    warnings: list[str] = field(default_factory=list)
    #: where a harvest resumes after this page has been stored (opaque text; None: start over)
    checkpoint: str | None = None


class Harvester(Protocol):
    #: a complete snapshot of the source (records it no longer lists are gone) rather than a list of changes
    is_snapshot: bool
    requests: int
    retries: int
    response_date: str | None

    def pages(self) -> Iterator[Page]: ...
