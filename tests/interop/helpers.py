"""Shared helpers for the interoperability tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from tests.factories import World, add_organization

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


def add_example_organization(db: Any, world: World) -> str:
    """The example file's organization (IGN), with editor_a as its editor."""
    add_organization(db, IGN_SIRET, IGN_NAME)
    db.execute(
        "INSERT INTO membership (user_id, organization_siret, role) VALUES (:u, :s, 'editor')",
        u=world.users["editor_a"],
        s=IGN_SIRET,
    )
    return IGN_SIRET


def dataset_count(db: Any, siret: str | None = None) -> int:
    if siret is None:
        return int(db.scalar("SELECT count(*) FROM dataset"))
    return int(db.scalar("SELECT count(*) FROM dataset WHERE organization_siret = :s", s=siret))


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
