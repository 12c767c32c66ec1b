"""Routes for exports, imports and DCAT-AP documents.

- `GET /export.csv|.xlsx`: every dataset the caller may see (the 17 schema columns).
- `GET /catalogs/{siret}/export.csv|.xlsx`: one catalog, plus its extra field columns.
- `POST /catalogs/{siret}/import?dry_run=true|false`: a multipart upload (field `file`).
- `GET /catalog.ttl|.jsonld|.rdf`: the DCAT-AP catalog, paged with Hydra.
- `GET /datasets/{id}.ttl|.jsonld|.rdf`: one dataset (`rdf_router`, which the app must
  include before the datasets router so that these paths are not taken for ids).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from catalogage.accounts.auth import AnyCaller, OrgEditor, ensure_org_role, visible_organizations
from catalogage.accounts.models import Role
from catalogage.catalogs.service import get_catalog
from catalogage.datasets.models import Dataset, Visibility
from catalogage.datasets.service import get_dataset
from catalogage.dependencies import DbSession
from catalogage.errors import (
    FieldError,
    LengthRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from catalogage.interop import dcat, importer
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
rdf_router = APIRouter(tags=["dcat"])

#: Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


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


def site_base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def rdf_response(builder: dcat.Builder, fmt: dcat.RdfFormat) -> Response:
    return Response(
        builder.serialize(fmt),
        media_type=f"{fmt.media_type}; charset=utf-8",
        headers={"Vary": "Accept"},
    )


@router.get("/catalog.{extension}", response_class=Response)
async def dcat_catalog(
    extension: dcat.RdfFormat,
    request: Request,
    session: DbSession,
    user: AnyCaller,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=dcat.MAX_PAGE_SIZE)] = dcat.DEFAULT_PAGE_SIZE,
) -> Response:
    """The DCAT-AP 3 catalog of the datasets the caller may see, one Hydra page at a time."""
    builder = await dcat.catalog_page(
        session,
        visible_organizations(user),
        base=site_base(request),
        page_url=str(request.url),
        page=page,
        page_size=page_size,
    )
    return rdf_response(builder, extension)


async def dataset_rdf(
    session: DbSession, request: Request, dataset: Dataset, fmt: dcat.RdfFormat
) -> Response:
    builder = await dcat.dataset_document(session, dataset, base=site_base(request))
    return rdf_response(builder, fmt)


@rdf_router.get("/datasets/{dataset_id}.{extension}", response_class=Response)
async def dcat_dataset(
    dataset_id: uuid.UUID,
    extension: dcat.RdfFormat,
    request: Request,
    session: DbSession,
    user: AnyCaller,
) -> Response:
    """One dataset as DCAT-AP 3 (also served by `GET /datasets/{id}` with an RDF Accept)."""
    dataset = await get_dataset(session, user, dataset_id)
    return await dataset_rdf(session, request, dataset, extension)
