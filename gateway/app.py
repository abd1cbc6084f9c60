"""The Flask application factory: the OAI-PMH provider at /oai and, when enabled, the dashboard and its API.

It builds the per-process services (gateway.services) and mounts the blueprints, which read those services back;
nothing imports this module but the entry points that make an application (the command line, the WSGI module).
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from sqlalchemy import Engine

from gateway import services
from gateway.config import Config
from gateway.db import make_engine
from gateway.provider import blueprint as provider_blueprint


def create_app(config: Config, engine: Engine | None = None) -> Flask:
    app = Flask(__name__)
    app.config["JSON_AS_ASCII"] = False
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # OAI-PMH POST bodies are a few arguments, never more
    built = services.install(app, config, engine or make_engine(config.database_url))

    app.register_blueprint(provider_blueprint, url_prefix="/oai")

    if config.admin.enabled:
        # The dashboard (/admin) and the management API (/api), both closed to anonymous visitors by admin.auth.
        from gateway.admin import auth
        from gateway.admin.api import blueprint as api_blueprint
        from gateway.admin.api import http_errors_as_json
        from gateway.admin.dmp_pages import blueprint as dmp_pages_blueprint
        from gateway.admin.pages import blueprint as pages_blueprint
        from gateway.admin.report_pages import blueprint as report_pages_blueprint
        from gateway.admin.sourcestore import import_on_start
        from gateway.admin.transition_pages import blueprint as transition_pages_blueprint

        auth.init_app(app)
        app.register_blueprint(api_blueprint, url_prefix="/api")
        app.register_blueprint(pages_blueprint, url_prefix="/admin")
        app.register_blueprint(transition_pages_blueprint, url_prefix="/admin")
        app.register_blueprint(dmp_pages_blueprint, url_prefix="/admin")
        app.register_blueprint(report_pages_blueprint, url_prefix="/admin/reports")
        http_errors_as_json(app)
        import_on_start(built.sessions, config)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        return redirect(url_for("provider.endpoint", verb="Identify"))

    return app
