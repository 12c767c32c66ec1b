"""JSON API for organizations and their members: `/organizations/`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import EmailStr

from catalogage.accounts import service as accounts
from catalogage.accounts.auth import Admin, AnyCaller, OrgManager, ensure_org_role
from catalogage.accounts.models import Role
from catalogage.dependencies import DbSession
from catalogage.organizations import service
from catalogage.organizations.schemas import (
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)
from catalogage.schemas import Input, Output

router = APIRouter(prefix="/organizations", tags=["organizations"])


class MemberSet(Input):
    email: EmailStr
    role: Role


class MemberRead(Output):
    user_id: uuid.UUID
    email: str
    name: str
    role: Role


@router.get("/", response_model=list[OrganizationRead])
async def list_organizations(session: DbSession, user: AnyCaller) -> list[OrganizationRead]:
    return [
        OrganizationRead.model_validate(organization).model_copy(update={"dataset_count": count})
        for organization, count in await service.list_organizations(session, user)
    ]


@router.post("/", status_code=201, response_model=OrganizationRead)
async def create_organization(
    data: OrganizationCreate, session: DbSession, user: Admin
) -> OrganizationRead:
    """Create an organization and its (empty) catalog. Admins only."""
    organization = await service.create_organization(session, data)
    await session.commit()
    return OrganizationRead.model_validate(organization)


@router.get("/{siret}", response_model=OrganizationRead)
async def get_organization(siret: str, session: DbSession, user: AnyCaller) -> OrganizationRead:
    organization = await service.get_organization(session, siret)
    count = await service.count_visible_datasets(session, user, siret)
    return OrganizationRead.model_validate(organization).model_copy(update={"dataset_count": count})


@router.patch("/{siret}", response_model=OrganizationRead)
async def update_organization(
    siret: str, data: OrganizationUpdate, session: DbSession, user: OrgManager
) -> OrganizationRead:
    ensure_org_role(user, siret, Role.MANAGER)
    organization = await service.get_organization(session, siret)
    organization = await service.update_organization(session, organization, data)
    await session.commit()
    return OrganizationRead.model_validate(organization)


@router.get("/{siret}/members", response_model=list[MemberRead])
async def list_members(siret: str, session: DbSession, user: OrgManager) -> list[MemberRead]:
    ensure_org_role(user, siret, Role.MANAGER)
    await service.get_organization(session, siret)
    return [
        MemberRead(user_id=member.id, email=member.email, name=member.name, role=membership.role)
        for membership, member in await accounts.list_members(session, siret)
    ]


@router.post("/{siret}/members", response_model=MemberRead)
async def set_member(
    siret: str, data: MemberSet, session: DbSession, user: OrgManager
) -> MemberRead:
    """Add a user (by email) to the organization, or change their role."""
    ensure_org_role(user, siret, Role.MANAGER)
    membership = await accounts.set_membership(session, siret, data.email, data.role)
    member = await accounts.get_user(session, membership.user_id)
    await session.commit()
    return MemberRead(
        user_id=member.id, email=member.email, name=member.name, role=Role(membership.role)
    )


@router.delete("/{siret}/members/{user_id}", status_code=204)
async def remove_member(
    siret: str, user_id: uuid.UUID, session: DbSession, user: OrgManager
) -> Response:
    ensure_org_role(user, siret, Role.MANAGER)
    await accounts.remove_membership(session, siret, user_id)
    await session.commit()
    return Response(status_code=204)
