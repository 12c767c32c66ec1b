"""Response bodies of `/search/`. Highlights are HTML where only `<mark>` is markup."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from catalogage.datasets.models import Visibility
from catalogage.vocabularies.frequencies import UpdateFrequency


class SearchOrganization(BaseModel):
    siret: str
    name: str


class SearchHit(BaseModel):
    id: uuid.UUID
    title: str
    #: The title, HTML-escaped, with matches in `<mark>`.
    title_html: str
    #: One or two excerpts of the description (its beginning when it does not match),
    #: HTML-escaped, with matches in `<mark>`.
    description_html: str
    organization: SearchOrganization
    keywords: list[str]
    formats: list[str]
    geographical_coverage: str
    update_frequency: UpdateFrequency | None
    license: str | None
    visibility: Visibility
    created_at: datetime
    updated_at: datetime


class FacetValue(BaseModel):
    value: str
    label: str
    count: int
    #: The value is one of the request's filters.
    selected: bool


class SearchResults(BaseModel):
    #: Datasets matching the query and filters that the caller may see.
    total: int
    items: list[SearchHit]
    #: By facet name (the filter's query parameter: `organization`, `keyword`, ...,
    #: `extra.<field>`): values with their counts, each facet counted with every
    #: other filter applied but not its own.
    facets: dict[str, list[FacetValue]]
    #: "Did you mean": a corrected query when the query found nothing.
    suggestion: str | None = None
    #: True when `items` are the results of `suggestion` (the query itself found nothing).
    corrected: bool = False
    #: Pass as `cursor` to get the next page (sorts other than relevance), or null.
    next_cursor: str | None = None


class SuggestionKind(StrEnum):
    TITLE = "title"
    KEYWORD = "keyword"
    ORGANIZATION = "organization"
    COVERAGE = "coverage"


class Suggestion(BaseModel):
    kind: SuggestionKind
    #: Text to show and to put in the search box (or filter on).
    value: str
    #: The dataset id for titles, the SIRET for organizations, else null.
    ref: str | None = Field(default=None)
