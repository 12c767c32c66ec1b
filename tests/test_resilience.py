"""Concurrency, an unreachable database, and structured logs."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from catalogage.config import LogFormat, Settings
from catalogage.logs import JsonFormatter, logging_config
from tests.conftest import TestDatabase, serve_in_thread
from tests.factories import World, create_dataset


def test_concurrent_edits_of_one_version_have_one_winner(
    client: httpx.Client, world: World, server: str
) -> None:
    created = create_dataset(client, world)
    url = f"{server}/datasets/{created['id']}"

    def edit(number: int) -> int:
        headers = {**world.headers("editor_a"), "If-Match": '"1"'}
        return httpx.patch(url, json={"title": f"Édition {number}"}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(edit, range(10)))
    assert statuses == [200] + [412] * 9
    final = client.get(url).json()
    assert final["version"] == 2
    history = client.get(f"{url}/history").json()
    assert len(history) == 2 and history[1]["changes"]["title"][1] == final["title"]


def test_health_is_503_when_the_database_is_unreachable(unreachable_database_server: str) -> None:
    health = httpx.get(f"{unreachable_database_server}/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    listing = httpx.get(f"{unreachable_database_server}/datasets/", timeout=10)
    assert listing.status_code == 503
    assert listing.json()["error"] == "service_unavailable"
    assert listing.headers["Retry-After"] == "5"
    version = httpx.get(f"{unreachable_database_server}/version", timeout=10).json()
    assert version["migration"] is None and version["version"]


def test_json_log_lines(tmp_path) -> None:
    settings = Settings(log_format=LogFormat.JSON, var_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert logging_config(settings)["formatters"]["default"] == {
        "()": "catalogage.logs.JsonFormatter"
    }
    record = logging.makeLogRecord(
        {
            "name": "catalogage.test",
            "levelname": "WARNING",
            "msg": "slow %s",
            "args": ("query",),
            "duration_ms": 1200,
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "slow query"
    assert line["level"] == "warning" and line["logger"] == "catalogage.test"
    assert line["duration_ms"] == 1200


def test_app_recovers_from_a_database_restart(client: httpx.Client, cluster, world: World) -> None:
    """Stale pooled connections fail at most briefly (503, never 500), then the pool
    reconnects by itself: no app restart needed."""
    if cluster is None:
        pytest.skip("needs the throwaway cluster (TEST_DATABASE_URL is set)")
    create_dataset(client, world)
    assert client.get("/datasets/").status_code == 200  # the pool holds a connection
    cluster.stop()
    cluster.start()
    statuses = [client.get("/datasets/").status_code for _ in range(5)]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[-1] == 200 and statuses.count(503) <= 1, statuses
    assert len(client.get("/datasets/").json()) == 1


@contextmanager
def table_locked(db: TestDatabase, table: str) -> Iterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on `table` (every read of it waits) until exit."""
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        engine = create_async_engine(db.url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                await asyncio.to_thread(release.wait)
        finally:
            await engine.dispose()

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        assert locked.wait(10), "could not take the lock"
        yield
    finally:
        release.set()
        holder.join(10)


def test_a_timed_out_health_check_leaves_no_busy_connection_in_the_pool(
    settings: Settings, db: TestDatabase
) -> None:
    """`/health` gives up after 2 s; the connection whose query it abandoned must not go
    back to the pool marked busy ("another operation is in progress": a 500 for the next
    request that gets it). With a pool of one, the next request gets that connection."""
    one_connection = settings.model_copy(update={"db_pool_size": 1})
    with serve_in_thread(one_connection) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/health").status_code == 200
        with table_locked(db, "alembic_version"):
            assert http.get("/health").status_code == 503
        statuses = [http.get("/datasets/").status_code for _ in range(3)]
        assert statuses == [200, 200, 200], statuses
        assert http.get("/health").status_code == 200
