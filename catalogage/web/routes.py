"""HTML pages: home, search, dataset pages and forms, language switch, footer pages.

The pages live under French paths that the JSON API does not use. Every route
declares its access level like the API's (`AnyCaller`, `OrgEditor`...), and unsafe
requests need the session's CSRF token (`csrf_protect`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import AnyCaller, OrgEditor, OrgManager, ensure_org_role
from catalogage.accounts.models import Role, User
from catalogage.catalogs.models import ExtraField
from catalogage.catalogs.service import get_catalog
from catalogage.datasets import service as datasets
from catalogage.datasets.models import Dataset
from catalogage.datasets.schemas import DatasetCreate, DatasetReplace
from catalogage.dependencies import DbSession
from catalogage.errors import NotFound, PreconditionFailed, ValidationFailed
from catalogage.history import service as history
from catalogage.organizations import service as organizations
from catalogage.organizations.models import Organization
from catalogage.vocabularies import service as vocabularies
from catalogage.vocabularies.frequencies import FREQUENCIES, UpdateFrequency
from catalogage.vocabularies.models import Tag
from catalogage.web import forms, labels
from catalogage.web.errors import HtmlRoute
from catalogage.web.exports import DATASET_EXPORTS, export_links
from catalogage.web.fulltext import FullTextSearch
from catalogage.web.i18n import LANGUAGE_COOKIE, LANGUAGES, N_, _, language_of
from catalogage.web.jsonld import dataset_json_ld
from catalogage.web.rendering import render
from catalogage.web.search import FILTERS, Facet, SearchQuery, recent
from catalogage.web.sessions import csrf_protect, flash

router = APIRouter(
    route_class=HtmlRoute, dependencies=[Depends(csrf_protect)], include_in_schema=False
)

PageNumber = Annotated[int, Query(ge=1, le=10_000)]


def can_edit(user: User | None, siret: str) -> bool:
    return user is not None and (user.is_admin or user.role_in(siret) is not None)


def can_manage(user: User | None, siret: str) -> bool:
    return user is not None and (user.is_admin or user.role_in(siret) is Role.MANAGER)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (never another host: no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/")
async def home(request: Request, session: DbSession, user: AnyCaller) -> Response:
    catalogs = await organizations.list_organizations(session, user)
    latest = await recent(session, user, 6)
    figures = {
        "datasets": sum(count for _, count in catalogs),
        "organizations": len(catalogs),
        "keywords": await session.scalar(select(func.count()).select_from(Tag)) or 0,
        "formats": len(await vocabularies.list_formats(session)),
    }
    return render(
        request,
        "home.html",
        {"catalogs": catalogs, "recent": latest, "figures": figures},
        user=user,
    )


@router.get("/recherche")
async def search_page(
    request: Request,
    session: DbSession,
    user: AnyCaller,
    q: Annotated[str, Query(max_length=200)] = "",
    tri: str = "",
    page: PageNumber = 1,
) -> Response:
    """Search; each filter of `search.FILTERS` is a repeatable URL parameter."""
    filters = {
        param: values[:50]
        for param in FILTERS
        if (values := [v for v in request.query_params.getlist(param) if v])
    }
    if user is None:
        filters.pop("visibilite", None)
    query = SearchQuery(text=q.strip(), filters=filters, sort=tri, page=page)
    results = await FullTextSearch(request.app.state.search_cache).search(session, user, query)
    _label_facets(request, results.facets)
    sort = tri if tri in results.sorts else results.sorts[0]
    last_page = max(1, -(-results.total // query.page_size))
    return render(
        request,
        "search.html",
        {
            "query": query,
            "results": results,
            "sort": sort,
            "page": page,
            "last_page": last_page,
            "filtered": bool(filters),
        },
        user=user,
    )


def _label_facets(request: Request, facets: dict[str, Facet]) -> None:
    """Readable labels, in the page's language, for values that are codes."""
    english = language_of(request) == "en"
    for item in facets.get("visibilite", Facet("visibilite", [])).values:
        if item.value in labels.VISIBILITY:
            item.label = _(request, labels.VISIBILITY[item.value])
    for item in facets.get("frequence", Facet("frequence", [])).values:
        if item.value in {code.value for code in UpdateFrequency}:
            info = FREQUENCIES[UpdateFrequency(item.value)]
            item.label = info.label_en if english else info.label_fr


async def _dataset_context(
    session: AsyncSession, user: User | None, dataset: Dataset
) -> dict[str, Any]:
    catalog = await get_catalog(session, dataset.organization_siret)
    show_actor = can_edit(user, dataset.organization_siret)
    entries = [
        {
            "at": entry.at,
            "action": entry.action,
            "actor": name if show_actor else None,
            "fields": sorted({name_.split(".")[0] for name_ in entry.changes}),
        }
        for entry, name in await history.entries(session, "dataset", str(dataset.id))
    ]
    entries.reverse()
    return {"catalog": catalog, "history": entries}


