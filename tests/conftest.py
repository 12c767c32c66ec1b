"""Test fixtures: a real PostgreSQL and the real app served over HTTP.

The database is `TEST_DATABASE_URL` when set, otherwise a throwaway cluster
started for the session (the same `EmbeddedCluster` as `catalogage serve`).
Its schema comes from running the Alembic migrations. The app runs in uvicorn
on a free port, in a thread; tests talk to it with httpx over TCP.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from catalogage.app import create_app
from catalogage.config import Settings
from catalogage.db.cluster import EmbeddedCluster
from catalogage.db.migrate import upgrade
from tests.factories import World, build_world

SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
#: Tables emptied before each test. Vocabularies keep the rows the migrations seeded.
RESET_TABLES = [
    "history_entry",
    "api_token",
    "membership",
    "login_throttle",
    "extra_field",
    "dataset",
    "catalog",
    "organization",
    '"user"',
    "tag",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TestDatabase:
    """Synchronous access to the test database, for setting up and checking state."""

    __test__ = False  # a helper, not a test class

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, statements: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Execute statements in one transaction; return the last one's rows."""

        async def run() -> list[Any]:
            engine = create_async_engine(self.url, poolclass=NullPool)
            rows: list[Any] = []
            try:
                async with engine.begin() as connection:
                    for sql, params in statements:
                        result = await connection.execute(text(sql), params)
                        rows = list(result.all()) if result.returns_rows else []
                    return rows
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def execute(self, sql: str, **params: Any) -> list[Any]:
        return self.run([(sql, params)])

    def scalar(self, sql: str, **params: Any) -> Any:
        rows = self.execute(sql, **params)
        return rows[0][0] if rows else None


@pytest.fixture(scope="session")
def cluster() -> Iterator[EmbeddedCluster | None]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="catalogage-test-pg-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root / "postgres", database="catalogage_test")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(cluster: EmbeddedCluster | None) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or (cluster.url() if cluster else "")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def db(database_url: str) -> TestDatabase:
    return TestDatabase(database_url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET_KEY,
        var_dir=tmp_path_factory.mktemp("var"),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[str]:
    """Base URL of the app, served by uvicorn in a background thread."""
    with serve_in_thread(settings) as url:
        yield url


@contextmanager
def serve_in_thread(settings: Settings, log_level: str = "warning") -> Iterator[str]:
    """Serve `create_app(settings)` with uvicorn in a thread on a free port; yield its URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level=log_level, lifespan="on"
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def unreachable_database_server(tmp_path: Path) -> Iterator[str]:
    """Base URL of an app whose database cannot be reached."""
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@/nowhere?host=/nonexistent&port=5432",
        secret_key=SECRET_KEY,
        var_dir=tmp_path,
        db_pool_timeout_seconds=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    with serve_in_thread(settings, log_level="critical") as url:
        yield url


@pytest.fixture(scope="session")
def seeded_vocabulary(db: TestDatabase) -> dict[str, int]:
    """Highest id of each vocabulary table as the migrations seeded it."""
    return {table: db.scalar(f"SELECT max(id) FROM {table}") for table in ("format", "license")}


@pytest.fixture(autouse=True)
def clean_database(db: TestDatabase, seeded_vocabulary: dict[str, int]) -> None:
    """Every test starts from an empty catalog with the default vocabularies."""
    db.run(
        [
            (f"TRUNCATE {', '.join(RESET_TABLES)} RESTART IDENTITY CASCADE", {}),
            *(
                (f"DELETE FROM {table} WHERE id > :seeded", {"seeded": seeded})
                for table, seeded in seeded_vocabulary.items()
            ),
        ]
    )


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as http:
        yield http


@pytest.fixture
def world(db: TestDatabase) -> World:
    """Two organizations and one user per role, each with an API token."""
    return build_world(db)
