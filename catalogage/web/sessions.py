"""Browser sessions: a signed cookie, the user behind it, and CSRF tokens.

The session lives entirely in the `catalogage_session` cookie (Starlette's
`SessionMiddleware`: JSON signed with a key derived from `SECRET_KEY`; HttpOnly,
SameSite=Lax, Secure when `SECURE_COOKIES` is set), so it needs no table. It holds
the user id, when they signed in, a fingerprint of their password hash (changing
the password ends every session), the CSRF token and pending flash messages.

A session ends after `IDLE_SECONDS` without a request (the cookie's Max-Age,
renewed at most every `RENEW_SECONDS`) and in any case `ABSOLUTE_SECONDS` after
signing in.

CSRF: every HTML form carries the session's token; every unsafe request
authenticated by the cookie must present it (form field `csrf_token` or header
`X-CSRF-Token`), on HTML routes and JSON API routes alike. Requests with a bearer
token carry no ambient credential and need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from catalogage.accounts.models import User
from catalogage.config import Settings
from catalogage.errors import Forbidden

COOKIE_NAME = "catalogage_session"
IDLE_SECONDS = 12 * 3600
ABSOLUTE_SECONDS = 7 * 24 * 3600
RENEW_SECONDS = 300
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_MESSAGE = "CSRF token missing or invalid: reload the page and try again"


def session_middleware_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `app.add_middleware(SessionMiddleware, ...)`."""
    # A key of its own, so a signature made for sessions is valid for nothing else.
    key = hmac.new(settings.secret_key.encode(), b"catalogage.web.session", "sha256").hexdigest()
    return {
        "secret_key": key,
        "session_cookie": COOKIE_NAME,
        "max_age": IDLE_SECONDS,
        "same_site": "lax",
        "https_only": settings.secure_cookies,
    }


def install_sessions(app: ASGIApp, settings: Settings) -> None:
    app.add_middleware(SessionMiddleware, **session_middleware_options(settings))  # type: ignore[attr-defined]


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _session(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = request.session
    return data


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    session = _session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """403 unless the request presents the session's CSRF token."""
    expected = _session(request).get("csrf")
    supplied = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if supplied is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not (isinstance(expected, str) and supplied and hmac.compare_digest(expected, supplied)):
        raise Forbidden(CSRF_MESSAGE)


async def csrf_protect(request: Request) -> None:
    """Dependency of the HTML routes: unsafe requests need the CSRF token."""
    if request.method not in SAFE_METHODS and "authorization" not in request.headers:
        await check_csrf(request)


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for `user` (a new CSRF token: nothing carries over)."""
    session = _session(request)
    flashes = session.get("flash", [])
    session.clear()
    now = int(time.time())
    session.update(
        uid=str(user.id),
        auth_at=now,
        seen=now,
        pwd=_password_fingerprint(user),
        csrf=secrets.token_urlsafe(32),
    )
    if flashes:
        session["flash"] = flashes


def sign_out(request: Request) -> None:
    _session(request).clear()


async def _user_from_cookie(request: Request, db: AsyncSession) -> User | None:
    if "session" not in request.scope:
        return None
    session = _session(request)
    raw_id = session.get("uid")
    if not isinstance(raw_id, str):
        return None
    now = int(time.time())
    try:
        user_id = uuid.UUID(raw_id)
        expired = now - int(session.get("auth_at", 0)) > ABSOLUTE_SECONDS
    except (ValueError, TypeError):
        user_id, expired = None, True
    user = None if expired or user_id is None else await db.get(User, user_id)
    if user is None or not user.is_active or session.get("pwd") != _password_fingerprint(user):
        sign_out(request)
        return None
    if now - int(session.get("seen", 0)) > RENEW_SECONDS:
        session["seen"] = now  # re-signs the cookie: the idle timeout starts again
    return user


async def load_session_user(request: Request, db: AsyncSession) -> User | None:
    """`app.state.session_user_loader`: the signed-in user of the session cookie."""
    user = await _user_from_cookie(request, db)
    request.state.session_user = user
    if user is not None and request.method not in SAFE_METHODS:
        await check_csrf(request)
    return user


async def page_user(request: Request) -> User | None:
    """The signed-in user, for pages rendered outside a route (error pages)."""
    if hasattr(request.state, "session_user"):
        user: User | None = request.state.session_user
        return user
    try:
        async for db in request.app.state.db.session():
            return await _user_from_cookie(request, db)
    except Exception:  # the error being shown may be the database's: show no user
        return None
    return None


def flash(request: Request, message: str, level: str = "success") -> None:
    """A message shown once, on the next page rendered (`level`: a DSFR alert type)."""
    session = _session(request)
    session["flash"] = [*session.get("flash", []), {"level": level, "message": message}]


def pop_flashes(request: Request) -> list[dict[str, str]]:
    if "session" not in request.scope or "flash" not in request.session:
        return []
    flashes: list[dict[str, str]] = _session(request).pop("flash")
    return flashes
