"""JSON API for search: `/search/datasets` and `/search/autocomplete`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from catalogage.accounts.auth import AnyCaller
from catalogage.datasets.models import Visibility
from catalogage.dependencies import DbSession
from catalogage.schemas import Siret
from catalogage.search import service
from catalogage.search.cache import GenerationCache
from catalogage.search.query import MAX_QUERY_LENGTH
from catalogage.search.schemas import SearchResults, Suggestion
from catalogage.vocabularies.frequencies import UpdateFrequency

router = APIRouter(prefix="/search", tags=["search"])

Values = Annotated[list[str], Query()]


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _cache(request: Request) -> GenerationCache:
    cache: GenerationCache = request.app.state.search_cache
    return cache


@router.get("/datasets", response_model=SearchResults)
async def search_datasets(
    request: Request,
    session: DbSession,
    user: AnyCaller,
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="Search box text")] = "",
    organization: Values = [],  # noqa: B006
    keyword: Values = [],  # noqa: B006
    format: Values = [],  # noqa: B006
    coverage: Values = [],  # noqa: B006
    frequency: Annotated[list[UpdateFrequency], Query()] = [],  # noqa: B006
    license: Values = [],  # noqa: B006
    visibility: Annotated[list[Visibility], Query()] = [],  # noqa: B006
    catalog: Annotated[
        Siret | None,
        Query(description="Catalog whose enum and boolean extra fields get facets"),
    ] = None,
    sort: service.SearchSort | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=0, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    facets: bool = True,
) -> Response:
    """Datasets matching `q` (web search syntax: `"phrase"`, `OR`, `-word`; the last
    word also matches as a prefix) and the facet filters, with facet counts.

    Several values of one filter are OR'ed, filters are AND'ed. Extra fields of the
    chosen `catalog` filter as `extra.<name>=value`. Sort defaults to relevance with
    `q`, to last updated without; sorts other than relevance return `next_cursor`
    for fast deep paging.
    """
    selected: dict[str, list[str]] = {
        "organization": organization,
        "keyword": keyword,
        "format": format,
        "coverage": coverage,
        "frequency": [value.value for value in frequency],
        "license": license,
        "visibility": [value.value for value in visibility],
    }
    for name, value in request.query_params.multi_items():
        if name.startswith("extra."):
            selected.setdefault(name, []).append(value)
    search = service.SearchRequest(
        q=q,
        filters=service.SearchFilters.of(selected),
        sort=sort,
        page=page,
        page_size=page_size,
        cursor=cursor,
        with_facets=facets,
        catalog=catalog,
    )
    return _json(await service.search(session, _cache(request), user, search))


@router.get("/autocomplete", response_model=list[Suggestion])
async def autocomplete(
    request: Request,
    session: DbSession,
    user: AnyCaller,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH)],
    limit: Annotated[int, Query(ge=1, le=service.MAX_AUTOCOMPLETE)] = service.MAX_AUTOCOMPLETE,
) -> Response:
    """Up to `limit` (≤ 10) dataset titles, keywords, organizations and coverage values
    matching the text being typed (its last word as a prefix)."""
    return _json(await service.autocomplete(session, _cache(request), user, q, limit))
