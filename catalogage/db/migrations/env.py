"""Alembic environment: runs migrations over an async (asyncpg) connection.

The whole upgrade runs in one transaction (PostgreSQL has transactional DDL), so
a failing migration leaves the schema exactly as it was. A transaction-level
advisory lock serialises concurrent `catalogage migrate` runs (several hosts
deploying at once).
"""

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

import catalogage.db.models  # noqa: F401 - registers every table on Base.metadata
from catalogage.db import Base

#: Arbitrary constant identifying our migration lock among advisory locks.
MIGRATION_LOCK_ID = 0x6361_7461  # "cata"


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


async def run_async() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by catalogage.db.migrate"
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    asyncio.run(run_async())
