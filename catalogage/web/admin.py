"""Administration pages (admins only): organizations, users and memberships, vocabularies."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from catalogage.accounts import service as accounts
from catalogage.accounts.auth import Admin
from catalogage.accounts.models import Role
from catalogage.accounts.schemas import UserCreate
from catalogage.dependencies import DbSession
from catalogage.errors import AppError
from catalogage.organizations import service as organizations
from catalogage.organizations.schemas import OrganizationCreate
from catalogage.vocabularies import service as vocabularies
from catalogage.vocabularies.routes import FormatCreate, LicenseCreate
from catalogage.web import forms
from catalogage.web.errors import HtmlRoute
from catalogage.web.i18n import N_, _
from catalogage.web.rendering import render
from catalogage.web.routes import redirect
from catalogage.web.sessions import csrf_protect, flash

router = APIRouter(
    prefix="/admin",
    route_class=HtmlRoute,
    dependencies=[Depends(csrf_protect)],
    include_in_schema=False,
)


@router.get("/")
async def admin_home(request: Request, user: Admin) -> Response:
    return render(request, "admin/index.html", user=user)


async def _organizations_page(
    request: Request,
    session: DbSession,
    user: Admin,
    state: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/organizations.html",
        {
            "organizations": await organizations.list_organizations(session, user),
            "state": state or {},
            "errors": errors or {},
        },
        user=user,
        status_code=status_code,
    )


@router.get("/organisations")
async def admin_organizations(request: Request, session: DbSession, user: Admin) -> Response:
    return await _organizations_page(request, session, user)


@router.post("/organisations")
async def create_organization(request: Request, session: DbSession, user: Admin) -> Response:
    form = await request.form()
    state = {name: forms.text(form, name) for name in ("siret", "name", "alternative_id")}
    with forms.FormErrors(request) as errors:
        data = OrganizationCreate.model_validate(
            {**state, "alternative_id": state["alternative_id"] or None}
        )
        await organizations.create_organization(session, data)
    if not errors.fields:
        await session.commit()
        flash(request, _(request, N_("L’organisation a été créée.")))
        return redirect("/admin/organisations")
    return await _organizations_page(request, session, user, state, errors.fields, status_code=422)


async def _users_page(
    request: Request,
    session: DbSession,
    user: Admin,
    *,
    state: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    member_state: dict[str, str] | None = None,
    member_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    orgs = await organizations.list_organizations(session, user)
    return render(
        request,
        "admin/users.html",
        {
            "users": await accounts.list_users(session),
            "organization_options": [(o.siret, o.name) for o, _count in orgs],
            "names": {o.siret: o.name for o, _count in orgs},
            "state": state or {},
            "errors": errors or {},
            "member_state": member_state or {"role": "editor"},
            "member_errors": member_errors or {},
        },
        user=user,
        status_code=status_code,
    )


@router.get("/utilisateurs")
async def admin_users(request: Request, session: DbSession, user: Admin) -> Response:
    return await _users_page(request, session, user)


@router.post("/utilisateurs")
async def create_user(request: Request, session: DbSession, user: Admin) -> Response:
    form = await request.form()
    state: dict[str, Any] = {name: forms.text(form, name) for name in ("email", "name")}
    state["is_admin"] = form.get("is_admin") == "true"
    with forms.FormErrors(request) as errors:
        data = UserCreate.model_validate({**state, "password": str(form.get("password", ""))})
        await accounts.create_user(
            session,
            email=data.email,
            name=data.name,
            password=data.password,
            is_admin=data.is_admin,
        )
    if not errors.fields:
        await session.commit()
        flash(request, _(request, N_("Le compte a été créé.")))
        return redirect("/admin/utilisateurs")
    if "password" in errors.fields:
        errors.fields["password"] = _(
            request, N_("Le mot de passe doit compter au moins 10 caractères.")
        )
    return await _users_page(
        request, session, user, state=state, errors=errors.fields, status_code=422
    )


@router.post("/utilisateurs/{user_id}/activation")
async def toggle_user(
    user_id: uuid.UUID, request: Request, session: DbSession, user: Admin
) -> Response:
    target = await accounts.get_user(session, user_id)
    if target.id == user.id:
        flash(
            request, _(request, N_("Vous ne pouvez pas désactiver votre propre compte.")), "error"
        )
        return redirect("/admin/utilisateurs")
    target.is_active = not target.is_active
    await session.commit()
    message = (
        N_("Le compte a été réactivé.") if target.is_active else N_("Le compte a été désactivé.")
    )
    flash(request, _(request, message))
    return redirect("/admin/utilisateurs")


@router.post("/membres")
async def set_membership(request: Request, session: DbSession, user: Admin) -> Response:
    form = await request.form()
    state = {name: forms.text(form, name) for name in ("email", "siret", "role")}
    try:
        role = Role(state["role"])
    except ValueError:
        role = None
    errors: dict[str, str] = {}
    if role is None:
        errors["role"] = _(request, N_("Choisissez une des valeurs proposées."))
    else:
        try:
            await accounts.set_membership(session, state["siret"], state["email"], role)
        except AppError as exc:
            errors = forms.field_errors(request, exc.fields) or {
                "siret": _(request, N_("Choisissez une des valeurs proposées."))
            }
    if not errors:
        await session.commit()
        flash(request, _(request, N_("Le membre a été enregistré.")))
        return redirect("/admin/utilisateurs")
    return await _users_page(
        request, session, user, member_state=state, member_errors=errors, status_code=422
    )


async def _vocabularies_page(
    request: Request,
    session: DbSession,
    user: Admin,
    *,
    format_state: dict[str, str] | None = None,
    format_errors: dict[str, str] | None = None,
    license_state: dict[str, Any] | None = None,
    license_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/vocabularies.html",
        {
            "formats": await vocabularies.list_formats(session),
            "licenses": await vocabularies.list_licenses(session),
            "format_state": format_state or {},
            "format_errors": format_errors or {},
            "license_state": license_state or {"is_open": True},
            "license_errors": license_errors or {},
        },
        user=user,
        status_code=status_code,
    )


@router.get("/vocabulaires")
async def admin_vocabularies(request: Request, session: DbSession, user: Admin) -> Response:
    return await _vocabularies_page(request, session, user)


@router.post("/formats")
async def add_format(request: Request, session: DbSession, user: Admin) -> Response:
    form = await request.form()
    state = {name: forms.text(form, name) for name in ("name", "eu_file_type")}
    with forms.FormErrors(request) as errors:
        data = FormatCreate.model_validate(
            {"name": state["name"], "eu_file_type": state["eu_file_type"] or None}
        )
        await vocabularies.add_format(session, data.name, data.eu_file_type)
    if not errors.fields:
        await session.commit()
        flash(request, _(request, N_("Le format a été ajouté.")))
        return redirect("/admin/vocabulaires")
    return await _vocabularies_page(
        request, session, user, format_state=state, format_errors=errors.fields, status_code=422
    )


@router.post("/licences")
async def add_license(request: Request, session: DbSession, user: Admin) -> Response:
    form = await request.form()
    state: dict[str, Any] = {name: forms.text(form, name) for name in ("name", "url")}
    state["is_open"] = form.get("is_open") == "true"
    with forms.FormErrors(request) as errors:
        data = LicenseCreate.model_validate({**state, "url": state["url"] or None})
        await vocabularies.add_license(session, data.name, data.url, data.is_open)
    if not errors.fields:
        await session.commit()
        flash(request, _(request, N_("La licence a été ajoutée.")))
        return redirect("/admin/vocabulaires")
    return await _vocabularies_page(
        request, session, user, license_state=state, license_errors=errors.fields, status_code=422
    )
