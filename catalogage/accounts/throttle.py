"""Login throttling, shared by every worker through the database.

Each failed login counts against two keys: the email tried and the client
address. Once a key reaches `login_max_failures` within the window, logins for
it answer 429 with Retry-After until the window ends. A success clears the
email's key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.models import LoginThrottle
from catalogage.config import Settings


def _keys(email: str, client: str | None) -> list[str]:
    keys = [f"email:{email.lower()}"]
    if client:
        keys.append(f"ip:{client}")
    return keys


async def retry_after(
    session: AsyncSession, settings: Settings, email: str, client: str | None
) -> int | None:
    """Seconds to wait before the next attempt is allowed, or None when allowed now."""
    window = timedelta(seconds=settings.login_failure_window_seconds)
    now = datetime.now(UTC)
    rows = await session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_(_keys(email, client)))
    )
    waits = [
        int((row.window_start + window - now).total_seconds()) + 1
        for row in rows
        if row.failures >= settings.login_max_failures and row.window_start + window > now
    ]
    return max(waits) if waits else None


async def record_failure(
    session: AsyncSession, settings: Settings, email: str, client: str | None
) -> None:
    now = datetime.now(UTC)
    current = LoginThrottle.__table__.c
    # A failure after the window closed starts a new window.
    expired = current.window_start < now - timedelta(seconds=settings.login_failure_window_seconds)
    for key in _keys(email, client):
        statement = insert(LoginThrottle).values(key=key, failures=1, window_start=now)
        statement = statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((expired, 1), else_=current.failures + 1),
                "window_start": case((expired, now), else_=current.window_start),
            },
        )
        await session.execute(statement)


async def clear(session: AsyncSession, email: str) -> None:
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.key == f"email:{email.lower()}")
    )
