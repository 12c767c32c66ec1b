"""JSON API for datasets: `/datasets/`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import AnyCaller, OrgEditor, OrgManager, ensure_org_role
from catalogage.accounts.models import Role, User
from catalogage.datasets import service
from catalogage.datasets.models import Dataset, Visibility
from catalogage.datasets.schemas import DatasetCreate, DatasetPatch, DatasetRead, DatasetReplace
from catalogage.dependencies import DbSession
from catalogage.errors import FieldError, ValidationFailed
from catalogage.history import service as history
from catalogage.history.schemas import HistoryActor, HistoryEntryRead
from catalogage.http import etag, optional_version, required_version, set_pagination_headers
from catalogage.interop import dcat
from catalogage.interop.routes import dataset_rdf

router = APIRouter(prefix="/datasets", tags=["datasets"])

IfMatch = Annotated[str | None, Header(description='ETag of the edited version, e.g. "3"')]


@router.get("/", response_model=list[DatasetRead])
async def list_datasets(
    request: Request,
    session: DbSession,
    user: AnyCaller,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    organization: Annotated[list[str], Query(description="SIRET; repeat for several")] = [],  # noqa: B006
    tag: Annotated[list[str], Query()] = [],  # noqa: B006
    format: Annotated[list[str], Query()] = [],  # noqa: B006
    visibility: Annotated[list[Visibility], Query()] = [],  # noqa: B006
    updated_since: datetime | None = None,
    q: Annotated[str, Query(max_length=200, description="Full-text search (see /search/)")] = "",
    sort: Annotated[
        service.Sort | None, Query(description="Default: relevance with q, else -updated_at")
    ] = None,
) -> Response:
    """Datasets the caller may see. Several values of one filter are OR'ed."""
    if sort is None:
        sort = service.Sort.RELEVANCE if q.strip() else service.Sort.UPDATED_DESC
    filters = service.DatasetFilters(
        text=q,
        organizations=organization,
        tags=tag,
        formats=format,
        visibility=visibility,
        updated_since=updated_since,
    )
    body, total = await service.list_page(
        session,
        user,
        filters,
        sort=sort,
        offset=(page - 1) * page_size,
        limit=page_size,
        cache=request.app.state.search_cache,
    )
    answer = Response(content=body, media_type="application/json")
    set_pagination_headers(request, answer, page=page, page_size=page_size, total=total)
    return answer


@router.post("/", status_code=201, response_model=DatasetRead)
async def create_dataset(
    data: DatasetCreate, request: Request, response: Response, session: DbSession, user: OrgEditor
) -> DatasetRead:
    ensure_org_role(user, data.organization_siret, Role.EDITOR)
    dataset = await service.create_dataset(session, user, data.organization_siret, data)
    await session.commit()
    response.headers["Location"] = str(request.url_for("get_dataset", dataset_id=dataset.id))
    response.headers["ETag"] = etag(dataset.version)
    return DatasetRead.model_validate(dataset)


@router.get("/{dataset_id}", response_model=DatasetRead)
async def get_dataset(
    dataset_id: uuid.UUID,
    request: Request,
    response: Response,
    session: DbSession,
    user: AnyCaller,
) -> DatasetRead | Response:
    """JSON by default; DCAT-AP (Turtle, JSON-LD, RDF/XML) when `Accept` prefers it."""
    dataset = await service.get_dataset(session, user, dataset_id)
    rdf_format = dcat.negotiate(request.headers.get("accept"))
    if rdf_format is not None:
        return await dataset_rdf(session, request, dataset, rdf_format)
    response.headers["ETag"] = etag(dataset.version)
    response.headers["Vary"] = "Accept"
    return DatasetRead.model_validate(dataset)


async def _lock_for_edit(
    session: AsyncSession, user: User, dataset_id: uuid.UUID, if_match: str | None
) -> Dataset:
    """The dataset locked for an edit by `user`: 428/412 on If-Match, 403 without the role."""
    version = required_version(if_match)
    dataset = await service.lock_dataset(session, user, dataset_id)
    ensure_org_role(user, dataset.organization_siret, Role.EDITOR)
    service.check_version(dataset, version)
    return dataset


@router.put("/{dataset_id}", response_model=DatasetRead)
async def replace_dataset(
    dataset_id: uuid.UUID,
    data: DatasetReplace,
    response: Response,
    session: DbSession,
    user: OrgEditor,
    if_match: IfMatch = None,
) -> DatasetRead:
    """Replace every field. Requires `If-Match`; 412 if the dataset changed meanwhile."""
    dataset = await _lock_for_edit(session, user, dataset_id, if_match)
    if data.organization_siret not in (None, dataset.organization_siret):
        raise ValidationFailed(
            [FieldError("organization_siret", "a dataset cannot move to another organization")]
        )
    dataset = await service.replace_dataset(session, user, dataset, data)
    await session.commit()
    response.headers["ETag"] = etag(dataset.version)
    return DatasetRead.model_validate(dataset)


@router.patch("/{dataset_id}", response_model=DatasetRead)
async def patch_dataset(
    dataset_id: uuid.UUID,
    patch: DatasetPatch,
    response: Response,
    session: DbSession,
    user: OrgEditor,
    if_match: IfMatch = None,
) -> DatasetRead:
    """Change the fields given. Requires `If-Match`; 412 if the dataset changed meanwhile."""
    dataset = await _lock_for_edit(session, user, dataset_id, if_match)
    dataset = await service.replace_dataset(
        session, user, dataset, service.merge_patch(dataset, patch)
    )
    await session.commit()
    response.headers["ETag"] = etag(dataset.version)
    return DatasetRead.model_validate(dataset)


@router.delete("/{dataset_id}", status_code=204)
async def delete_dataset(
    dataset_id: uuid.UUID, session: DbSession, user: OrgManager, if_match: IfMatch = None
) -> Response:
    """Delete (managers and admins). `If-Match` is optional; when given it is checked."""
    version = optional_version(if_match)
    dataset = await service.lock_dataset(session, user, dataset_id)
    ensure_org_role(user, dataset.organization_siret, Role.MANAGER)
    if version is not None:
        service.check_version(dataset, version)
    await service.delete_dataset(session, user, dataset)
    await session.commit()
    return Response(status_code=204)


@router.get("/{dataset_id}/history", response_model=list[HistoryEntryRead])
async def dataset_history(
    dataset_id: uuid.UUID, session: DbSession, user: AnyCaller
) -> list[HistoryEntryRead]:
    """Changes, oldest first. Actors are named to the organization's members only."""
    dataset = await service.get_dataset(session, user, dataset_id)
    show_actor = user is not None and (
        user.is_admin or user.role_in(dataset.organization_siret) is not None
    )
    return [
        HistoryEntryRead(
            at=entry.at,
            action=entry.action,
            actor=HistoryActor(id=entry.actor_id, name=name)
            if show_actor and entry.actor_id and name
            else None,
            changes=entry.changes,
        )
        for entry, name in await history.entries(session, "dataset", str(dataset.id))
    ]
