"""Concurrency, an unreachable database, and structured logs."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from catalogage.config import LogFormat, Settings
from catalogage.logs import JsonFormatter, logging_config
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
