"""Streamed CSV and XLSX exports in the schema-catalogue-donnees shape.

Rows come from a server-side cursor (`yield_per`), in a session of their own
that lives as long as the response body: memory stays flat whatever the number
of datasets. CSV is encoded and sent batch by batch. XLSX is a zip whose
directory comes last, so openpyxl's write-only mode spools it to a temporary
file (rows go to disk as they come), which is then sent in chunks.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.datasets.models import Dataset
from catalogage.datasets.service import TRACKED_FIELDS
from catalogage.datasets.visibility import visible_to
from catalogage.db import Database
from catalogage.interop.tabular import XML_ILLEGAL, columns_for, export_row
from catalogage.organizations.models import Organization

BATCH_ROWS = 2000
CHUNK_BYTES = 256 * 1024
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportQuery:
    """What to export: one catalog (with its extra field columns) or the whole site."""

    #: Result of `visible_organizations(caller)`: whose non-public datasets to include.
    visible: set[str] | None
    siret: str | None = None
    extra_names: tuple[str, ...] = ()

    @property
    def header(self) -> list[str]:
        return [*columns_for([]), *self.extra_names]

    def statement(self) -> Select[Any]:
        statement = (
            select(
                *(getattr(Dataset, name) for name in TRACKED_FIELDS),
                Organization.name.label("organization_name"),
                Organization.siret.label("organization_siret"),
                Organization.alternative_id.label("organization_alternative_id"),
            )
            .join(Organization, Organization.siret == Dataset.organization_siret)
            .where(visible_to(self.visible))
            # Stable order, independent of ids: re-imported files export identically.
            .order_by(Organization.siret, Dataset.title, Dataset.created_at, Dataset.id)
        )
        if self.siret is not None:
            statement = statement.where(Dataset.organization_siret == self.siret)
        return statement

    def cells(self, row: Any) -> list[str]:
        mapping = row._mapping
        organization = (
            mapping["organization_name"],
            mapping["organization_siret"],
            mapping["organization_alternative_id"],
        )
        return export_row(mapping, organization, self.extra_names)


async def _relax_timeouts(session: AsyncSession) -> None:
    # A large export legitimately keeps its cursor open for minutes while the client reads.
    await session.execute(text("SET LOCAL statement_timeout = '30min'"))
    await session.execute(text("SET LOCAL idle_in_transaction_session_timeout = '10min'"))


async def row_batches(database: Database, query: ExportQuery) -> AsyncIterator[Sequence[Any]]:
    async with database.sessionmaker() as session, session.begin():
        await _relax_timeouts(session)
        result = await session.stream(query.statement().execution_options(yield_per=BATCH_ROWS))
        async for batch in result.partitions():
            yield batch


async def csv_stream(database: Database, query: ExportQuery) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(query.header)
    async for batch in row_batches(database, query):
        writer.writerows(query.cells(row) for row in batch)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _xlsx_cells(cells: list[str]) -> list[str]:
    return [XML_ILLEGAL.sub("", cell) for cell in cells]


async def xlsx_file(database: Database, query: ExportQuery) -> str:
    """Write the XLSX export to a temporary file and return its path (caller deletes it)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("catalogue")
    sheet.append(query.header)
    async for batch in row_batches(database, query):
        rows = [_xlsx_cells(query.cells(row)) for row in batch]

        def append(rows: list[list[str]] = rows) -> None:
            for cells in rows:
                sheet.append(cells)

        await anyio.to_thread.run_sync(append)
    handle, path = tempfile.mkstemp(prefix="catalogage-export-", suffix=".xlsx")
    os.close(handle)
    try:
        await anyio.to_thread.run_sync(workbook.save, path)
    except BaseException:
        os.unlink(path)
        raise
    return path


async def xlsx_stream(database: Database, query: ExportQuery) -> AsyncIterator[bytes]:
    path = await xlsx_file(database, query)
    try:
        async with await anyio.open_file(path, "rb") as handle:
            while chunk := await handle.read(CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)
