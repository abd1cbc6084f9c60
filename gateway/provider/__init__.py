"""The gateway's OAI-PMH 2.0 provider, mounted by the application at /oai.

It reads only the publication tables (`published`, `published_formats`, `published_sets`, `oai_sets`, `settings`), so
nothing that did not pass the policy gate can be served.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from gateway.db import utcnow
from gateway.provider.arguments import parse_form, parse_request
from gateway.provider.errors import ProtocolError
from gateway.provider.response import choose_encoding, document, errors, http_response
from gateway.provider.tokens import TokenCodec, server_secret
from gateway.provider.verbs import HANDLERS, Context
from gateway.services import services

__all__ = ["blueprint", "endpoint"]

blueprint = Blueprint("provider", __name__)

_STATE = "gateway.provider"


def _formats() -> dict[str, Any]:
    from gateway.crosswalk import formats

    return dict(formats() if callable(formats) else formats)


def _codec() -> TokenCodec:
    # The secret may come from the database: read it once per application, not once per request.
    state = current_app.extensions.setdefault(_STATE, {})
    codec = state.get("codec")
    if codec is None:
        svc = services()
        repo = svc.config.repository
        codec = state["codec"] = TokenCodec(server_secret(svc.sessions, repo.token_secret), repo.token_lifetime)
    return codec


def _arguments() -> list[tuple[str, str]]:
    pairs = parse_form(request.query_string)
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        pairs += parse_form(request.get_data(cache=False))
    return pairs


@blueprint.route("", methods=["GET", "POST"])
def endpoint() -> Response:
    svc = services()
    now = utcnow()
    base_url = svc.config.repository.base_url
    coding = choose_encoding(request.accept_encodings)
    try:
        oai_request = parse_request(_arguments())
        context = Context(
            repository=svc.config.repository,
            sessions=svc.sessions,
            formats=_formats(),
            codec=_codec,
            now=now,
        )
        body = HANDLERS[oai_request.verb](context, oai_request)
        echo = oai_request.echo()
    except ProtocolError as exc:
        # badVerb and badArgument come from parse_request and echo nothing (spec 3.6); the others say what to echo.
        echo = exc.echo or {}
        body = errors(exc.errors)
    return http_response(document(now, base_url, echo, body), coding)
