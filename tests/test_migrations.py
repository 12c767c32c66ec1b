"""Models and migrations agree, and every migration downgrades and upgrades again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import catalogage.db.models  # noqa: F401 - registers every table
from catalogage.db import Base
from catalogage.db.cluster import EmbeddedCluster
from catalogage.db.migrate import current_revision_sync, downgrade, head_revision, upgrade


@pytest.fixture
def scratch_url(cluster: EmbeddedCluster | None, database_url: str) -> Iterator[str]:
    """A separate, empty database in the test cluster (this test migrates it up and down)."""
    if cluster is None:
        pytest.skip("needs the throwaway cluster (TEST_DATABASE_URL is set)")
    cluster.create_database("catalogage_migrations")
    yield str(make_url(database_url).set(database="catalogage_migrations"))
    cluster.drop_database("catalogage_migrations")


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def autogenerate_diff(url: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_diff)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_models_and_migrations_agree(database_url: str) -> None:
    assert autogenerate_diff(database_url) == []


def test_downgrade_then_upgrade_round_trips(scratch_url: str) -> None:
    upgrade(scratch_url)
    assert current_revision_sync(scratch_url) == head_revision()
    downgrade(scratch_url, "base")
    assert current_revision_sync(scratch_url) is None
    upgrade(scratch_url)
    assert current_revision_sync(scratch_url) == head_revision()
    assert autogenerate_diff(scratch_url) == []


def test_seeded_vocabulary_keys_are_folded(db) -> None:
    from catalogage.vocabularies.normalize import fold

    for table in ("format", "license"):
        for name, key in db.execute(f"SELECT name, key FROM {table}"):
            assert key == fold(name), (table, name)
