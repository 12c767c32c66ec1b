"""Shared helpers for the interoperability tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from tests.factories import World

T = TypeVar("T")
REFERENCE = Path("/work/shared/reference")
SCHEMA_DIR = REFERENCE / "schema-catalogue-donnees"
SHACL_DIR = REFERENCE / "dcat-ap-3.0.1-shacl"
#: The example file's organization (IGN).
IGN_SIRET = "18006701900430"
IGN_NAME = "Institut national de l'information géographique et forestière"


def upload(
    client: httpx.Client,
    world: World,
    siret: str,
    content: bytes,
    *,
    role: str = "editor_a",
    dry_run: bool = True,
    filename: str = "catalogue.csv",
    **params: str,
) -> httpx.Response:
    return client.post(
        f"/catalogs/{siret}/import",
        params={"dry_run": str(dry_run).lower(), **params},
        files={"file": (filename, content)},
        headers=world.headers(role),
    )


def dataset_count(db: Any, siret: str | None = None) -> int:
    if siret is None:
        return int(db.scalar("SELECT count(*) FROM dataset"))
    return int(db.scalar("SELECT count(*) FROM dataset WHERE organization_siret = :s", s=siret))


def serve_app(app: Any) -> tuple[str, Callable[[], None]]:
    """Serve an ASGI app with uvicorn on a free loopback port; returns (base URL, stop)."""
    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


def in_session(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction, like the CLI does."""

    async def main() -> T:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())
