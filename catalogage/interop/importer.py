"""Importing a catalog file (CSV or XLSX shaped like schema-catalogue-donnees).

The file's rows name the organization they belong to (`nom_orga`, `siret_orga`,
`id_alt_orga`). A row naming another organization than the target catalog's is
rejected: `siret_orga` decides when given, else `id_alt_orga`, else `nom_orga`
(compared ignoring case and accents). A name that differs while the SIRET
matches is only a warning (names get abbreviated).

Rows are matched to existing datasets by the `id` column when the file has one,
else by title within the organization. Columns the file lacks keep their
current values on update.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.models import User
from catalogage.catalogs.models import Catalog
from catalogage.catalogs.schemas import SCHEMA_COLUMNS
from catalogage.catalogs.service import get_catalog
from catalogage.datasets.models import Visibility
from catalogage.errors import AppError, FieldError
from catalogage.interop.changes import (
    Candidate,
    apply_plan,
    collection_paused,
    lock_catalog,
    plan_changes,
)
from catalogage.interop.reader import FileRejected, ParsedFile, read_catalog_file
from catalogage.interop.schemas import FileInfo, ImportReport, Problem
from catalogage.interop.tabular import (
    FIELD_OF_COLUMN,
    ID_COLUMN,
    ORGANIZATION_COLUMNS,
    extra_value,
    field_value,
    folded,
)
from catalogage.organizations.models import Organization
from catalogage.organizations.service import get_organization

#: Columns a file must have: the schema's columns whose value is required.
REQUIRED_COLUMNS = (
    "titre",
    "description",
    "mots_cles",
    "service",
    "contact_personne",
    "couv_geo",
    "format",
)


class ImportRejected(AppError):
    """422 carrying the whole report: nothing was written."""

    status_code = 422
    code = "validation_error"

    def __init__(self, report: ImportReport) -> None:
        fields = [FieldError(f"file.{p.field}", p.message) for p in report.errors]
        for row in report.rows:
            fields.extend(FieldError(f"row {row.row}.{p.field}", p.message) for p in row.errors)
        rejected = report.summary.reject
        message = (
            "The file cannot be imported: " + report.errors[0].message
            if report.errors
            else f"{rejected} row(s) rejected; nothing was imported"
        )
        super().__init__(message, fields=fields[:100])
        self.report = report

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["report"] = self.report.model_dump(mode="json")
        return body


def _check_columns(columns: list[str], catalog: Catalog) -> list[Problem]:
    extra_names = {field.name for field in catalog.extra_fields}
    known = {*SCHEMA_COLUMNS, *extra_names, ID_COLUMN}
    problems = [
        Problem(field=column, message="missing required column")
        for column in REQUIRED_COLUMNS
        if column not in columns
    ]
    problems.extend(
        Problem(
            field=column or "(empty)",
            message="unknown column: neither a column of the schema nor an extra field of "
            "this catalog",
        )
        for column in columns
        if column not in known
    )
    duplicates = sorted({column for column in columns if columns.count(column) > 1})
    problems.extend(Problem(field=column, message="column given twice") for column in duplicates)
    return problems


def _organization_problems(cells: dict[str, str], organization: Organization) -> list[Problem]:
    name, siret, alternative_id = (cells.get(column, "") for column in ORGANIZATION_COLUMNS)
    siret = "".join(siret.split())
    if siret:
        if siret != organization.siret:
            return [
                Problem(
                    field="siret_orga",
                    message=f"names organization {siret}, not the catalog's ({organization.siret})",
                )
            ]
    elif alternative_id:
        if alternative_id != (organization.alternative_id or ""):
            return [
                Problem(
                    field="id_alt_orga",
                    message=f"names organization {alternative_id}, not the catalog's "
                    f"({organization.alternative_id or organization.siret})",
                )
            ]
    elif name and folded(name) != folded(organization.name):
        return [
            Problem(
                field="nom_orga",
                message=f"names organization {name!r}, not the catalog's ({organization.name!r})",
            )
        ]
    return []


def _candidate(
    number: int, cells_list: list[str], parsed: ParsedFile, catalog: Catalog, org: Organization
) -> Candidate:
    candidate = Candidate(row=number)
    if len(cells_list) > len(parsed.columns):
        candidate.errors.append(
            Problem(
                field="file", message=f"{len(cells_list)} cells for {len(parsed.columns)} columns"
            )
        )
        return candidate
    cells = dict(
        zip(
            parsed.columns, cells_list + [""] * (len(parsed.columns) - len(cells_list)), strict=True
        )
    )
    candidate.errors.extend(_organization_problems(cells, org))
    name = cells.get("nom_orga", "")
    if not candidate.errors and name and folded(name) != folded(org.name):
        candidate.warnings.append(
            Problem(field="nom_orga", message=f"differs from the organization's name ({org.name})")
        )
    identifier = cells.get(ID_COLUMN, "")
    if identifier:
        try:
            candidate.dataset_id = uuid.UUID(identifier)
        except ValueError:
            candidate.errors.append(Problem(field=ID_COLUMN, message="not a dataset id (UUID)"))
    for column, field_name in FIELD_OF_COLUMN.items():
        if column not in cells:
            continue
        text = cells[column]
        if not text:
            candidate.values[field_name] = None
            continue
        try:
            candidate.values[field_name] = field_value(field_name, text)
        except ValueError as exc:
            candidate.errors.append(Problem(field=column, message=str(exc)))
    for extra_field in catalog.extra_fields:
        if extra_field.name not in cells:
            continue
        text = cells[extra_field.name]
        try:
            candidate.extra[extra_field.name] = extra_value(extra_field, text) if text else None
        except ValueError as exc:
            candidate.errors.append(Problem(field=extra_field.name, message=str(exc)))
    return candidate


async def import_file(
    session: AsyncSession,
    actor: User | None,
    siret: str,
    data: bytes,
    *,
    filename: str = "",
    dry_run: bool,
    visibility: Visibility = Visibility.DRAFT,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check (and unless `dry_run`, apply) a file; the caller commits or rolls back.

    Raises `ImportRejected` (422, with the report) when the file or a row is
    invalid and `dry_run` is false, and `Conflict` (409) when another import or
    harvest into the catalog is running. Created datasets get `visibility`.
    """
    with collection_paused():
        return await _import(
            session,
            actor,
            siret,
            data,
            filename=filename,
            dry_run=dry_run,
            visibility=visibility,
            progress=progress,
        )


