"""Harvesting: each source kind is an iterator over pages of records, with the protocol's paging hidden behind it."""

from __future__ import annotations

from gateway.config import SourceConfig
from gateway.harvest.records import HarvestedRecord, Harvester, HarvestError, Page

__all__ = ["HarvestError", "HarvestedRecord", "Harvester", "Page", "open_source"]


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
