"""JSON API for catalogs: `/catalogs/{siret}` and its extra field definitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalogage.accounts.auth import AnyCaller, OrgEditor, OrgManager, ensure_org_role
from catalogage.accounts.models import Role
from catalogage.catalogs import service
from catalogage.catalogs.models import Catalog
from catalogage.catalogs.schemas import CatalogRead, ExtraFieldRead, ExtraFieldsReplace
from catalogage.dependencies import DbSession
from catalogage.history import service as history
from catalogage.history.schemas import HistoryActor, HistoryEntryRead
from catalogage.organizations.schemas import OrganizationRef
from catalogage.organizations.service import get_organization

router = APIRouter(prefix="/catalogs", tags=["catalogs"])


async def _read(session: DbSession, catalog: Catalog) -> CatalogRead:
    organization = await get_organization(session, catalog.organization_siret)
    return CatalogRead(
        organization=OrganizationRef.model_validate(organization),
        extra_fields=[ExtraFieldRead.model_validate(field) for field in catalog.extra_fields],
    )


@router.get("/{siret}", response_model=CatalogRead)
async def get_catalog(siret: str, session: DbSession, user: AnyCaller) -> CatalogRead:
    return await _read(session, await service.get_catalog(session, siret))


@router.put("/{siret}/extra-fields", response_model=CatalogRead)
async def replace_extra_fields(
    siret: str,
    data: ExtraFieldsReplace,
    session: DbSession,
    user: OrgManager,
    force: Annotated[
        bool, Query(description="Apply a change that invalidates existing values")
    ] = False,
) -> CatalogRead:
    """Replace the catalog's extra fields (managers, admins). Narrowing changes that
    affect existing values answer 409 unless `force=true`."""
    ensure_org_role(user, siret, Role.MANAGER)
    catalog = await service.replace_extra_fields(
        session, user, siret, data.extra_fields, force=force
    )
    await session.commit()
    return await _read(session, catalog)


@router.get("/{siret}/history", response_model=list[HistoryEntryRead])
async def catalog_history(
    siret: str, session: DbSession, user: OrgEditor
) -> list[HistoryEntryRead]:
    """Changes of the extra field definitions (members of the organization, admins)."""
    ensure_org_role(user, siret, Role.EDITOR)
    await service.get_catalog(session, siret)
    return [
        HistoryEntryRead(
            at=entry.at,
            action=entry.action,
            actor=HistoryActor(id=entry.actor_id, name=name) if entry.actor_id and name else None,
            changes=entry.changes,
        )
        for entry, name in await history.entries(session, "catalog", siret)
    ]
