"""Engine and sessions.

Each request gets one `AsyncSession`; write views call `commit()` before they
answer, so a 2xx response always means the write is durable, and any error
rolls the whole request back (one transaction per request). The request deadline
relies on this: terminating a request's connection can only roll its one transaction
back whole, or, past COMMIT, leave it committed whole (see catalogage/deadline.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from catalogage.config import Settings
from catalogage.deadline import track_connections


def command_timeout_seconds(settings: Settings) -> float:
    """asyncpg's timeout for one statement: 1 s past both the statement timeout and the
    request deadline."""
    return max(settings.db_statement_timeout_ms / 1000, settings.request_deadline_seconds) + 1


def create_engine(settings: Settings, database_url: str) -> AsyncEngine:
    # No `pool_pre_ping`: it costs a round trip per request. After a database restart
    # the first statement on a stale connection fails (503), and SQLAlchemy then
    # invalidates the whole pool, so the next requests reconnect.
    return create_async_engine(
        database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": settings.db_pool_timeout_seconds,
            # The driver's own timeout is the backstop, after the server's statement
            # timeout and the request deadline: on a frozen server, asyncpg's timeout
            # leaves the connection cancelling, and the rollback that follows waits for
            # that cancel request as long again; the deadline terminates it instead.
            "command_timeout": command_timeout_seconds(settings),
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "application_name": "catalogage",
            },
        },
    )


class Database:
    """Owns the engine; hands out sessions. Connections checked out while serving a
    request are tracked by that request's deadline (catalogage/deadline.py), which
    terminates them when the database hangs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        track_connections(engine)
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
