"""The search page on the full-text search engine (`catalogage.search`): ranking,
accent- and stemming-aware matching, cached facet counts, highlights, "did you mean".
"""

from __future__ import annotations

from typing import ClassVar

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.models import User
from catalogage.search import service as engine
from catalogage.search.cache import GenerationCache
from catalogage.search.schemas import SearchResults as EngineResults
from catalogage.web.search import (
    FILTERS,
    Facet,
    FacetValue,
    SearchHit,
    SearchQuery,
    SearchResults,
)


class FullTextSearch:
    """`SearchBackend` over `catalogage.search.service.search`."""

    sorts: ClassVar[list[str]] = ["relevance", "-updated_at", "title", "-title", "-created_at"]

    def __init__(self, cache: GenerationCache) -> None:
        self.cache = cache

    async def search(
        self, session: AsyncSession, viewer: User | None, query: SearchQuery
    ) -> SearchResults:
        selected = {FILTERS[param]: values for param, values in query.filters.items()}
        sort = engine.SearchSort(query.sort) if query.sort in self.sorts else None
        request = engine.SearchRequest(
            q=query.text,
            filters=engine.SearchFilters.of(selected),
            sort=sort,
            page=query.page,
            page_size=query.page_size,
        )
        answer = EngineResults.model_validate_json(
            await engine.search(session, self.cache, viewer, request)
        )
        by_engine_name = {name: param for param, name in FILTERS.items()}
        facets = {
            by_engine_name[name]: Facet(
                by_engine_name[name],
                [FacetValue(v.value, v.label, v.count, v.selected) for v in values],
            )
            for name, values in answer.facets.items()
            if name in by_engine_name and (viewer is not None or name != "visibility")
        }
        hits = [
            SearchHit(
                id=item.id,
                # The engine escapes the text and adds only <mark> elements.
                title=Markup(item.title_html),  # noqa: S704
                excerpt=Markup(item.description_html),  # noqa: S704
                organization_name=item.organization.name,
                formats=item.formats,
                visibility=item.visibility.value,
            )
            for item in answer.items
        ]
        sorts = self.sorts if query.text else self.sorts[1:]
        return SearchResults(
            hits=hits,
            total=answer.total,
            facets=facets,
            sorts=sorts,
            suggestion=answer.suggestion,
            corrected=answer.corrected,
        )
