"""The SQL an endpoint runs, captured from the real service code, as a pgbench script.

Each endpoint's service function is called once in-process (answer cache off)
with a listener recording every statement and its parameters; parameters are then
inlined as literals (untyped, so PostgreSQL infers their types from context
exactly as it does for bind parameters). pgbench replaying that script with the
same concurrency gives the database's ceiling for the endpoint.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.config import Settings
from catalogage.db import Database
from catalogage.db.session import create_engine

Work = Callable[[AsyncSession], Awaitable[Any]]
_PLACEHOLDER = re.compile(r"\$(\d+)(?:::([A-Z_\[\]]+|[a-z_\[\]]+))?")


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime | date | uuid.UUID):
        return literal(str(value))
    if isinstance(value, list | tuple):
        items = ",".join(
            '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value
        )
        return literal("{" + items + "}")
    return "'" + str(value).replace("'", "''") + "'"


def inline(statement: str, parameters: Any) -> str:
    values = list(parameters or ())

    def replace(match: re.Match[str]) -> str:
        text = literal(values[int(match.group(1)) - 1])
        return f"{text}::{match.group(2)}" if match.group(2) else text

    return _PLACEHOLDER.sub(replace, statement)


async def _capture(settings: Settings, url: str, work: Work) -> list[str]:
    database = Database(create_engine(settings, url))
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append(inline(statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.sessionmaker() as session:
            await work(session)
    finally:
        await database.dispose()
    return statements


def pgbench_script(settings: Settings, url: str, work: Work) -> str:
    """A pgbench script running, in one transaction, the statements `work` runs."""
    statements = asyncio.run(_capture(settings, url, work))
    body = [" ".join(statement.split()) + ";" for statement in statements]
    return "\n".join(["BEGIN;", *body, "COMMIT;"]) + "\n"
