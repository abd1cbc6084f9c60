"""Harvesting: each source kind is an iterator over pages of records, with the protocol's paging hidden behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.config import SourceConfig


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


def open_source(
    source: SourceConfig,
    *,
    from_date: str | None = None,
    until_date: str | None = None,
    full: bool = False,
    checkpoint: str | None = None,
) -> Harvester:
    """The harvester for a configured source; `checkpoint` (from a Page) resumes an interrupted harvest."""
    if source.kind == "oai-pmh":
        from gateway.harvest.oaipmh import OAIHarvester

        return OAIHarvester(source, from_date=None if full else from_date, until_date=until_date, checkpoint=checkpoint)
    if source.kind == "directory":
        from gateway.harvest.directory import DirectoryHarvester

        return DirectoryHarvester(source)
    if source.kind == "grdm":
        from gateway.harvest.grdm import GrdmHarvester

        return GrdmHarvester(source)
    if source.kind == "spreadsheet":
        from gateway.harvest.spreadsheet import SpreadsheetHarvester

        return SpreadsheetHarvester(source)
    raise HarvestError(f"source {source.name}: kind {source.kind!r} cannot be harvested")
