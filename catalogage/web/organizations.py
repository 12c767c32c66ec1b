"""Organization (catalog) pages: datasets, extra field definitions, members."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from catalogage.accounts import service as accounts
from catalogage.accounts.auth import AnyCaller, OrgManager, ensure_org_role
from catalogage.accounts.models import Role, User
from catalogage.catalogs import service as catalogs
from catalogage.catalogs.schemas import ExtraFieldDefinition, ExtraFieldRead
from catalogage.datasets import service as datasets
from catalogage.dependencies import DbSession
from catalogage.errors import Conflict, NotFound, ValidationFailed
from catalogage.organizations import service as organizations
from catalogage.organizations.routes import MemberSet
from catalogage.web import forms
from catalogage.web.errors import HtmlRoute
from catalogage.web.exports import CATALOG_EXPORTS, export_links
from catalogage.web.i18n import N_, _
from catalogage.web.rendering import render
from catalogage.web.routes import can_edit, can_manage, redirect
from catalogage.web.sessions import csrf_protect, flash

router = APIRouter(
    route_class=HtmlRoute, dependencies=[Depends(csrf_protect)], include_in_schema=False
)
PAGE_SIZE = 20


async def _page(
    request: Request,
    session: DbSession,
    user: User | None,
    siret: str,
    *,
    page: int = 1,
    field_state: dict[str, Any] | None = None,
    field_errors: dict[str, str] | None = None,
    conflict: list[str] | None = None,
    conflict_action: str | None = None,
    member_state: dict[str, str] | None = None,
    member_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    organization = await organizations.get_organization(session, siret)
    catalog = await catalogs.get_catalog(session, siret)
    items, total = await datasets.list_datasets(
        session,
        user,
        datasets.DatasetFilters(organizations=[siret]),
        sort=datasets.Sort.UPDATED_DESC,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    manager = can_manage(user, siret)
    return render(
        request,
        "organization.html",
        {
            "organization": organization,
            "catalog": catalog,
            "datasets": items,
            "total": total,
            "page": page,
            "last_page": max(1, -(-total // PAGE_SIZE)),
            "exports": export_links(request, CATALOG_EXPORTS, siret=siret),
            "can_edit": can_edit(user, siret),
            "can_manage": manager,
            "members": await accounts.list_members(session, siret) if manager else [],
            "field_state": field_state or {"type": "text"},
            "field_errors": field_errors or {},
            "conflict": conflict,
            "conflict_action": conflict_action,
            "member_state": member_state or {"role": "editor"},
            "member_errors": member_errors or {},
        },
        user=user,
        status_code=status_code,
    )


@router.get("/organisations/{siret}")
async def organization_page(
    siret: str,
    request: Request,
    session: DbSession,
    user: AnyCaller,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    return await _page(request, session, user, siret, page=page)


def _definitions(fields: Any) -> list[ExtraFieldDefinition]:
    return [
        ExtraFieldDefinition.model_validate(ExtraFieldRead.model_validate(f).model_dump())
        for f in fields
    ]


async def _replace_fields(
    request: Request,
    session: DbSession,
    user: User,
    siret: str,
    definitions: list[ExtraFieldDefinition],
    *,
    force: bool,
    state: dict[str, Any] | None = None,
    action: str | None = None,
) -> Response:
    try:
        await catalogs.replace_extra_fields(session, user, siret, definitions, force=force)
    except Conflict as exc:
        messages = [
            f"{e['field'].removeprefix('extra_fields.')} : {e['message']}" for e in exc.fields or []
        ]
        return await _page(
            request,
            session,
            user,
            siret,
            field_state=state,
            conflict=messages,
            conflict_action=action,
            status_code=409,
        )
    except ValidationFailed as exc:
        errors = forms.field_errors(request, exc.fields)
        return await _page(
            request, session, user, siret, field_state=state, field_errors=errors, status_code=422
        )
    await session.commit()
    flash(request, _(request, N_("Les champs complémentaires ont été enregistrés.")))
    return redirect(f"/organisations/{siret}#champs")


@router.post("/organisations/{siret}/champs")
async def add_extra_field(
    siret: str, request: Request, session: DbSession, user: OrgManager
) -> Response:
    ensure_org_role(user, siret, Role.MANAGER)
    catalog = await catalogs.get_catalog(session, siret)
    form = await request.form()
    state = {name: forms.text(form, name) for name in ("name", "label", "hint", "type", "choices")}
    state["required"] = "true" if form.get("required") else ""
    try:
        definition = ExtraFieldDefinition.model_validate(
            {
                "name": state["name"],
                "label": state["label"],
                "hint": state["hint"],
                "type": state["type"],
                "choices": forms.split_list(state["choices"]) if state["type"] == "enum" else [],
                "required": bool(state["required"]),
            }
        )
    except ValidationError as exc:
        return await _page(
            request,
            session,
            user,
            siret,
            field_state=state,
            field_errors=forms.model_errors(request, exc),
            status_code=422,
        )
    if any(field.name == definition.name for field in catalog.extra_fields):
        errors = {"name": _(request, N_("Un champ porte déjà ce nom."))}
        return await _page(
            request, session, user, siret, field_state=state, field_errors=errors, status_code=422
        )
    definitions = [*_definitions(catalog.extra_fields), definition]
    return await _replace_fields(
        request, session, user, siret, definitions, force=False, state=state
    )


@router.post("/organisations/{siret}/champs/{name}/supprimer")
async def remove_extra_field(
    siret: str, name: str, request: Request, session: DbSession, user: OrgManager
) -> Response:
    ensure_org_role(user, siret, Role.MANAGER)
    catalog = await catalogs.get_catalog(session, siret)
    if not any(field.name == name for field in catalog.extra_fields):
        raise NotFound("Extra field not found")
    form = await request.form()
    definitions = [d for d in _definitions(catalog.extra_fields) if d.name != name]
    return await _replace_fields(
        request,
        session,
        user,
        siret,
        definitions,
        force=form.get("force") == "true",
        action=f"/organisations/{siret}/champs/{name}/supprimer",
    )


@router.post("/organisations/{siret}/membres")
async def set_member(
    siret: str, request: Request, session: DbSession, user: OrgManager
) -> Response:
    ensure_org_role(user, siret, Role.MANAGER)
    form = await request.form()
    state = {"email": forms.text(form, "email"), "role": forms.text(form, "role")}
    with forms.FormErrors(request, kinds=(NotFound,)) as errors:
        data = MemberSet.model_validate(state)
        await accounts.set_membership(session, siret, data.email, data.role)
    if not errors.fields:
        await session.commit()
        flash(request, _(request, N_("Le membre a été enregistré.")))
        return redirect(f"/organisations/{siret}#membres")
    return await _page(
        request,
        session,
        user,
        siret,
        member_state=state,
        member_errors=errors.fields,
        status_code=422,
    )


@router.post("/organisations/{siret}/membres/{user_id}/retirer")
async def remove_member(
    siret: str, user_id: uuid.UUID, request: Request, session: DbSession, user: OrgManager
) -> Response:
    ensure_org_role(user, siret, Role.MANAGER)
    await accounts.remove_membership(session, siret, user_id)
    await session.commit()
    flash(request, _(request, N_("Le membre a été retiré de l’organisation.")))
    return redirect(f"/organisations/{siret}#membres")
