"""A read-only CKAN-compatible API under `/api/3/action/` (also `/api/action/`).

Tools built for CKAN (harvesters, `ckanapi`, portals) can read the catalog:
`status_show`, `site_read`, `package_list`, `package_show`, `package_search`,
`organization_list`, `organization_show`, `tag_list`. Actions accept GET query
parameters or a POST JSON body, as CKAN does. Answers use CKAN's envelope,
errors included (`{"success": false, "error": {"__type", "message"}}`): the
routes use `CkanRoute`, which turns every error into that shape instead of the
JSON API's.

A package's `name` is the dataset id; an organization's `name` is its SIRET.
Schema fields without a CKAN core equivalent travel in `extras` under their
schema-catalogue-donnees column names.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalogage import __version__
from catalogage.accounts.auth import AnyCaller, visible_organizations
from catalogage.datasets.models import Dataset
from catalogage.datasets.visibility import visible_to
from catalogage.dependencies import DbSession
from catalogage.errors import ERROR_RESPONSES, AppError, Forbidden, NotFound, Unauthorized
from catalogage.organizations.models import Organization
from catalogage.search import service as search
from catalogage.vocabularies.frequencies import FREQUENCIES, UpdateFrequency

logger = logging.getLogger("catalogage.interop.ckan")

MAX_ROWS = 1000
DEFAULT_ROWS = 10
FACET_FIELDS = {"organization", "tags", "res_format"}


class CkanError(Exception):
    """An error answered in CKAN's shape; `kind` is CKAN's `__type`."""

    def __init__(self, kind: str, message: str, status_code: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status_code = status_code


def validation_error(message: str) -> CkanError:
    return CkanError("Validation Error", message, 409)


def _help_url(request: Request) -> str:
    return str(request.url.replace(query=""))


def ckan_error_response(request: Request, error: CkanError) -> JSONResponse:
    return JSONResponse(
        {
            "help": _help_url(request),
            "success": False,
            "error": {"__type": error.kind, "message": f"{error.kind}: {error.message}"},
        },
        status_code=error.status_code,
    )


def _as_ckan_error(exc: Exception) -> CkanError | None:
    if isinstance(exc, CkanError):
        return exc
    if isinstance(exc, NotFound):
        return CkanError("Not Found Error", exc.message, 404)
    if isinstance(exc, Unauthorized | Forbidden):
        return CkanError("Authorization Error", exc.message, 403)
    if isinstance(exc, AppError):
        return CkanError("Validation Error", exc.message, 409)
    if isinstance(exc, RequestValidationError):
        return validation_error("; ".join(str(e.get("msg")) for e in exc.errors()))
    if isinstance(exc, StarletteHTTPException):
        return CkanError("Validation Error", str(exc.detail), exc.status_code)
    return None


class CkanRoute(APIRoute):
    """Answers errors raised by the view or its dependencies in CKAN's envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def ckan_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                error = _as_ckan_error(exc)
                if error is None:
                    logger.exception("unhandled error on %s %s", request.method, request.url.path)
                    error = CkanError("Internal Server Error", "Internal server error", 500)
                return ckan_error_response(request, error)

        return ckan_handler


class CkanErrorDetail(BaseModel):
    type: str = Field(alias="__type")
    message: str


class CkanErrorBody(BaseModel):
    """CKAN's error envelope, documented so that clients (and schemathesis) know it."""

    help: str
    success: bool
    error: CkanErrorDetail


#: The JSON API's error statuses, each answered in CKAN's envelope on these routes
#: (router-level responses override the app-wide `ERROR_RESPONSES` at include time).
CKAN_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": CkanErrorBody, "description": spec["description"]}
    for status, spec in ERROR_RESPONSES.items()
}

router = APIRouter(tags=["ckan"], route_class=CkanRoute, responses=CKAN_ERROR_RESPONSES)

View = Callable[..., Coroutine[Any, Any, JSONResponse]]


def action(name: str) -> Callable[[View], View]:
    """Serve a view as CKAN action `name`: GET and POST on `/api/3/action/{name}` (one
    OpenAPI operation each, with distinct ids), and on the unversioned `/api/action/`
    path that some clients use (left out of the OpenAPI document)."""

    def register(view: View) -> View:
        path = f"/api/3/action/{name}"
        for method in ("GET", "POST"):
            router.add_api_route(
                path, view, methods=[method], operation_id=f"ckan_{name}_{method.lower()}"
            )
        router.add_api_route(
            f"/api/action/{name}", view, methods=["GET", "POST"], include_in_schema=False
        )
        return view

    return register


