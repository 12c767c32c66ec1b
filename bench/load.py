"""Create the benchmark database and bulk-load N generated datasets with COPY.

The schema comes from the real migrations; rows go through the real triggers
(search document, generation) and indexes, so the load rate includes indexing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench import corpus
from catalogage.db.migrate import upgrade
from catalogage.vocabularies.normalize import fold

#: Rows per COPY: large enough to amortize round trips, small enough to stream.
CHUNK = 10_000
#: Concurrent COPY streams: the per-row trigger (building the search document) runs
#: in each stream's backend, so two streams use both cores.
STREAMS = 2


@dataclass
class LoadResult:
    datasets: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.datasets / self.seconds if self.seconds else 0.0


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _copy_datasets(url: str, rows: Iterator[tuple[Any, ...]], count: int) -> int:
    """COPY `count` rows over STREAMS connections, one chunk per transaction."""
    connections = [await asyncpg.connect(asyncpg_dsn(url)) for _ in range(STREAMS)]
    remaining = count

    async def stream(connection: asyncpg.Connection) -> int:
        nonlocal remaining
        loaded = 0
        while remaining > 0:
            size = min(CHUNK, remaining)
            remaining -= size
            chunk = [row for _, row in zip(range(size), rows, strict=False)]
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "dataset", records=chunk, columns=list(corpus.DATASET_COLUMNS)
                )
            loaded += len(chunk)
        return loaded

    try:
        return sum(await asyncio.gather(*(stream(c) for c in connections)))
    finally:
        for connection in connections:
            await connection.close()


async def _load(url: str, count: int, organizations: int) -> LoadResult:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        orgs = corpus.organizations(organizations)
        async with connection.transaction():
            await connection.copy_records_to_table(
                "organization", records=[(o.siret, o.name) for o in orgs], columns=["siret", "name"]
            )
            await connection.copy_records_to_table(
                "catalog", records=[(o.siret,) for o in orgs], columns=["organization_siret"]
            )
            await connection.executemany(
                "INSERT INTO tag (name, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(keyword, fold(keyword)) for keyword in corpus.all_keywords()],
            )
        started = time.perf_counter()
        loaded = await _copy_datasets(url, corpus.dataset_rows(count, orgs), count)
        seconds = time.perf_counter() - started
        await connection.execute("VACUUM ANALYZE dataset")
        await connection.execute("ANALYZE")
        return LoadResult(datasets=loaded, seconds=seconds)
    finally:
        await connection.close()


def load(url: str, count: int, organizations: int = 200) -> LoadResult:
    """Migrate the (empty) database at `url`, then load `count` datasets."""
    upgrade(url)
    return asyncio.run(_load(url, count, organizations))
