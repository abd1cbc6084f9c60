"""Who may use the dashboard and the management API: users, sessions, CSRF, API tokens, roles, failed-login limits.

Everything under /admin and /api needs a logged-in user (a session cookie) or, under /api, a bearer token; the only
exceptions are the login page, static files and the OpenAPI description, which hold no data. The check is made once
for the whole application (`init_app`), not only by the views' decorators, so a page added later without
`login_required` is still closed to anonymous visitors and a viewer still cannot write through it.

Passwords are hashed with scrypt (standard library); API tokens are random and stored only as their SHA-256, which is
enough for a 256-bit random secret and lets a token be looked up by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.models import AdminUser, ApiToken, LoginFailure
from gateway.services import services, services_of

ROLES = ("manager", "viewer")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints anyone may reach under /admin and /api: they hold no data.
PUBLIC_ENDPOINTS = {"auth.login", "api.openapi"}
# Writes a viewer may make: they change only the viewer's own session.
VIEWER_WRITE_ENDPOINTS = {"auth.logout"}
SECRET_SETTING = "admin_secret_key"
TOKEN_PREFIX = "gw_"
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8

blueprint = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class AuthError(ValueError):
    """A user or token operation that cannot be done, phrased for the person who asked."""


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: str
    via: str  # session | token

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


# --- passwords and tokens -------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    salt_text, digest_text = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt_text}${digest_text}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Compared against when the user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _fingerprint(password_hash: str) -> str:
    # Kept in the session: changing the password (or recreating the user) ends every existing session.
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


# --- users and tokens in the database (used by the CLI and the tests) ------------------------------------------------


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise AuthError(f"{username!r} is not a valid name: use letters, digits, '.', '_', '-' or '@' (at most 64)")
    return username


def create_user(session: Session, username: str, password: str, role: str) -> AdminUser:
    check_username(username)
    if role not in ROLES:
        raise AuthError(f"role must be one of: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    if session.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
        raise AuthError(f"a user named {username!r} already exists")
    user = AdminUser(username=username, password_hash=hash_password(password), role=role, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> None:
    user = _user(session, username)
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    session.flush()


def delete_user(session: Session, username: str) -> None:
    user = _user(session, username)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.delete(user)
    session.flush()


def _user(session: Session, username: str) -> AdminUser:
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        raise AuthError(f"no user named {username!r}")
    return user


def list_users(session: Session) -> list[dict[str, Any]]:
    return [
        {"username": u.username, "role": u.role, "created_at": u.created_at, "last_login_at": u.last_login_at}
        for u in session.scalars(select(AdminUser).order_by(AdminUser.username))
    ]


def create_token(session: Session, name: str, username: str) -> str:
    """A new API token for `username`; the token itself is returned once and never stored."""
    check_username(name)
    user = _user(session, username)
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise AuthError(f"a token named {name!r} already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, user_id=user.id, token_hash=token_hash(token), created_at=utcnow()))
    session.flush()
    return token


def revoke_token(session: Session, name: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise AuthError(f"no token named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()


def list_tokens(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ApiToken, AdminUser.username, AdminUser.role)
        .join(AdminUser, ApiToken.user_id == AdminUser.id)
        .order_by(ApiToken.name)
    ).all()
    return [
        {
            "name": t.name,
            "user": username,
            "role": role,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t, username, role in rows
    ]


def user_for_token(session: Session, token: str) -> AdminUser | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now  # at most one write a minute per token, whatever the request rate
        session.commit()
    return session.get(AdminUser, row.user_id)


# --- the request side ------------------------------------------------------------------------------------------------


def _sessions():  # type: ignore[no-untyped-def]
    return services().sessions


def _area(path: str) -> str | None:
    for area in ("admin", "api"):
        if path == f"/{area}" or path.startswith(f"/{area}/"):
            return area
    return None


def current_user() -> CurrentUser | None:
    """The user of this request (session cookie, or bearer token under /api), or None; looked up once per request."""
    if "_gateway_user" in g:
        return g._gateway_user
    user: CurrentUser | None = None
    header = request.headers.get("Authorization", "")
    with _sessions()() as db:
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "bearer" and _area(request.path) == "api":
                row = user_for_token(db, value.strip())
                if row is not None:
                    user = CurrentUser(row.id, row.username, row.role, "token")
        elif "uid" in session:
            row = db.get(AdminUser, session.get("uid")) if isinstance(session.get("uid"), int) else None
            if row is not None and hmac.compare_digest(str(session.get("pw", "")), _fingerprint(row.password_hash)):
                user = CurrentUser(row.id, row.username, row.role, "session")
    g._gateway_user = user
    return user


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_valid(sent: str | None) -> bool:
    expected = session.get("csrf")
    return bool(sent) and isinstance(expected, str) and hmac.compare_digest(str(sent), expected)


def _refuse_anonymous(area: str) -> Response:
    if area == "api":
        response = jsonify(error="authentication required: log in or send 'Authorization: Bearer <token>'")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="gateway"'
        return response
    if request.method in SAFE_METHODS:
        # Decoded leniently: a hostile query string must not turn a refusal into a server error.
        query = request.query_string.decode("utf-8", "replace")
        target = request.path + (f"?{query}" if query else "")
        return redirect(f"/admin/login?next={_quote(target)}", code=302)
    return redirect("/admin/login", code=303)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


def _forbidden(area: str) -> Response:
    message = "this needs the manager role (you are logged in as a viewer)"
    if area == "api":
        response = jsonify(error=message)
        response.status_code = 403
        return response
    abort(403, description=message)


def _viewer_may_write(endpoint: str | None) -> bool:
    if endpoint in VIEWER_WRITE_ENDPOINTS:
        return True
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "viewer_may_write", False))


def viewer_may_write(view: F) -> F:
    """Mark a view whose POST changes only the visitor's own session (a language switch), so a viewer may use it."""
    view.viewer_may_write = True  # type: ignore[attr-defined]
    return view