async def action_params(request: Request) -> dict[str, Any]:
    """Query parameters, overridden by a JSON object body (what ckanapi POSTs)."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        if body.strip():
            try:
                payload = json.loads(body)
            except ValueError:
                raise validation_error("the request body is not JSON") from None
            if not isinstance(payload, dict):
                raise validation_error("the request body must be a JSON object")
            params.update(payload)
    return params


def envelope(request: Request, result: Any) -> JSONResponse:
    return JSONResponse({"help": _help_url(request), "success": True, "result": result})


def _int_param(params: dict[str, Any], name: str, default: int, maximum: int) -> int:
    value = params.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation_error(f"{name}: must be an integer") from None
    if number < 0:
        raise validation_error(f"{name}: must be a natural number")
    if number > maximum:
        raise validation_error(f"{name}: must be at most {maximum}")
    return number


def _bool_param(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"true", "1", "yes", "on"}


# -- dictionaries -------------------------------------------------------------------


def organization_dict(
    organization: Organization, package_count: int | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": organization.siret,
        "name": organization.siret,
        "title": organization.name,
        "display_name": organization.name,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "description": "",
        "image_url": organization.logo_url or "",
        "created": organization.created_at.isoformat(),
        "extras": (
            [{"key": "id_alt_orga", "value": organization.alternative_id}]
            if organization.alternative_id
            else []
        ),
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def _text(value: date | None) -> str:
    return value.isoformat() if value else ""


def package_dict(dataset: Dataset, base: str) -> dict[str, Any]:
    identifier = str(dataset.id)
    frequency = (
        FREQUENCIES[UpdateFrequency(dataset.update_frequency)].label_fr
        if dataset.update_frequency
        else ""
    )
    extras = {
        "contact_personne": ",".join(dataset.contact_emails),
        "couv_geo": dataset.geographical_coverage,
        "date_pub": _text(dataset.first_publication_date),
        "date_maj": _text(dataset.last_update_date),
        "freq_maj": frequency,
        "service": dataset.service,
        "si": dataset.technical_source or "",
        "contact_service": dataset.service_contact_email or "",
        "visibilite": dataset.visibility,
    }
    extras |= {f"extra_{name}": json.dumps(value) for name, value in dataset.extra_fields.items()}
    return {
        "id": identifier,
        "name": identifier,
        "title": dataset.title,
        "notes": dataset.description,
        "url": dataset.url or "",
        "type": "dataset",
        "state": "active",
        "private": dataset.visibility != "public",
        "metadata_created": dataset.created_at.isoformat(),
        "metadata_modified": dataset.updated_at.isoformat(),
        "license_id": dataset.license or "",
        "license_title": dataset.license or "",
        "maintainer": dataset.service,
        "maintainer_email": dataset.service_contact_email or "",
        "author": dataset.service,
        "author_email": dataset.contact_emails[0] if dataset.contact_emails else "",
        "version": str(dataset.version),
        "owner_org": dataset.organization_siret,
        "organization": organization_dict(dataset.organization),
        "tags": [
            {"name": keyword, "display_name": keyword, "state": "active"}
            for keyword in dataset.keywords
        ],
        "num_tags": len(dataset.keywords),
        "resources": [
            {
                "id": f"{identifier}-{position}",
                "package_id": identifier,
                "name": name,
                "format": name,
                "url": dataset.url or f"{base}/datasets/{identifier}",
                "position": position,
                "state": "active",
            }
            for position, name in enumerate(dataset.formats)
        ],
        "num_resources": len(dataset.formats),
        "groups": [],
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
    }


# -- search ---------------------------------------------------------------------------


_FQ_TERM = re.compile(r'(?P<neg>[-+]?)(?P<field>[A-Za-z_.]+):(?P<value>"[^"]*"|\S+)')


def filter_conditions(fq: str) -> list[ColumnElement[bool]]:
    """CKAN `fq` clauses on organization, tags and res_format (`field:value`, quoted
    values allowed, AND between clauses); other fields are a Search Query Error."""
    conditions: list[ColumnElement[bool]] = []
    rest = _FQ_TERM.sub("", fq).replace("AND", "").strip()
    if rest:
        raise CkanError("Search Query Error", f"cannot parse fq: {fq!r}", 409)
    for match in _FQ_TERM.finditer(fq):
        field, value = match["field"], match["value"].strip('"')
        condition: ColumnElement[bool]
        if field in {"organization", "owner_org"}:
            condition = Dataset.organization_siret == value
        elif field == "tags":
            condition = Dataset.keywords.contains([value])
        elif field == "res_format":
            condition = Dataset.formats.contains([value])
        else:
            raise CkanError(
                "Search Query Error",
                f"fq field {field!r} is not supported (organization, tags, res_format)",
                409,
            )
        conditions.append(~condition if match["neg"] == "-" else condition)
    return conditions


_SORTS = {
    "metadata_modified": Dataset.updated_at,
    "metadata_created": Dataset.created_at,
    "title_string": Dataset.title,
    "title": Dataset.title,
    "name": cast(Dataset.id, String),
}


def sort_order(sort: str, rank: ColumnElement[float] | None) -> list[Any]:
    """ORDER BY for CKAN's `sort`; `score` is the search engine's relevance (`rank`, when
    `q` has searchable words; otherwise it orders nothing)."""
    order: list[Any] = []
    for clause in sort.split(","):
        parts = clause.split()
        if not parts:
            continue
        field, direction = parts[0], (parts[1].lower() if len(parts) > 1 else "asc")
        if direction not in {"asc", "desc"} or (field != "score" and field not in _SORTS):
            raise CkanError("Search Query Error", f"cannot sort by {clause.strip()!r}", 409)
        column = rank if field == "score" else _SORTS[field]
        if column is not None:
            order.append(column.desc() if direction == "desc" else column.asc())
    return [*order, Dataset.updated_at.desc(), Dataset.id]


def _facet_fields(params: dict[str, Any]) -> list[str]:
    raw = params.get("facet.field")
    if raw in (None, ""):
        return []
    fields = raw if isinstance(raw, list) else None
    if fields is None:
        try:
            fields = json.loads(raw)
        except ValueError:
            fields = [raw]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise validation_error("facet.field: must be a JSON list of field names")
    unknown = sorted(set(fields) - FACET_FIELDS)
    if unknown:
        raise validation_error(
            f"facet.field: unsupported {', '.join(unknown)} (organization, tags, res_format)"
        )
    return fields


async def _facets(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], fields: list[str], limit: int
) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name in fields:
        titles: dict[str, str] = {}
        if name == "organization":
            value: Any = Dataset.organization_siret
            statement: Select[Any] = select(value, func.count()).where(*where).group_by(value)
            organizations = await session.execute(select(Organization.siret, Organization.name))
            titles = dict(organizations.all())
        else:
            column = Dataset.keywords if name == "tags" else Dataset.formats
            subquery = select(func.unnest(column).label("value")).where(*where).subquery()
            statement = select(subquery.c.value, func.count()).group_by(subquery.c.value)
        rows = (await session.execute(statement)).all()
        ordered = sorted(rows, key=lambda row: (-row[1], row[0]))[:limit]
        result[name] = {
            "title": name,
            "items": [
                {"name": key, "display_name": titles.get(key, key), "count": count}
                for key, count in ordered
            ],
        }
    return result


# -- actions ------------------------------------------------------------------------


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@action("status_show")
async def status_show(request: Request, user: AnyCaller) -> JSONResponse:
    return envelope(
        request,
        {
            "site_title": "Catalogue des données",
            "site_description": "Catalogue des données des administrations",
            "site_url": _base(request),
            "ckan_version": "2.10.0",
            "catalogage_version": __version__,
            "locale_default": "fr",
            "extensions": [],
        },
    )


@action("site_read")
async def site_read(request: Request, user: AnyCaller) -> JSONResponse:
    return envelope(request, True)


@action("package_list")
async def package_list(request: Request, session: DbSession, user: AnyCaller) -> JSONResponse:
    """Names (ids) of the datasets the caller may see, oldest first."""
    params = await action_params(request)
    limit = _int_param(params, "limit", 1_000_000, 1_000_000)
    offset = _int_param(params, "offset", 0, 10_000_000)
    ids = await session.scalars(
        select(Dataset.id)
        .where(visible_to(visible_organizations(user)))
        .order_by(Dataset.created_at, Dataset.id)
        .offset(offset)
        .limit(limit)
    )
    return envelope(request, [str(identifier) for identifier in ids])


async def _visible_dataset(session: AsyncSession, user: AnyCaller, name: Any) -> Dataset:
    try:
        identifier = uuid.UUID(str(name))
    except ValueError:
        raise CkanError("Not Found Error", "Dataset not found", 404) from None
    dataset = await session.scalar(
        select(Dataset).where(Dataset.id == identifier, visible_to(visible_organizations(user)))
    )
    if dataset is None:
        raise CkanError("Not Found Error", "Dataset not found", 404)
    return dataset


@action("package_show")
async def package_show(request: Request, session: DbSession, user: AnyCaller) -> JSONResponse:
    params = await action_params(request)
    if "id" not in params:
        raise validation_error("id: Missing value")
    dataset = await _visible_dataset(session, user, params["id"])
    return envelope(request, package_dict(dataset, _base(request)))


@action("package_search")
async def package_search(request: Request, session: DbSession, user: AnyCaller) -> JSONResponse:
    """`q` (the search engine's syntax: French stemming, accents ignored, `"phrase"`,
    `OR`, `-word`), `fq` (organization, tags, res_format), `rows` (at most 1000),
    `start`, `sort` (default: relevance, then last modified), `facet.field`,
    `facet.limit`."""
    params = await action_params(request)
    rows = _int_param(params, "rows", DEFAULT_ROWS, MAX_ROWS)
    start = _int_param(params, "start", 0, 10_000_000)
    facet_limit = _int_param(params, "facet.limit", 50, 1000)
    sort = str(params.get("sort") or "score desc, metadata_modified desc")
    where = [visible_to(visible_organizations(user))]
    query = str(params.get("q") or "").strip()
    match = await search.text_match(session, query) if query and query != "*:*" else None
    if match is not None:
        where.append(match.condition)
    where.extend(filter_conditions(str(params.get("fq") or "")))
    order = sort_order(sort, match.rank if match is not None else None)
    count = await session.scalar(select(func.count()).select_from(Dataset).where(*where))
    datasets = await session.scalars(
        select(Dataset).where(*where).order_by(*order).offset(start).limit(rows)
    )
    base = _base(request)
    facets = await _facets(session, where, _facet_fields(params), facet_limit)
    return envelope(
        request,
        {
            "count": count or 0,
            "sort": sort,
            "results": [package_dict(dataset, base) for dataset in datasets],
            "facets": {
                name: {item["name"]: item["count"] for item in facet["items"]}
                for name, facet in facets.items()
            },
            "search_facets": facets,
        },
    )


async def _organization_counts(
    session: AsyncSession, user: AnyCaller
) -> Sequence[tuple[Organization, int]]:
    counts = (
        select(Dataset.organization_siret, func.count().label("n"))
        .where(visible_to(visible_organizations(user)))
        .group_by(Dataset.organization_siret)
        .subquery()
    )
    rows = await session.execute(
        select(Organization, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organization_siret == Organization.siret)
        .order_by(Organization.siret)
    )
    return [(organization, count) for organization, count in rows.all()]


@action("organization_list")
async def organization_list(request: Request, session: DbSession, user: AnyCaller) -> JSONResponse:
    """Organization names (SIRETs); dictionaries with `all_fields=true`."""
    params = await action_params(request)
    limit = _int_param(params, "limit", 1000, 1000)
    offset = _int_param(params, "offset", 0, 10_000_000)
    organizations = (await _organization_counts(session, user))[offset : offset + limit]
    if _bool_param(params, "all_fields"):
        return envelope(request, [organization_dict(o, count) for o, count in organizations])
    return envelope(request, [organization.siret for organization, _ in organizations])


@action("organization_show")
async def organization_show(request: Request, session: DbSession, user: AnyCaller) -> JSONResponse:
    params = await action_params(request)
    if "id" not in params:
        raise validation_error("id: Missing value")
    organization = await session.get(Organization, str(params["id"]))
    if organization is None:
        raise CkanError("Not Found Error", "Organization not found", 404)
    where = [
        Dataset.organization_siret == organization.siret,
        visible_to(visible_organizations(user)),
    ]
    count = await session.scalar(select(func.count()).select_from(Dataset).where(*where))
    result = organization_dict(organization, count or 0)
    if _bool_param(params, "include_datasets"):
        datasets = await session.scalars(
            select(Dataset).where(*where).order_by(Dataset.title).limit(MAX_ROWS)
        )
        base = _base(request)
        result["packages"] = [package_dict(dataset, base) for dataset in datasets]
    return envelope(request, result)


@action("tag_list")
async def tag_list(request: Request, session: DbSession, user: AnyCaller) -> JSONResponse:
    """Keywords used by datasets the caller may see (`query`: a case-insensitive prefix)."""
    params = await action_params(request)
    used = (
        select(func.unnest(Dataset.keywords).label("name"))
        .where(visible_to(visible_organizations(user)))
        .distinct()
        .subquery()
    )
    statement = select(used.c.name).order_by(used.c.name)
    query = str(params.get("query") or "")
    if query:
        statement = statement.where(used.c.name.ilike(query.replace("%", "\\%") + "%"))
    names = await session.scalars(statement)
    return envelope(request, list(names))
