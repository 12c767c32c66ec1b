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
from sqlalchemy import ColumnElement, UnaryExpression, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import visible_organizations
from catalogage.accounts.models import User
from catalogage.datasets.models import Dataset
from catalogage.datasets.visibility import visible_to
from catalogage.organizations.models import Organization

PAGE_SIZE = 20
#: Values listed per facet (selected values are always listed too).
FACET_SIZE = 15
EXCERPT_LENGTH = 280


#: The search page's filters: URL parameter -> what it filters on. Several values of
#: one filter are OR'ed, filters are AND'ed.
FILTERS = {
    "organisation": "organization",
    "mot_cle": "keyword",
    "format": "format",
    "couverture": "coverage",
    "frequence": "frequency",
    "licence": "license",
    "visibilite": "visibility",
}


@dataclass
class SearchQuery:
    text: str = ""
    #: Selected values by URL parameter (keys of `FILTERS`).
    filters: dict[str, list[str]] = field(default_factory=dict)
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


_COLUMNS: dict[str, Any] = {
    "organisation": Dataset.organization_siret,
    "mot_cle": Dataset.keywords,
    "format": Dataset.formats,
    "couverture": Dataset.geographical_coverage,
    "frequence": Dataset.update_frequency,
    "licence": Dataset.license,
    "visibilite": Dataset.visibility,
}
_ARRAY_FILTERS = frozenset({"mot_cle", "format"})


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
        for param, values in query.filters.items():
            if values and param != without and param in _COLUMNS:
                column = _COLUMNS[param]
                if param in _ARRAY_FILTERS:
                    conditions.append(column.overlap(values))
                else:
                    conditions.append(column.in_(values))
        return conditions

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
        facets: dict[str, Facet] = {}
        for param, column in _COLUMNS.items():
            if param == "visibilite" and viewer is None:
                continue  # anonymous visitors only ever see public records
            value = (func.unnest(column) if param in _ARRAY_FILTERS else column).label("value")
            statement = (
                select(value, func.count())
                .where(*self._conditions(viewer, query, without=param))
                .group_by("value")
                .order_by(func.count().desc(), "value")
                .limit(FACET_SIZE)
            )
            counts = {str(v): int(n) for v, n in await session.execute(statement) if v is not None}
            facets[param] = _facet(param, counts, query.filters.get(param, []))
        names = await session.execute(
            select(Organization.siret, Organization.name).where(
                Organization.siret.in_([v.value for v in facets["organisation"].values])
            )
        )
        by_siret = {siret: name for siret, name in names}
        for item in facets["organisation"].values:
            item.label = by_siret.get(item.value, item.value)
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