def _public(endpoint: str | None) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint == "static" or bool(endpoint and endpoint.endswith(".static"))


def _guard() -> Response | None:
    area = _area(request.path)
    if area is None:
        return None
    if _public(request.endpoint):
        return None
    user = current_user()
    if user is None:
        return _refuse_anonymous(area)  # unknown URLs too: an anonymous visitor learns nothing, not even 404
    if request.endpoint is None:
        return None  # a logged-in user gets Flask's 404 / 405
    if request.method not in SAFE_METHODS and not user.is_manager and not _viewer_may_write(request.endpoint):
        return _forbidden(area)
    return None


def _csrf_check() -> Response | None:
    if request.method in SAFE_METHODS:
        return None
    area = _area(request.path)
    if area is None:
        return None
    if area == "api":
        user = current_user()
        if user is None or user.via == "token":
            return None  # a bearer token is not sent by browsers on their own, so it cannot be forged cross-site
        sent = request.headers.get("X-CSRF-Token")
    else:
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if _csrf_valid(sent):
        return None
    message = "the form has expired or did not come from this site: reload the page and try again"
    if area == "api":
        response = jsonify(error=f"missing or wrong X-CSRF-Token header ({message})")
        response.status_code = 400
        return response
    return Response(message + "\n", status=400, mimetype="text/plain")


def csrf_protect(app: Flask) -> None:
    """Reject (400) a write under /admin without the session's CSRF token, and under /api when authenticated by the
    session cookie without the X-CSRF-Token header; bearer-token API requests are exempt."""
    app.before_request(_csrf_check)


def _private_headers(response: Response) -> Response:
    if _area(request.path) is not None:
        response.headers["Cache-Control"] = "no-store, private"
        response.headers["Pragma"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.vary.add("Cookie")
        response.vary.add("Authorization")
    return response


def login_required(role: str = "viewer") -> Callable[[F], F]:
    """Anonymous: to the login page (/admin) or 401 JSON (/api); a viewer where a manager is needed: 403."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            area = _area(request.path) or "admin"
            user = current_user()
            if user is None:
                return _refuse_anonymous(area)
            if role == "manager" and not user.is_manager:
                return _forbidden(area)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    """Session cookie settings, the secret, the guard over /admin and /api, CSRF, and the no-store headers."""
    from gateway.provider.settings import stored_setting

    built = services_of(app)
    admin = built.config.admin
    app.secret_key = admin.secret_key or stored_setting(
        built.sessions, SECRET_SETTING, lambda: secrets.token_urlsafe(48)
    )
    app.config.update(
        SESSION_COOKIE_NAME="gateway_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=admin.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=admin.session_lifetime),
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.before_request(_guard)
    csrf_protect(app)
    app.after_request(_private_headers)
    app.register_blueprint(blueprint, url_prefix="/admin")


# --- login and logout ------------------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/admin/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/admin/"
    return target


def _recent_failures(db: Session, username: str, address: str, window: int) -> int:
    since = utcnow() - timedelta(seconds=window)
    return db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.address == address, LoginFailure.failed_at >= since)
    ) or 0


@blueprint.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render_template("admin/login.html", error=None, next=next_url)
    admin = services().config.admin
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    address = (request.remote_addr or "unknown")[:64]
    with _sessions()() as db:
        if _recent_failures(db, username, address, admin.login_window) >= admin.max_failed_logins:
            minutes = max(1, admin.login_window // 60)
            error = f"Too many failed attempts: try again in {minutes} minutes."
            return render_template("admin/login.html", error=error, next=next_url), 429
        user = db.scalar(select(AdminUser).where(AdminUser.username == username)) if username else None
        ok = verify_password(password, user.password_hash if user else _DUMMY_HASH) and user is not None
        if not ok or user is None:
            now = utcnow()
            db.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - timedelta(seconds=admin.login_window)))
            db.add(LoginFailure(username=username, address=address, failed_at=now))
            db.commit()
            return render_template("admin/login.html", error="Wrong user name or password.", next=next_url), 401
        db.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.address == address))
        user.last_login_at = utcnow()
        db.commit()
        for key in ("uid", "pw", "csrf"):
            session.pop(key, None)
        session["uid"] = user.id
        session["pw"] = _fingerprint(user.password_hash)
        session["csrf"] = secrets.token_urlsafe(32)  # a new token once logged in
        session.permanent = True
    return redirect(next_url, code=303)


@blueprint.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    for key in ("uid", "pw", "csrf"):
        session.pop(key, None)
    return redirect("/admin/login", code=303)
