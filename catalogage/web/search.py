"""What the search page needs from a search engine: results, facets with counts and
highlighted matches.

`BasicSearch` answers with plain SQL on the datasets table (case-insensitive
substring match, facet counts by GROUP BY). It stands in until the full-text search
package (`catalogage.search`) is available; `search_backend()` picks that one when
it is. Facet counts are disjunctive: each facet is counted with every filter
applied except its own, so ticking a value never hides the other values of the
same facet.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Select, UnaryExpression, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import visible_organizations
from catalogage.accounts.models import User
from catalogage.datasets.models import Dataset
from catalogage.datasets.visibility import visible_to
from catalogage.organizations.models import Organization

PAGE_SIZE = 20
KEYWORD_FACET_SIZE = 15
EXCERPT_LENGTH = 280


@dataclass
class SearchQuery:
    text: str = ""
    organizations: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    visibility: list[str] = field(default_factory=list)
    sort: str = "-updated_at"
    page: int = 1
    page_size: int = PAGE_SIZE

    def terms(self) -> list[str]:
        return [term for term in self.text.split() if term][:10]


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    #: URL parameter of the facet's filter.
    param: str
    values: list[FacetValue]


@dataclass
class SearchHit:
    id: uuid.UUID
    #: Title and an excerpt of the description, escaped, matches wrapped in `<mark>`.
    title: Markup
    excerpt: Markup
    organization_name: str
    formats: list[str]
    visibility: str


@dataclass
class SearchResults:
    hits: list[SearchHit]
    total: int
    facets: dict[str, Facet]
    #: Sort orders this engine supports (the first is its default with a query).
    sorts: list[str]
    #: "Did you mean": a corrected query, when the query itself found nothing.
    suggestion: str | None = None
    #: True when `hits` are the results of `suggestion`.
    corrected: bool = False


class SearchBackend(Protocol):
    async def search(
        self, session: AsyncSession, viewer: User | None, query: SearchQuery
    ) -> SearchResults: ...


def highlight(text: str, terms: Sequence[str]) -> Markup:
    """`text` escaped, every case-insensitive occurrence of a term in `<mark>`."""
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    parts: list[Markup] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup("<mark>{}</mark>").format(match.group()))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def excerpt(text: str, terms: Sequence[str], length: int = EXCERPT_LENGTH) -> Markup:
    """About `length` characters of `text` around the first match, highlighted."""
    text = " ".join(text.split())
    if len(text) <= length:
        return highlight(text, terms)
    lowered = text.lower()
    first = min((i for t in terms if (i := lowered.find(t.lower())) >= 0), default=0)
    start = max(0, min(first - length // 3, len(text) - length))
    piece = (
        text[start : start + length].rsplit(" ", 1)[0]
        if start + length < len(text)
        else text[start:]
    )
    return Markup("{}{}{}").format(
        "… " if start else "", highlight(piece, terms), " …" if start + length < len(text) else ""
    )


_ORDER: dict[str, tuple[UnaryExpression[Any], UnaryExpression[Any]]] = {
    "-updated_at": (Dataset.updated_at.desc(), Dataset.id.desc()),
    "title": (Dataset.title.asc(), Dataset.id.asc()),
    "-title": (Dataset.title.desc(), Dataset.id.desc()),
    "-created_at": (Dataset.created_at.desc(), Dataset.id.desc()),
}


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class BasicSearch:
    """Search with SQL only: substring matches on title, description and keywords."""

    sorts: ClassVar[list[str]] = ["-updated_at", "title", "-title", "-created_at"]

    def _conditions(
        self, viewer: User | None, query: SearchQuery, *, without: str | None = None
    ) -> list[ColumnElement[bool]]:
        conditions = [visible_to(visible_organizations(viewer))]
        for term in query.terms():
            like = _like(term)
            conditions.append(
                or_(
                    Dataset.title.ilike(like),
                    Dataset.description.ilike(like),
                    func.array_to_string(Dataset.keywords, " ").ilike(like),
                )
            )
        if query.organizations and without != "organisation":
            conditions.append(Dataset.organization_siret.in_(query.organizations))
        if query.keywords and without != "mot_cle":
            conditions.append(Dataset.keywords.overlap(query.keywords))
        if query.formats and without != "format":
            conditions.append(Dataset.formats.overlap(query.formats))
        if query.visibility and without != "visibilite":
            conditions.append(Dataset.visibility.in_(query.visibility))
        return conditions

    async def _counts(self, session: AsyncSession, statement: Select[Any, Any]) -> dict[str, int]:
        rows = await session.execute(statement)
        return {str(value): int(count) for value, count in rows}

    async def search(
        self, session: AsyncSession, viewer: User | None, query: SearchQuery
    ) -> SearchResults:
        where = and_(*self._conditions(viewer, query))
        total = await session.scalar(select(func.count()).select_from(Dataset).where(where)) or 0
        order = _ORDER.get(query.sort, _ORDER["-updated_at"])
        page = await session.scalars(
            select(Dataset)
            .where(where)
            .order_by(*order)
            .offset((query.page - 1) * query.page_size)
            .limit(query.page_size)
        )
        terms = query.terms()
        hits = [_hit(d, terms) for d in page.all()]
        return SearchResults(
            hits=hits,
            total=total,
            facets=await self._facets(session, viewer, query),
            sorts=self.sorts,
        )

    async def _facets(
        self, session: AsyncSession, viewer: User | None, query: SearchQuery
    ) -> dict[str, Facet]:
        def where(facet: str) -> ColumnElement[bool]:
            return and_(*self._conditions(viewer, query, without=facet))

        organizations = await session.execute(
            select(Organization.siret, Organization.name, func.count(Dataset.id))
            .join(Dataset, Dataset.organization_siret == Organization.siret)
            .where(where("organisation"))
            .group_by(Organization.siret, Organization.name)
            .order_by(func.count(Dataset.id).desc(), Organization.name)
        )
        keyword = func.unnest(Dataset.keywords).label("keyword")
        keyword_counts = await self._counts(
            session,
            select(keyword, func.count())
            .where(where("mot_cle"))
            .group_by("keyword")
            .order_by(func.count().desc(), "keyword")
            .limit(KEYWORD_FACET_SIZE),
        )
        format_ = func.unnest(Dataset.formats).label("format")
        format_counts = await self._counts(
            session,
            select(format_, func.count())
            .where(where("format"))
            .group_by("format")
            .order_by(func.count().desc(), "format"),
        )
        facets = {
            "organisation": Facet(
                "organisation",
                [
                    FacetValue(siret, name, count, siret in query.organizations)
                    for siret, name, count in organizations
                ],
            ),
            "mot_cle": _facet("mot_cle", keyword_counts, query.keywords),
            "format": _facet("format", format_counts, query.formats),
        }
        if viewer is not None:
            visibility_counts = await self._counts(
                session,
                select(Dataset.visibility, func.count())
                .where(where("visibilite"))
                .group_by(Dataset.visibility),
            )
            facets["visibilite"] = _facet("visibilite", visibility_counts, query.visibility)
        return facets


def _facet(param: str, counts: dict[str, int], selected: list[str]) -> Facet:
    values = [FacetValue(v, v, n, v in selected) for v, n in counts.items()]
    # A selected value stays listed (with 0) so it can be unticked.
    values += [FacetValue(v, v, 0, True) for v in selected if v not in counts]
    return Facet(param, values)


def _hit(dataset: Dataset, terms: Sequence[str]) -> SearchHit:
    return SearchHit(
        id=dataset.id,
        title=highlight(dataset.title, terms),
        excerpt=excerpt(dataset.description, terms),
        organization_name=dataset.organization.name,
        formats=list(dataset.formats),
        visibility=dataset.visibility,
    )


async def recent(session: AsyncSession, viewer: User | None, limit: int) -> list[SearchHit]:
    """The last updated datasets `viewer` may see (no count: the home page needs none)."""
    rows = await session.scalars(
        select(Dataset)
        .where(visible_to(visible_organizations(viewer)))
        .order_by(*_ORDER["-updated_at"])
        .limit(limit)
    )
    return [_hit(dataset, []) for dataset in rows.all()]


def search_backend() -> SearchBackend:
    return BasicSearch()