async def _import(
    session: AsyncSession,
    actor: User | None,
    siret: str,
    data: bytes,
    *,
    filename: str,
    dry_run: bool,
    visibility: Visibility,
    progress: Callable[[int, int], None] | None,
) -> ImportReport:
    catalog = await get_catalog(session, siret)
    organization = await get_organization(session, siret)
    report = ImportReport(organization_siret=siret, dry_run=dry_run)
    try:
        parsed = read_catalog_file(data, filename)
    except FileRejected as exc:
        report.errors.append(Problem(field="file", message=str(exc)))
        if dry_run:
            return report
        raise ImportRejected(report) from None
    report.file = FileInfo(
        format=parsed.format,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        columns=parsed.columns,
        rows=len(parsed.rows),
    )
    report.errors.extend(_check_columns(parsed.columns, catalog))
    if report.errors:
        if dry_run:
            return report
        raise ImportRejected(report)
    if not dry_run:
        await lock_catalog(session, siret)
    total = len(parsed.rows)
    candidates = [
        _candidate(number, cells, parsed, catalog, organization) for number, cells in parsed.rows
    ]
    plan = await plan_changes(
        session,
        catalog,
        candidates,
        report,
        visibility=visibility,
        for_update=not dry_run,
        progress=(lambda done: progress(done, total)) if progress else None,
    )
    if dry_run:
        return report
    if not report.acceptable:
        raise ImportRejected(report)
    await apply_plan(session, actor, siret, plan)
    if progress:
        progress(total, total)
    report.applied = True
    return report
