"""Session expiry: a browser session ends after IDLE_SECONDS without use (the signed
cookie's age) and ABSOLUTE_SECONDS after signing in, whatever the use. The cookies are
re-signed here with the server's key, as only a time-travelling browser could send them."""

from __future__ import annotations

import base64
import json
import time

import httpx
import itsdangerous

from catalogage.web.sessions import (
    ABSOLUTE_SECONDS,
    COOKIE_NAME,
    IDLE_SECONDS,
    session_middleware_options,
)
from tests.factories import World
from tests.web.test_pages import signed_in


class _SignerAt(itsdangerous.TimestampSigner):
    def __init__(self, key: str, at: int) -> None:
        super().__init__(key)
        self.at = at

    def get_timestamp(self) -> int:
        return self.at


def _session(client: httpx.Client, settings) -> tuple[dict, str]:
    key = session_middleware_options(settings)["secret_key"]
    cookie = client.cookies[COOKIE_NAME]
    data = itsdangerous.TimestampSigner(key).unsign(cookie, max_age=IDLE_SECONDS)
    return json.loads(base64.b64decode(data)), key


def _cookie(session: dict, key: str, signed_at: int) -> str:
    data = base64.b64encode(json.dumps(session).encode())
    return _SignerAt(key, signed_at).sign(data).decode()


def _me(client: httpx.Client, cookie: str) -> int:
    with httpx.Client(base_url=str(client.base_url)) as browser:
        browser.cookies.set(COOKIE_NAME, cookie)
        return browser.get("/me").status_code


def test_sessions_expire_when_idle_and_absolutely(client, world: World, settings) -> None:
    signed_in(client, world, "editor_a")
    session, key = _session(client, settings)
    now = int(time.time())
    assert _me(client, _cookie(session, key, now)) == 200
    assert _me(client, _cookie(session, key, now - IDLE_SECONDS - 60)) == 401
    old_sign_in = {**session, "auth_at": now - ABSOLUTE_SECONDS - 60, "seen": now}
    assert _me(client, _cookie(old_sign_in, key, now)) == 401
