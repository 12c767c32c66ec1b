"""The request deadline: a request that depends on a hung database answers 503 within
`REQUEST_DEADLINE_SECONDS`, and never piles up.

Why the driver's own timeouts are not enough: a frozen PostgreSQL (SIGSTOP, a stalled
disk, a network partition) never enforces its `statement_timeout`. asyncpg's
`command_timeout` ends the wait, then SQLAlchemy invalidates the connection with a
graceful close that waits up to 2 s more, and asyncpg sends its cancel request on a new
connection to the frozen postmaster. Measured: 13.2 s for a pooled connection with the
10 s statement timeout, 18.8 s under load.

What the deadline does, when a request has not started its response in time:

1. it terminates every database connection the request has checked out of the pool
   (asyncpg's `terminate()`: the socket is closed at once, with no rollback, no graceful
   close and no cancel request to wait for; asyncpg's pending cancel requests are dropped).
   The pool then discards them: a cancelled connection never returns to the pool in an
   unknown state. PostgreSQL rolls back the open transaction when it sees the socket
   closed (at once, or when it thaws);
2. it cancels the request's task, so whatever else it waits for (a pool slot, a new
   connection) ends too;
3. it answers 503 with `Retry-After`, in the same JSON shape as any other "database
   unavailable" error.

Writes: every request is one transaction, committed once, just before the answer. If
the deadline fires before COMMIT reached the server, the transaction is rolled back
whole. If it fires after COMMIT was sent, the server may have committed: the client
gets 503, not an acknowledgement, and the write is durable. Either way nothing is
half-written, and every write answered with a 2xx is present (what the reliability
harness checks); a client retrying after a 503 may find its write already applied
(an `If-Match` retry gets 412, a repeated create makes a second dataset).

Not covered: once the response has started (streamed exports), the deadline is
disarmed and each statement is bounded by the statement timeout alone. Uploads
(`multipart/form-data`, the catalog import) are exempt: their duration depends on the
client's bandwidth and the file's size, not on a fixed bound; their statements keep the
statement, pool and connect timeouts.
"""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalogage.errors import RETRY_AFTER_SECONDS, unavailable_body


class _DriverConnection(Protocol):
    def terminate(self) -> None: ...


class RequestDeadline:
    """One request's deadline: the connections it holds, and the timer that ends it."""

    def __init__(self, task: asyncio.Task[Any], seconds: float) -> None:
        self.task = task
        self.connections: set[_DriverConnection] = set()
        self.expired = False
        self.response_started = False
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def disarm(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        if self.response_started:
            return
        self.expired = True
        for connection in self.connections:
            connection.terminate()
        self.connections.clear()
        self.task.cancel()


_current: ContextVar[RequestDeadline | None] = ContextVar("request_deadline", default=None)

#: Key of `ConnectionPoolEntry.info` naming the deadline that holds the connection.
_HOLDER = "catalogage.request_deadline"


def track_connections(engine: AsyncEngine) -> None:
    """Register each connection checked out during a request with that request's
    deadline, until it is checked in again."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        deadline = _current.get()
        if deadline is not None and not deadline.response_started:
            driver: _DriverConnection = dbapi_connection.driver_connection
            deadline.connections.add(driver)
            record.info[_HOLDER] = (deadline, driver)

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        held = record.info.pop(_HOLDER, None)
        if held is not None:
            deadline, driver = held
            deadline.connections.discard(driver)


class RequestDeadlineMiddleware:
    """Ends requests that have not started their response after `seconds` (see above)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_upload(scope):
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        deadline = RequestDeadline(task, self.seconds)
        token = _current.set(deadline)

        async def send_and_disarm(message: Message) -> None:
            if message["type"] == "http.response.start":
                deadline.response_started = True
                deadline.disarm()
            await send(message)

        try:
            await self.app(scope, receive, send_and_disarm)
        except asyncio.CancelledError:
            # Ours only if no one else (server shutdown) cancelled the task as well.
            if not deadline.expired or task.uncancel() > cancelling:
                raise
        finally:
            deadline.disarm()
            _current.reset(token)
        if deadline.expired and not deadline.response_started:
            await _answer_unavailable(send)


def _is_upload(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).lower().startswith(b"multipart/form-data")
    return False


async def _answer_unavailable(send: Send) -> None:
    body = json.dumps(
        unavailable_body(
            "The request did not complete in time (database unavailable or "
            "overloaded); retry shortly"
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
