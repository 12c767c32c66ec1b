"""Import benchmark: rows per second of `import_file` (dry run, apply, re-import).

    .venv/bin/python -m bench.interop_import [--rows 5000,20000]

Runs the real service code (parsing, validation with DatasetFields, canonical
keywords and formats, bulk writes with history) against a throwaway PostgreSQL.
Target: at least 5,000 rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench.interop_common import ORG, ORG_NAME, throwaway_database
from catalogage.catalogs.schemas import SCHEMA_COLUMNS
from catalogage.datasets.models import Visibility
from catalogage.interop.importer import import_file

TARGET_ROWS_PER_SECOND = 5_000


def catalog_file(rows: int, *, variant: str = "") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(SCHEMA_COLUMNS)
    for n in range(rows):
        writer.writerow(
            [
                f"Jeu de données {n}",
                f"Description du jeu {n}{variant} : " + "données publiques " * 12,
                f"environnement,eau,mot{n % 500}",
                ORG_NAME,
                ORG,
                "",
                "Service des données",
                f"Système {n % 20}",
                "service@example.gouv.fr",
                f"agent{n % 1000}@example.gouv.fr",
                "2015-01-01",
                "2023-06-30",
                "Mensuelle",
                f"Région {n % 13}",
                f"https://example.gouv.fr/jeux/{n}",
                "CSV,JSON",
                "Licence Ouverte 2.0",
            ]
        )
    return buffer.getvalue().encode("utf-8")


async def timed(url: str, data: bytes, *, dry_run: bool) -> tuple[float, dict[str, int]]:
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            await session.execute(text("SET statement_timeout = 0"))
            started = time.perf_counter()
            report = await import_file(
                session, None, ORG, data, dry_run=dry_run, visibility=Visibility.PUBLIC
            )
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
            elapsed = time.perf_counter() - started
            return elapsed, report.summary.model_dump()
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="5000,20000")
    args = parser.parse_args()
    print(f"{'rows':>7} {'step':<22} {'seconds':>8} {'rows/s':>8}  summary")
    for rows in (int(r) for r in args.rows.split(",")):
        with throwaway_database() as (_cluster, url):
            data = catalog_file(rows)
            corrected = catalog_file(rows, variant=" (corrigé)")
            speeds: dict[bool, list[float]] = {True: [], False: []}
            for step, content, dry_run in (
                ("dry run, empty catalog", data, True),
                ("apply, creates", data, False),
                ("re-import, unchanged", data, False),
                ("dry run, corrections", corrected, True),
                ("apply, updates", corrected, False),
            ):
                seconds, summary = asyncio.run(timed(url, content, dry_run=dry_run))
                counts = {k: v for k, v in summary.items() if v}
                speeds[dry_run].append(rows / seconds)
                print(
                    f"{rows:>7} {step:<22} {seconds:>8.2f} {rows / seconds:>8.0f}  {counts}",
                    flush=True,
                )
            for dry_run, label in ((True, "dry run"), (False, "apply")):
                slowest = min(speeds[dry_run])
                verdict = "met" if slowest >= TARGET_ROWS_PER_SECOND else "MISSED"
                print(
                    f"{rows:>7} {label:<22} slowest {slowest:>8.0f} rows/s "
                    f"(target {TARGET_ROWS_PER_SECOND:,}: {verdict})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
