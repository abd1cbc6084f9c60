"""What the dashboard's operations share: how a moment is shown, and the sources as the harvests see them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.config import Config, SourceConfig


def stamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


def effective_sources(session: Session, config: Config) -> tuple[SourceConfig, ...]:
    """The sources as the harvests see them: the configuration merged with what the dashboard stored."""
    from gateway.admin.sourcestore import effective_config

    return effective_config(config, session).sources
