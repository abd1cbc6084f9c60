"""The per-process services every request handler needs: the configuration, the database engine and its sessions.

They are built once per process by the application factory (gateway.app) and kept on the Flask application, and read
back by the OAI-PMH provider and the dashboard through `services()`. They live here, not in the factory, so that the
blueprints the factory mounts never import the factory back.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Config
from gateway.db import session_factory

#: the key of the services in `Flask.extensions`
EXTENSION = "gateway"


@dataclass
class Services:
    """What every request handler needs, built once per process."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]


def install(app: Flask, config: Config, engine: Engine) -> Services:
    """Build the services over `engine` and keep them on `app`."""
    built = Services(config=config, engine=engine, sessions=session_factory(engine))
    app.extensions[EXTENSION] = built
    return built


def services_of(app: Flask) -> Services:
    """The services of `app` (while it is being set up, before any request)."""
    return app.extensions[EXTENSION]


def services() -> Services:
    """The services of the application handling the current request."""
    return current_app.extensions[EXTENSION]
