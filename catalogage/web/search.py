"""What the search and home pages show of datasets: the search page's query, its
results with facets, and the latest records. Searching itself is the search
engine's (`catalogage.web.fulltext` adapts `catalogage.search`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import visible_organizations
from catalogage.accounts.models import User
from catalogage.datasets.models import Dataset
from catalogage.datasets.visibility import visible_to

PAGE_SIZE = 20
EXCERPT_LENGTH = 280

#: The search page's filters: URL parameter -> the engine's facet. Several values of
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
    sort: str = ""
    page: int = 1
    page_size: int = PAGE_SIZE


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
    #: Sort orders offered (the first is the default).
    sorts: list[str]
    #: "Did you mean": a corrected query, when the query itself found nothing.
    suggestion: str | None = None
    #: True when `hits` are the results of `suggestion`.
    corrected: bool = False


def _excerpt(text: str, length: int = EXCERPT_LENGTH) -> Markup:
    text = " ".join(text.split())
    if len(text) <= length:
        return escape(text)
    return escape(text[:length].rsplit(" ", 1)[0] + " …")


async def recent(session: AsyncSession, viewer: User | None, limit: int) -> list[SearchHit]:
    """The last updated datasets `viewer` may see (no count: the home page needs none)."""
    rows = await session.scalars(
        select(Dataset)
        .where(visible_to(visible_organizations(viewer)))
        .order_by(Dataset.updated_at.desc(), Dataset.id.desc())
        .limit(limit)
    )
    return [
        SearchHit(
            id=dataset.id,
            title=escape(dataset.title),
            excerpt=_excerpt(dataset.description),
            organization_name=dataset.organization.name,
            formats=list(dataset.formats),
            visibility=dataset.visibility,
        )
        for dataset in rows.all()
    ]
