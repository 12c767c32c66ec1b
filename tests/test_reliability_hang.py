"""A frozen PostgreSQL (every process SIGSTOPped) answers 503 within the request deadline.

The slow path this guards: pooled connections whose statement never returns. Before the
deadline, asyncpg's command timeout ended them, then the invalidation's graceful close
and the rollback waited for the frozen server again (13.2 s with the default 10 s
statement timeout, 18.8 s under load). Timeouts here are scaled down so the test takes
seconds; the freeze always ends in `finally`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from catalogage.config import Settings
from catalogage.db.cluster import EmbeddedCluster
from reliability.instance import cluster_pids
from tests.conftest import SECRET_KEY, TestDatabase, serve_in_thread
from tests.factories import World, create_dataset, dataset_body

DEADLINE_SECONDS = 3.0
#: The deadline, plus the time to terminate connections and answer on a busy 2-core host.
BOUND_SECONDS = DEADLINE_SECONDS + 2.0
#: Longer than any answer may take: a request still waiting then has piled up.
MAX_FREEZE_SECONDS = 10.0


@contextmanager
def frozen(cluster: EmbeddedCluster) -> Iterator[None]:
    pids = cluster_pids(cluster.data_dir)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def test_a_frozen_database_answers_503_within_the_deadline(
    cluster: EmbeddedCluster | None,
    database_url: str,
    db: TestDatabase,
    world: World,
    client: httpx.Client,
    tmp_path: Path,
) -> None:
    if cluster is None:
        pytest.skip("needs the throwaway cluster (TEST_DATABASE_URL is set)")
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET_KEY,
        var_dir=tmp_path,
        db_statement_timeout_ms=1000,
        db_pool_size=4,
        db_pool_timeout_seconds=0.5,
        request_deadline_seconds=DEADLINE_SECONDS,
        _env_file=None,  # type: ignore[call-arg]
    )
    create_dataset(client, world)
    with serve_in_thread(settings, log_level="critical") as url:
        reader = httpx.Client(base_url=url, headers=world.headers("editor_a"), timeout=30)
        writer = httpx.Client(base_url=url, headers=world.headers("editor_a"), timeout=30)

        def read(number: int) -> tuple[int, float, httpx.Response]:
            started = time.monotonic()
            answer = httpx.get(
                f"{url}/datasets/",
                headers=world.headers("editor_a"),
                timeout=MAX_FREEZE_SECONDS + 5,
            )
            return number, time.monotonic() - started, answer

        def write(number: int) -> tuple[int, float, httpx.Response]:
            started = time.monotonic()
            answer = httpx.post(
                f"{url}/datasets/",
                json=dataset_body(title=f"Écrit pendant le gel {number}"),
                headers=world.headers("editor_a"),
                timeout=MAX_FREEZE_SECONDS + 5,
            )
            return number, time.monotonic() - started, answer

        # Fill the pool: the hang must hit established connections, not only new ones.
        with ThreadPoolExecutor(max_workers=8) as pool:
            warm = list(pool.map(lambda n: read(n)[2].status_code, range(16)))
        assert set(warm) == {200}

        with frozen(cluster), ThreadPoolExecutor(max_workers=16) as pool:
            reads = [pool.submit(read, n) for n in range(12)]
            writes = [pool.submit(write, n) for n in range(4)]
            answers = [future.result() for future in (*reads, *writes)]

        slow = [(n, round(s, 2)) for n, s, _ in answers if s > BOUND_SECONDS]
        assert not slow, f"answers slower than {BOUND_SECONDS} s: {slow}"
        for _, _, answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "service_unavailable"
            assert answer.headers["Retry-After"] == "5"

        # Thawed: the same app serves again by itself; terminated connections were not
        # returned to the pool in an unknown state.
        deadline = time.monotonic() + 10
        statuses = []
        while time.monotonic() < deadline:
            statuses.append(reader.get("/datasets/").status_code)
            if statuses[-1] == 200:
                break
            time.sleep(0.2)
        assert statuses[-1] == 200, statuses
        assert writer.post("/datasets/", json=dataset_body(title="Après le dégel")).is_success
        reader.close()
        writer.close()

    # Nothing half-written: each dataset present has its creation in the history (one
    # transaction per request), whatever happened to the writes cut by the deadline.
    datasets = db.scalar("SELECT count(*) FROM dataset")
    created = db.scalar(
        "SELECT count(*) FROM history_entry WHERE entity_type = 'dataset' AND action = 'create'"
    )
    assert 2 <= datasets <= 2 + len(writes)
    assert created == datasets
