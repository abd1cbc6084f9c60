"""Resumption tokens: signed, expiring keyset positions in a list.

A token is `base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload))`. The payload repeats the whole request
(verb, metadataPrefix, set, from, until) so that a harvester cannot widen the selection by editing it, and holds the
last key served rather than an offset, so that records changing during a harvest move no page boundary.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.provider.settings import stored_setting

SECRET_KEY = "token_secret"
_VERSION = 1
_MAX_ID = 2**31 - 1


class BadToken(ValueError):
    """The token is not one this server issued for this verb, or it has expired."""


@dataclass(frozen=True)
class Position:
    """Where a list request sequence stands: its selection, the last key served and the counts so far."""

    verb: str
    metadata_prefix: str | None
    set_spec: str | None
    from_: str | None
    until: str | None
    last: int | str
    cursor: int  # elements returned before the page this token asks for
    total: int | None  # completeListSize, counted on the first page; None when too large to count
    # The last publication change and the highest record id the walk could see when it began: records of the walk
    # that change while it runs stay in an until-bounded list (see queries.Selection).
    seen: int = 0
    top: int = 0


def server_secret(sessions: sessionmaker[Session], configured: str | None) -> bytes:
    """The configured secret, else one generated once and shared through the database by every process."""
    if configured:
        return configured.encode("utf-8")
    return stored_setting(sessions, SECRET_KEY, lambda: secrets.token_urlsafe(32)).encode("utf-8")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    def __init__(self, secret: bytes, lifetime: int) -> None:
        self._secret = secret
        self._lifetime = lifetime

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def encode(self, position: Position, now: datetime) -> tuple[str, datetime]:
        """The token for `position` and its expiry (naive UTC, to the second)."""
        expires = now + timedelta(seconds=self._lifetime)
        body = asdict(position)
        body["v"] = _VERSION
        body["exp"] = int(expires.replace(tzinfo=UTC).timestamp())
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode("ascii")
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}", expires

    def decode(self, token: str, verb: str, now: datetime) -> Position:
        """The position a token holds; BadToken when it is forged, altered, foreign, expired or for another verb."""
        try:
            head, _, tail = token.partition(".")
            payload = _b64decode(head)
            signature = _b64decode(tail)
        except (binascii.Error, ValueError) as exc:
            raise BadToken("not a resumption token of this repository") from exc
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise BadToken("not a resumption token of this repository")
        try:
            body = json.loads(payload)
        except ValueError as exc:
            raise BadToken("not a resumption token of this repository") from exc
        position = _position(body)
        if position is None:
            raise BadToken("not a resumption token of this repository")
        if body["exp"] <= now.replace(tzinfo=UTC).timestamp():
            raise BadToken("the resumption token has expired")
        if position.verb != verb:
            raise BadToken(f"the resumption token was issued for {position.verb}, not {verb}")
        return position


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _position(body: object) -> Position | None:
    # Signed payloads are ours, but a secret shared with an older release could still carry another shape.
    if not isinstance(body, dict) or body.get("v") != _VERSION:
        return None
    exp = body.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        return None
    try:
        position = Position(**{k: v for k, v in body.items() if k not in ("v", "exp")})
    except TypeError:
        return None
    for name in ("metadata_prefix", "set_spec", "from_", "until"):
        if not isinstance(getattr(position, name), str | None):
            return None
    # Ids and counts end up as SQL integers: anything a 32-bit INTEGER column cannot hold is no position of ours.
    in_range = all(_whole(value) and 0 <= value <= _MAX_ID for value in (position.cursor, position.top, position.seen))
    in_range = in_range and (position.total is None or (_whole(position.total) and position.total >= 0))
    last_ok = isinstance(position.last, str) or (_whole(position.last) and 0 <= position.last <= _MAX_ID)
    if not isinstance(position.verb, str) or not in_range or not last_ok:
        return None
    return position