@router.get("/jeux-de-donnees/nouveau")
async def new_dataset_form(
    request: Request,
    session: DbSession,
    user: OrgEditor,
    organisation: str = "",
    choisir: bool = False,
) -> Response:
    choices = await _writable_organizations(session, user)
    if not choices:
        ensure_org_role(user, organisation or "-", Role.EDITOR)
    if choisir or (not organisation and len(choices) > 1):
        return render(request, "choose_organization.html", {"choices": choices}, user=user)
    siret = organisation or choices[0].siret
    ensure_org_role(user, siret, Role.EDITOR)
    catalog = await get_catalog(session, siret)
    return await _render_form(
        request,
        session,
        user,
        organization=await organizations.get_organization(session, siret),
        choices=choices,
        state=forms.dataset_state_from_record({"visibility": "draft"}),
        definitions=catalog.extra_fields,
    )


async def _writable_organizations(session: AsyncSession, user: User) -> list[Organization]:
    result = await session.scalars(select(Organization).order_by(Organization.name))
    return [o for o in result.all() if can_edit(user, o.siret)]


async def _render_form(
    request: Request,
    session: AsyncSession,
    user: User,
    *,
    organization: Organization,
    state: dict[str, Any],
    definitions: Sequence[ExtraField],
    dataset: Dataset | None = None,
    version: int | None = None,
    choices: list[Organization] | None = None,
    errors: dict[str, str] | None = None,
    conflict: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    field_labels = {name: _(request, label) for name, label in labels.DATASET_FIELDS.items()}
    field_labels.update({f"extra.{field.name}": field.label for field in definitions})
    frequencies = [
        (code.value, info.label_fr if language == "fr" else info.label_en)
        for code, info in FREQUENCIES.items()
    ]
    return render(
        request,
        "dataset_form.html",
        {
            "organization": organization,
            "choices": choices or [],
            "dataset": dataset,
            "version": version,
            "state": state,
            "definitions": definitions,
            "errors": errors or {},
            "conflict": conflict,
            "formats": await vocabularies.list_formats(session),
            "licenses": await vocabularies.list_licenses(session),
            "frequencies": frequencies,
            "field_labels": field_labels,
        },
        user=user,
        status_code=status_code,
    )


@router.post("/jeux-de-donnees/nouveau")
async def create_dataset(request: Request, session: DbSession, user: OrgEditor) -> Response:
    form = await request.form()
    siret = forms.text(form, "organization_siret")
    ensure_org_role(user, siret, Role.EDITOR)
    organization = await organizations.get_organization(session, siret)
    catalog = await get_catalog(session, siret)
    values = forms.dataset_values(form, catalog.extra_fields)
    errors: dict[str, str] = {}
    try:
        data = DatasetCreate.model_validate({**values, "organization_siret": siret})
        dataset = await datasets.create_dataset(session, user, siret, data)
    except ValidationError as exc:
        errors = forms.model_errors(request, exc)
    except ValidationFailed as exc:
        errors = forms.field_errors(request, exc.fields)
    if errors:
        return await _render_form(
            request,
            session,
            user,
            organization=organization,
            choices=await _writable_organizations(session, user),
            state=forms.dataset_form_state(form, catalog.extra_fields),
            definitions=catalog.extra_fields,
            errors=errors,
            status_code=422,
        )
    await session.commit()
    flash(request, _(request, N_("Le jeu de données a été créé.")))
    return redirect(f"/jeux-de-donnees/{dataset.id}")


@router.get("/jeux-de-donnees/{dataset_id}")
async def dataset_page(
    dataset_id: uuid.UUID, request: Request, session: DbSession, user: AnyCaller
) -> Response:
    dataset = await datasets.get_dataset(session, user, dataset_id)
    context = await _dataset_context(session, user, dataset)
    language = language_of(request)
    frequency = (
        FREQUENCIES.get(UpdateFrequency(dataset.update_frequency))
        if dataset.update_frequency
        else None
    )
    return render(
        request,
        "dataset.html",
        {
            "dataset": dataset,
            "frequency": (frequency.label_fr if language == "fr" else frequency.label_en)
            if frequency
            else None,
            "json_ld_data": dataset_json_ld(request, dataset),
            "exports": export_links(request, DATASET_EXPORTS, dataset_id=dataset.id),
            "can_edit": can_edit(user, dataset.organization_siret),
            "can_manage": can_manage(user, dataset.organization_siret),
            **context,
        },
        user=user,
    )


@router.get("/jeux-de-donnees/{dataset_id}/modifier")
async def edit_dataset_form(
    dataset_id: uuid.UUID, request: Request, session: DbSession, user: OrgEditor
) -> Response:
    dataset = await datasets.get_dataset(session, user, dataset_id)
    ensure_org_role(user, dataset.organization_siret, Role.EDITOR)
    catalog = await get_catalog(session, dataset.organization_siret)
    return await _render_form(
        request,
        session,
        user,
        organization=dataset.organization,
        dataset=dataset,
        version=dataset.version,
        state=forms.dataset_state_from_record(datasets.snapshot(dataset)),
        definitions=catalog.extra_fields,
    )


@router.post("/jeux-de-donnees/{dataset_id}/modifier")
async def edit_dataset(
    dataset_id: uuid.UUID, request: Request, session: DbSession, user: OrgEditor
) -> Response:
    form = await request.form()
    dataset = await datasets.lock_dataset(session, user, dataset_id)
    ensure_org_role(user, dataset.organization_siret, Role.EDITOR)
    catalog = await get_catalog(session, dataset.organization_siret)
    values = forms.dataset_values(form, catalog.extra_fields)
    # Checkboxes come back in the list's order: keep the record's own order.
    stored = list(dataset.formats)
    values["formats"].sort(key=lambda f: stored.index(f) if f in stored else len(stored))
    state = forms.dataset_form_state(form, catalog.extra_fields)
    errors: dict[str, str] = {}
    conflict: list[str] | None = None
    try:
        edited_version = int(forms.text(form, "version"))
    except ValueError:
        edited_version = -1
    try:
        datasets.check_version(dataset, edited_version)
        data = DatasetReplace.model_validate(values)
        dataset = await datasets.replace_dataset(session, user, dataset, data)
    except PreconditionFailed:
        conflict = _differing_fields(datasets.snapshot(dataset), values)
    except ValidationError as exc:
        errors = forms.model_errors(request, exc)
    except ValidationFailed as exc:
        errors = forms.field_errors(request, exc.fields)
    if conflict is not None or errors:
        # Nothing was written (the request's transaction is not committed). After a
        # conflict the form carries the current version: submitting it again
        # deliberately replaces the other person's changes with the ones shown.
        return await _render_form(
            request,
            session,
            user,
            organization=dataset.organization,
            dataset=dataset,
            version=dataset.version if conflict is not None else edited_version,
            state=state,
            definitions=catalog.extra_fields,
            errors=errors,
            conflict=conflict,
            status_code=409 if conflict is not None else 422,
        )
    await session.commit()
    flash(request, _(request, N_("Vos modifications ont été enregistrées.")))
    return redirect(f"/jeux-de-donnees/{dataset.id}")


def _differing_fields(stored: dict[str, Any], submitted: dict[str, Any]) -> list[str]:
    """Fields whose stored value differs from what the user submitted."""
    differing = []
    for name in labels.DATASET_FIELDS:
        if name not in stored:
            continue
        before, after = stored.get(name), submitted.get(name)
        if name == "extra_fields":
            after = {k: v for k, v in (after or {}).items() if v is not None}
        if (before or None) != (after or None):
            differing.append(name)
    return differing


@router.get("/jeux-de-donnees/{dataset_id}/supprimer")
async def delete_dataset_form(
    dataset_id: uuid.UUID, request: Request, session: DbSession, user: OrgManager
) -> Response:
    dataset = await datasets.get_dataset(session, user, dataset_id)
    ensure_org_role(user, dataset.organization_siret, Role.MANAGER)
    return render(request, "dataset_delete.html", {"dataset": dataset}, user=user)


@router.post("/jeux-de-donnees/{dataset_id}/supprimer")
async def delete_dataset(
    dataset_id: uuid.UUID, request: Request, session: DbSession, user: OrgManager
) -> Response:
    dataset = await datasets.lock_dataset(session, user, dataset_id)
    ensure_org_role(user, dataset.organization_siret, Role.MANAGER)
    siret = dataset.organization_siret
    await datasets.delete_dataset(session, user, dataset)
    await session.commit()
    flash(request, _(request, N_("Le jeu de données a été supprimé.")))
    return redirect(f"/organisations/{siret}")


@router.get("/langue/{code}")
async def switch_language(
    code: str, request: Request, user: AnyCaller, suivant: str = "/"
) -> Response:
    if code not in LANGUAGES:
        raise NotFound("Unknown language")
    response = redirect(local_path(suivant))
    settings = request.app.state.settings
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


@router.get("/mentions-legales")
async def legal_notice(request: Request, user: AnyCaller) -> Response:
    return render(request, "legal.html", user=user)


@router.get("/accessibilite")
async def accessibility(request: Request, user: AnyCaller) -> Response:
    return render(request, "accessibility.html", user=user)
