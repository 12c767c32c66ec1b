"""JSON API for exports and imports of catalog files.

- `GET /export.csv|.xlsx`: every dataset the caller may see (the 17 schema columns).
- `GET /catalogs/{siret}/export.csv|.xlsx`: one catalog, plus its extra field columns.
- `POST /catalogs/{siret}/import?dry_run=true|false`: a multipart upload (field `file`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from catalogage.accounts.auth import AnyCaller, OrgEditor, ensure_org_role, visible_organizations
from catalogage.accounts.models import Role
from catalogage.catalogs.service import get_catalog
from catalogage.datasets.models import Visibility
from catalogage.dependencies import DbSession
from catalogage.errors import AppError, FieldError, ValidationFailed
from catalogage.interop import importer
from catalogage.interop.export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ExportQuery,
    csv_stream,
    xlsx_stream,
)
from catalogage.interop.reader import MAX_FILE_BYTES
from catalogage.interop.schemas import ImportReport

router = APIRouter(tags=["interop"])

#: Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


class LengthRequired(AppError):
    status_code = 411
    code = "length_required"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


def _download(stream: StreamingResponse, filename: str) -> StreamingResponse:
    stream.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return stream


@router.get("/export.csv", response_class=StreamingResponse)
async def export_site_csv(request: Request, user: AnyCaller) -> StreamingResponse:
    """Every dataset the caller may see, as schema-catalogue-donnees CSV."""
    query = ExportQuery(visible=visible_organizations(user))
    response = StreamingResponse(csv_stream(request.app.state.db, query), media_type=CSV_MEDIA_TYPE)
    return _download(response, "catalogue.csv")


@router.get("/export.xlsx", response_class=StreamingResponse)
async def export_site_xlsx(request: Request, user: AnyCaller) -> StreamingResponse:
    """Every dataset the caller may see, as an Excel workbook with the CSV's columns."""
    query = ExportQuery(visible=visible_organizations(user))
    response = StreamingResponse(
        xlsx_stream(request.app.state.db, query), media_type=XLSX_MEDIA_TYPE
    )
    return _download(response, "catalogue.xlsx")


async def _catalog_query(session: DbSession, siret: str, user: AnyCaller) -> ExportQuery:
    catalog = await get_catalog(session, siret)
    return ExportQuery(
        visible=visible_organizations(user),
        siret=siret,
        extra_names=tuple(field.name for field in catalog.extra_fields),
    )


@router.get("/catalogs/{siret}/export.csv", response_class=StreamingResponse)
async def export_catalog_csv(
    siret: str, request: Request, session: DbSession, user: AnyCaller
) -> StreamingResponse:
    """The catalog's datasets the caller may see: the 17 schema columns, then extra fields."""
    query = await _catalog_query(session, siret, user)
    response = StreamingResponse(csv_stream(request.app.state.db, query), media_type=CSV_MEDIA_TYPE)
    return _download(response, f"catalogue-{siret}.csv")


@router.get("/catalogs/{siret}/export.xlsx", response_class=StreamingResponse)
async def export_catalog_xlsx(
    siret: str, request: Request, session: DbSession, user: AnyCaller
) -> StreamingResponse:
    query = await _catalog_query(session, siret, user)
    response = StreamingResponse(
        xlsx_stream(request.app.state.db, query), media_type=XLSX_MEDIA_TYPE
    )
    return _download(response, f"catalogue-{siret}.xlsx")


async def _uploaded_file(request: Request) -> tuple[bytes, str]:
    """The `file` part of a multipart upload, refusing oversized bodies before reading."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise LengthRequired("Send the upload with a Content-Length header")
    if int(length) > MAX_FILE_BYTES + _MULTIPART_OVERHEAD:
        raise PayloadTooLarge(
            f"File too large: the limit is {MAX_FILE_BYTES:,} bytes",
            fields=[FieldError("file", f"larger than {MAX_FILE_BYTES:,} bytes")],
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("Upload the file as multipart/form-data, in a field named file")
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed([FieldError("file", "required: the CSV or XLSX file to import")])
    data = await upload.read(MAX_FILE_BYTES + 1)
    return data, upload.filename or ""


@router.post(
    "/catalogs/{siret}/import",
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def import_catalog_file(
    siret: str,
    request: Request,
    session: DbSession,
    user: OrgEditor,
    dry_run: Annotated[bool, Query(description="Only report what would change")] = True,
    visibility: Annotated[
        Visibility, Query(description="Visibility of the datasets the import creates")
    ] = Visibility.DRAFT,
) -> ImportReport:
    """Import a CSV or XLSX file shaped like schema-catalogue-donnees (editors).

    The dry run (default) reports, row by row and field by field, what would be
    created, updated, left unchanged or rejected. With `dry_run=false` the file
    is applied all or nothing: any rejected row answers 422 with the report and
    writes nothing. 409 while another import or harvest into the catalog runs.
    """
    ensure_org_role(user, siret, Role.EDITOR)
    data, filename = await _uploaded_file(request)
    report = await importer.import_file(
        session, user, siret, data, filename=filename, dry_run=dry_run, visibility=visibility
    )
    if dry_run:
        # The dry run created missing keywords to compute canonical spellings: undo.
        await session.rollback()
    else:
        await session.commit()
    return report
