"""Creating, listing and editing organizations (each with its catalog)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import visible_organizations
from catalogage.accounts.models import User
from catalogage.catalogs.models import Catalog
from catalogage.datasets.models import Dataset
from catalogage.datasets.visibility import visible_to
from catalogage.errors import Conflict, FieldError, NotFound
from catalogage.organizations.models import Organization
from catalogage.organizations.schemas import OrganizationCreate, OrganizationUpdate


async def create_organization(session: AsyncSession, data: OrganizationCreate) -> Organization:
    if await session.get(Organization, data.siret) is not None:
        raise Conflict(
            "An organization with this SIRET already exists",
            fields=[FieldError("siret", "already registered")],
        )
    organization = Organization(**data.model_dump())
    session.add(organization)
    await session.flush()  # the catalog row references the organization row
    session.add(Catalog(organization_siret=organization.siret))
    await session.flush()
    return organization


async def get_organization(session: AsyncSession, siret: str) -> Organization:
    organization = await session.get(Organization, siret)
    if organization is None:
        raise NotFound("Organization not found")
    return organization


async def list_organizations(
    session: AsyncSession, viewer: User | None
) -> Sequence[tuple[Organization, int]]:
    """Every organization with the number of its datasets `viewer` may see."""
    counts = (
        select(Dataset.organization_siret, func.count().label("n"))
        .where(visible_to(visible_organizations(viewer)))
        .group_by(Dataset.organization_siret)
        .subquery()
    )
    rows = await session.execute(
        select(Organization, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organization_siret == Organization.siret)
        .order_by(Organization.name)
    )
    return [(organization, count) for organization, count in rows.all()]


async def count_visible_datasets(session: AsyncSession, viewer: User | None, siret: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Dataset)
        .where(Dataset.organization_siret == siret, visible_to(visible_organizations(viewer)))
    )
    return count or 0


async def update_organization(
    session: AsyncSession, organization: Organization, data: OrganizationUpdate
) -> Organization:
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(organization, name, value)
    await session.flush()
    return organization
