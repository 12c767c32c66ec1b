"""The benchmark: `python -m bench.run --n 100000` (what `make bench` runs).

1. generate N datasets across 200 organizations and COPY them in (datasets/s);
2. start `catalogage serve` with 2 workers behind nginx (when installed);
3. drive each endpoint with wrk (32 connections), with the answer cache on (the
   production default) and off (every request computed);
4. measure the ceilings: the endpoint's own SQL through pgbench, and a constant
   JSON endpoint through the same HTTP stack;
5. print one table, and the peak memory of each worker.

Numbers are printed, never judged: this is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from bench import corpus
from bench.capture import pgbench_script
from bench.drive import (
    Measure,
    Service,
    ensure_tools,
    run_pgbench,
    run_wrk,
    start_service,
)
from bench.load import asyncpg_dsn, load
from catalogage.config import Settings
from catalogage.datasets import service as datasets
from catalogage.db.cluster import EmbeddedCluster
from catalogage.search import service as search
from catalogage.search.cache import GenerationCache

DATABASE = "catalogage_bench"
AUTOCOMPLETE_PREFIXES = ["for", "tra", "bud", "qual", "stat", "bret", "mus", "eau", "per", "com"]


@dataclass
class Endpoint:
    name: str
    paths: list[str]
    #: The same request through the service code, for the pgbench ceiling.
    work: Callable[[AsyncSession], Any]
    #: Served through the search answer cache (measured with the cache on and off).
    cached: bool = True


@dataclass
class Row:
    name: str
    http: Measure
    uncached: Measure | None = None
    sql: Measure | None = None


@dataclass
class Report:
    n: int
    load_rate: float
    load_seconds: float
    ceiling: Measure | None = None
    rows: list[Row] = field(default_factory=list)
    rss_mb: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _search_endpoint(name: str, params: dict[str, Any]) -> Endpoint:
    request = search.SearchRequest(
        q=params.get("q", ""),
        page_size=int(params.get("page_size", 20)),
        with_facets=params.get("facets", "true") == "true",
        cursor=params.get("cursor"),
        sort=search.SearchSort(params["sort"]) if "sort" in params else None,
    )

    async def work(session: AsyncSession) -> Any:
        return await search.search(session, GenerationCache(0, 1), None, request)

    return Endpoint(name, ["/search/datasets?" + urlencode(params)], work)


async def _targets(url: str, n: int) -> dict[str, Any]:
    """Ids to fetch and the keyset cursor halfway through the public catalog."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        ids = [
            row["id"]
            for row in await connection.fetch(
                "SELECT id FROM dataset WHERE visibility = 'public' ORDER BY id LIMIT 1000"
            )
        ]
        middle = await connection.fetchrow(
            "SELECT id, updated_at FROM dataset WHERE visibility = 'public' "
            "ORDER BY updated_at DESC, id DESC OFFSET $1 LIMIT 1",
            max(0, int(n * 0.8) // 2),
        )
    finally:
        await connection.close()
    return {"ids": ids, "cursor": search.Cursor.encode(middle["updated_at"], middle["id"])}


def endpoints(targets: dict[str, Any]) -> list[Endpoint]:
    ids: list[uuid.UUID] = targets["ids"]

    async def list_page(session: AsyncSession) -> Any:
        return await datasets.list_datasets(session, None, datasets.DatasetFilters())

    async def get_one(session: AsyncSession) -> Any:
        return await datasets.get_dataset(session, None, ids[0])

    async def complete(session: AsyncSession) -> Any:
        return await search.autocomplete(session, GenerationCache(0, 1), None, "for")

    return [
        Endpoint("list page 1 (/datasets/)", ["/datasets/"], list_page),
        _search_endpoint("list page 1 (/search)", {"facets": "false"}),
        _search_endpoint("deep page (keyset)", {"facets": "false", "cursor": targets["cursor"]}),
        _search_endpoint("search: common word", {"q": corpus.COMMON_WORD, "facets": "false"}),
        _search_endpoint("search: rare word", {"q": corpus.RARE_WORD, "facets": "false"}),
        _search_endpoint("search: phrase", {"q": f'"{corpus.PHRASE}"', "facets": "false"}),
        _search_endpoint("facets, no q", {"page_size": "0"}),
        _search_endpoint("facets + q (common)", {"q": corpus.COMMON_WORD, "page_size": "0"}),
        Endpoint("get by id", [f"/datasets/{i}" for i in ids], get_one, cached=False),
        Endpoint(
            "autocomplete",
            [f"/search/autocomplete?q={p}" for p in AUTOCOMPLETE_PREFIXES],
            complete,
        ),
    ]


#: Longest wait for requests left running by a measure.
IDLE_WAIT_SECONDS = 60.0


async def _wait_idle(url: str) -> None:
    """Wait until the database has finished the requests a measure left running, so
    that they do not slow the next one down."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        deadline = time.monotonic() + IDLE_WAIT_SECONDS
        while time.monotonic() < deadline:
            busy = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            )
            if not busy:
                return
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


def _measure_http(
    service: Service, todo: list[Endpoint], args: argparse.Namespace, workdir: Path, url: str
) -> dict[str, Measure]:
    results = {}
    for endpoint in todo:
        asyncio.run(_wait_idle(url))
        # Warm-up: fill caches and connection pools the way a running service has them.
        run_wrk(
            service.base_url,
            endpoint.paths,
            seconds=2,
            connections=args.connections,
            workdir=workdir,
        )
        results[endpoint.name] = run_wrk(
            service.base_url,
            endpoint.paths,
            seconds=args.seconds,
            connections=args.connections,
            workdir=workdir,
        )
        print(
            f"  {endpoint.name}: {results[endpoint.name].requests_per_second:,.0f} req/s",
            flush=True,
        )
    return results


def run(args: argparse.Namespace) -> Report:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    missing = ensure_tools(install=not args.no_install)
    if "wrk" in missing or shutil.which("pgbench") is None:
        sys.exit("bench: wrk and pgbench are required (apt-get install wrk postgresql-client)")
    report = Report(n=args.n, load_rate=0.0, load_seconds=0.0)
    if "nginx" in missing:
        report.notes.append("nginx is not installed: uvicorn is measured directly")

    cluster = EmbeddedCluster(workdir / "postgres", database=DATABASE)
    cluster.start()
    try:
        cluster.drop_database(DATABASE)
        cluster.create_database(DATABASE)
        url = cluster.url()
        print(f"Loading {args.n:,} datasets...", flush=True)
        loaded = load(url, args.n)
        report.load_rate, report.load_seconds = loaded.rate, loaded.seconds
        print(
            f"  {loaded.datasets:,} datasets in {loaded.seconds:.1f} s: "
            f"{loaded.rate:,.0f} datasets/s",
            flush=True,
        )
        todo = endpoints(asyncio.run(_targets(url, args.n)))
        if args.only:
            todo = [e for e in todo if any(word in e.name for word in args.only)]
        settings = Settings(database_url=url, secret_key="x" * 40, _env_file=None)  # type: ignore[call-arg]

        print("HTTP, answer cache on (production default):", flush=True)
        service = start_service(
            url, workdir, workers=args.workers, cache_entries=2000, use_nginx=not args.no_nginx
        )
        try:
            ceiling = _measure_http(
                service,
                [Endpoint("ceiling: constant JSON", ["/_bench/ceiling"], get_none, False)],
                args,
                workdir,
                url,
            )
            report.ceiling = ceiling["ceiling: constant JSON"]
            cached = _measure_http(service, todo, args, workdir, url)
            for pid, mb in service.peak_rss_mb().items():
                report.rss_mb[f"cache on, worker {pid}"] = mb
        finally:
            service.stop()

        uncached: dict[str, Measure] = {}
        if not args.no_uncached:
            print("HTTP, answer cache off:", flush=True)
            service = start_service(
                url, workdir, workers=args.workers, cache_entries=0, use_nginx=not args.no_nginx
            )
            try:
                uncached = _measure_http(service, [e for e in todo if e.cached], args, workdir, url)
                for pid, mb in service.peak_rss_mb().items():
                    report.rss_mb[f"cache off, worker {pid}"] = mb
            finally:
                service.stop()

        print("SQL ceiling (pgbench, same statements):", flush=True)
        for endpoint in todo:
            asyncio.run(_wait_idle(url))
            script = pgbench_script(settings, url, endpoint.work)
            measure = run_pgbench(
                str(cluster.socket_dir),
                cluster.user,
                DATABASE,
                script,
                seconds=args.seconds,
                connections=args.connections,
                workdir=workdir,
            )
            print(f"  {endpoint.name}: {measure.requests_per_second:,.0f} tx/s", flush=True)
            report.rows.append(
                Row(endpoint.name, cached[endpoint.name], uncached.get(endpoint.name), measure)
            )
    finally:
        if not args.keep:
            cluster.stop()
    return report


async def get_none(session: AsyncSession) -> None:
    return None


def render(report: Report) -> str:
    ceiling = report.ceiling.requests_per_second if report.ceiling else 0.0
    header = (
        f"{'endpoint':<26} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'/HTTP ceil':>10} {'SQL tx/s':>9} {'/SQL ceil':>9} "
        f"{'no-cache req/s':>14} {'p99 ms':>7}"
    )
    lines = [
        f"catalogage benchmark: N={report.n:,} datasets, 32 connections, "
        f"load average {os.getloadavg()[0]:.2f}",
        f"bulk load (COPY, triggers and indexes included): {report.load_rate:,.0f} datasets/s "
        f"({report.load_seconds:.1f} s)",
        header,
        "-" * len(header),
    ]
    if report.ceiling:
        c = report.ceiling
        lines.append(
            f"{'ceiling: constant JSON':<26} {c.requests_per_second:>8,.0f} {c.p50_ms:>7.1f} "
            f"{c.p99_ms:>7.1f} {c.errors:>6} {'100%':>10}"
        )
    for row in report.rows:
        h = row.http
        sql = row.sql
        no_cache = row.uncached
        lines.append(
            f"{row.name:<26} {h.requests_per_second:>8,.0f} {h.p50_ms:>7.1f} {h.p99_ms:>7.1f} "
            f"{h.errors:>6} {h.requests_per_second / ceiling if ceiling else 0:>10.0%} "
            + (
                f"{sql.requests_per_second:>9,.0f} "
                f"{h.requests_per_second / sql.requests_per_second:>9.0%} "
                if sql and sql.requests_per_second
                else f"{'-':>9} {'-':>9} "
            )
            + (
                f"{no_cache.requests_per_second:>14,.0f} {no_cache.p99_ms:>7.1f}"
                if no_cache
                else f"{'-':>14} {'-':>7}"
            )
        )
    lines.append(
        "peak RSS per worker: "
        + ", ".join(f"{name}: {mb:.0f} MB" for name, mb in report.rss_mb.items())
    )
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="datasets to load")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measure")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "catalogage-bench"))
    parser.add_argument("--only", nargs="*", help="endpoints whose name contains one of these")
    parser.add_argument("--no-uncached", action="store_true", help="skip the cache-off pass")
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--no-install", action="store_true", help="never apt-get wrk/nginx")
    parser.add_argument("--keep", action="store_true", help="leave the database running")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    started = time.monotonic()
    report = run(args)
    print()
    print(render(report))
    print(f"(benchmark took {time.monotonic() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report), indent=2, default=str))


if __name__ == "__main__":
    main()
