"""Search: results, facet counts, "did you mean", autocomplete.

Everything is plain SQL over the `dataset` table (migration 0002): the weighted
`search_vector` (GIN) for matching and ranking, `search_text` (trigram GIN) for
spelling suggestions. Every statement carries the caller's visibility condition,
so results, counts, facet values and suggestions only ever reflect datasets the
caller may see.

Each request first reads the normalized tsquery and the catalog generation in one
round trip; answers are cached per worker for that generation (see cache.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import visible_organizations
from catalogage.accounts.models import User
from catalogage.catalogs.models import ExtraField, ExtraFieldType
from catalogage.datasets.models import Dataset, Visibility
from catalogage.errors import FieldError, ValidationFailed
from catalogage.search import highlight
from catalogage.search.cache import GenerationCache
from catalogage.search.query import MAX_QUERY_LENGTH, parse, restrict_to_title, tsquery
from catalogage.search.schemas import (
    FacetValue,
    SearchHit,
    SearchOrganization,
    SearchResults,
    Suggestion,
    SuggestionKind,
)
from catalogage.vocabularies.frequencies import FREQUENCIES, UpdateFrequency
from catalogage.vocabularies.normalize import fold

#: ts_rank weights for D, C, B, A: title >> keywords > description > the rest.
RANK_WEIGHTS = "{0.05, 0.2, 0.4, 1.0}"
#: Added to the rank when every query term is in the title, and when the title is the query.
TITLE_MATCH_BONUS = 1.0
#: Share of the rank given to matches of related words (lexicon.py) and in the
#: title bonus when only related words are in the title.
RELATED_WEIGHT = 0.5
EXACT_TITLE_BONUS = 2.0
#: Values listed per facet (selected values are always listed too).
FACET_SIZE = 20
#: Suggestions are only searched for words at least this long, and accepted above
#: this trigram similarity.
MIN_SUGGESTION_WORD = 3
MIN_SIMILARITY = 0.4
MAX_AUTOCOMPLETE = 10

VISIBILITY_LABELS = {
    Visibility.PUBLIC.value: "Public",
    Visibility.RESTRICTED.value: "Restreint",
    Visibility.DRAFT.value: "Brouillon",
}
BOOLEAN_LABELS = {"true": "Oui", "false": "Non"}


class SearchSort(StrEnum):
    RELEVANCE = "relevance"
    UPDATED_DESC = "-updated_at"
    UPDATED = "updated_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    CREATED_DESC = "-created_at"
    CREATED = "created_at"


#: Sort column and direction of each non-relevance sort (keyset pagination on (column, id)).
_SORT_COLUMNS: dict[SearchSort, tuple[str, bool]] = {
    SearchSort.UPDATED_DESC: ("updated_at", True),
    SearchSort.UPDATED: ("updated_at", False),
    SearchSort.TITLE: ("title", False),
    SearchSort.TITLE_DESC: ("title", True),
    SearchSort.CREATED_DESC: ("created_at", True),
    SearchSort.CREATED: ("created_at", False),
}


@dataclass(frozen=True)
class Facet:
    #: Query parameter and facet name.
    name: str
    #: SQL giving the value(s) of a dataset row `d`.
    value_sql: str
    #: The column is an array (one count per element).
    array: bool = False


#: The fixed facets, in display order. Extra fields add `extra.<name>` facets.
FACETS: tuple[Facet, ...] = (
    Facet("organization", "d.organization_siret"),
    Facet("keyword", "d.keywords", array=True),
    Facet("format", "d.formats", array=True),
    Facet("coverage", "d.geographical_coverage"),
    Facet("frequency", "d.update_frequency"),
    Facet("license", "d.license"),
    Facet("visibility", "d.visibility"),
)
FACET_NAMES = tuple(facet.name for facet in FACETS)


@dataclass(frozen=True)
class SearchFilters:
    """Selected facet values: OR within a facet, AND across facets."""

    values: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, selected: Mapping[str, Sequence[str]]) -> SearchFilters:
        return cls(tuple(sorted((k, tuple(sorted(set(v)))) for k, v in selected.items() if v)))

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self.values)


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: SearchSort | None = None
    page: int = 1
    page_size: int = 20
    cursor: str | None = None
    with_facets: bool = True
    #: SIRET of the catalog whose enum and boolean extra fields get facets.
    catalog: str | None = None


def scope_of(user: User | None) -> tuple[str, ...]:
    """Who sees what: the cache-key form of `visible_organizations`."""
    organizations = visible_organizations(user)
    if organizations is None:
        return ("*",)
    return tuple(sorted(organizations))


def _visibility_sql(scope: tuple[str, ...], params: dict[str, Any]) -> str:
    if scope == ("*",):
        return "TRUE"
    if not scope:
        return "d.visibility = 'public'"
    params["scope"] = list(scope)
    return "(d.visibility = 'public' OR d.organization_siret = ANY(:scope))"


def _counted_visibility_sql(scope: tuple[str, ...], params: dict[str, Any]) -> str:
    """`_visibility_sql` for `dataset_count` rows `c` (see models.DatasetCount); spelled
    so that both branches are ranges of its primary key."""
    if scope == ("*",):
        return "TRUE"
    if not scope:
        return "c.visibility = 'public'"
    params["scope"] = list(scope)
    return (
        "(c.visibility = 'public' OR (c.visibility IN ('draft', 'restricted')"
        " AND c.organization_siret = ANY(:scope)))"
    )


#: Filters that `dataset_count` rows of facet `all` can apply.
_COUNTED_FILTERS = {"organization": "c.organization_siret", "visibility": "c.visibility"}
#: Facets counted by value in `dataset_count` (the others come from facet `all`).
_COUNTED_VALUE_FACETS = ("keyword", "format", "coverage", "frequency", "license")


async def counted_total(
    session: AsyncSession, scope: tuple[str, ...], filters: Mapping[str, Sequence[str]]
) -> int:
    """How many datasets `scope` may see, among those of the `organization` and
    `visibility` filters: summed from the trigger-maintained counts, exact, without
    reading any dataset row."""
    params: dict[str, Any] = {}
    conditions = ["c.facet = 'all'", _counted_visibility_sql(scope, params)]
    for name, values in filters.items():
        params["f_" + name] = list(values)
        conditions.append(f"{_COUNTED_FILTERS[name]} = ANY(:f_{name})")
    sql = f"SELECT coalesce(sum(c.n), 0) FROM dataset_count c WHERE {' AND '.join(conditions)}"  # noqa: S608
    return int((await session.execute(text(sql), params)).scalar_one())


async def visible_total(
    session: AsyncSession,
    viewer: User | None,
    organizations: Sequence[str],
    visibility: Sequence[str],
) -> int:
    """`counted_total` for `viewer` (for `GET /datasets/` without other filters)."""
    filters = {
        name: values
        for name, values in (("organization", organizations), ("visibility", visibility))
        if values
    }
    return await counted_total(session, scope_of(viewer), filters)


def _filter_sql(facet: str, params: dict[str, Any], values: tuple[str, ...]) -> str:
    key = "f_" + facet.replace(".", "_")
    params[key] = list(values)
    if facet in ("keyword", "format"):
        column = "d.keywords" if facet == "keyword" else "d.formats"
        return f"{column} && CAST(:{key} AS text[])"
    if facet.startswith("extra."):
        params[key + "_name"] = facet.removeprefix("extra.")
        return f"(d.extra_fields ->> CAST(:{key}_name AS text)) = ANY(:{key})"
    column = {
        "organization": "d.organization_siret",
        "coverage": "d.geographical_coverage",
        "frequency": "d.update_frequency",
        "license": "d.license",
        "visibility": "d.visibility",
    }[facet]
    return f"{column} = ANY(:{key})"


class Cursor:
    """Keyset position `(sort value, id)`, as an opaque URL-safe string."""

    @staticmethod
    def encode(value: Any, dataset_id: uuid.UUID) -> str:
        plain = value.isoformat() if isinstance(value, datetime) else value
        raw = json.dumps([plain, str(dataset_id)])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str, column: str) -> tuple[Any, uuid.UUID]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            value, dataset_id = json.loads(raw)
            if column != "title":
                value = datetime.fromisoformat(value)
            elif not isinstance(value, str):
                raise ValueError("title cursor")
            return value, uuid.UUID(dataset_id)
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise ValidationFailed([FieldError("cursor", "invalid cursor")]) from None


@dataclass
class _Plan:
    """The SQL pieces of one search, shared by the items, count and facet statements."""

    tsq: str | None
    strict: str | None
    q_fold: str
    scope: tuple[str, ...]
    filters: dict[str, tuple[str, ...]]

    def where(
        self,
        params: dict[str, Any],
        *,
        except_facet: str | None = None,
        filters_only: bool = False,
        without_filters: bool = False,
    ) -> str:
        """The condition on rows `d`: visibility, text query, facet filters (all but
        `except_facet`'s); only the facet filters with `filters_only`, none with
        `without_filters`."""
        conditions = ["TRUE"] if filters_only else [_visibility_sql(self.scope, params)]
        if self.tsq is not None and not filters_only:
            params["tsq"] = self.tsq
            conditions.append("d.search_vector @@ CAST(:tsq AS tsquery)")
        for facet, values in self.filters.items():
            if facet != except_facet and not without_filters:
                conditions.append(_filter_sql(facet, params, values))
        return " AND ".join(conditions)

    def rank_sql(self, params: dict[str, Any]) -> str:
        """Rank of the typed words, plus a share of related words' (when the query has
        any), plus the title bonuses."""
        assert self.tsq is not None
        strict = self.strict or self.tsq
        params.update(
            tsq=self.tsq,
            strict=strict,
            strict_title=restrict_to_title(strict),
            q_fold=self.q_fold,
        )
        rank = f"ts_rank('{RANK_WEIGHTS}', d.search_vector, CAST(:strict AS tsquery))"
        title = f"WHEN d.search_vector @@ CAST(:strict_title AS tsquery) THEN {TITLE_MATCH_BONUS}"
        if strict != self.tsq:
            params["tsq_title"] = restrict_to_title(self.tsq)
            rank += (
                f" + {RELATED_WEIGHT} * ts_rank('{RANK_WEIGHTS}', d.search_vector,"
                " CAST(:tsq AS tsquery))"
            )
            title += (
                " WHEN d.search_vector @@ CAST(:tsq_title AS tsquery)"
                f" THEN {TITLE_MATCH_BONUS * RELATED_WEIGHT}"
            )
        return (
            f"{rank} + CASE {title} ELSE 0 END"
            f" + CASE WHEN catalogage_fold(d.title) = :q_fold THEN {EXACT_TITLE_BONUS} ELSE 0 END"
        )


# -- query normalization -------------------------------------------------------


def check_query(q: str) -> str:
    if len(q) > MAX_QUERY_LENGTH:
        raise ValidationFailed([FieldError("q", f"at most {MAX_QUERY_LENGTH} characters")])
    return q


def _generation() -> ColumnElement[int]:
    return literal_column("(SELECT generation FROM search_state WHERE id = 1)")


@dataclass(frozen=True)
class Prepared:
    #: Normalized tsquery text that finds (None: no searchable word, no text filter).
    tsq: str | None
    #: The same without word families, for ranking.
    strict: str | None
    #: Catalog generation (cache validity).
    generation: int


async def current_generation(session: AsyncSession) -> int:
    """The catalog generation (see cache.py), for answer caches outside this package."""
    generation: int = (await session.execute(select(_generation()))).scalar_one()
    return generation


#: Normalized tsquery texts of recent queries (query -> finding, ranking). They depend
#: only on the query and the text search configuration, which changes only through a
#: migration, after which a deploy restarts the workers: they never go stale in a
#: worker. Building and compiling the normalizing expression costs more CPU than
#: serving a cached answer, so a repeated query skips it.
_normalized: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
NORMALIZED_QUERIES_KEPT = 4096


async def _prepare(session: AsyncSession, q: str) -> Prepared:
    """Normalize the query with PostgreSQL (unless a recent request did) and read the
    catalog generation, in one round trip."""
    known = _normalized.get(q)
    if known is not None:
        _normalized.move_to_end(q)
        return Prepared(*known, await current_generation(session))
    parsed = parse(q)
    expression = tsquery(parsed)
    strict = tsquery(parsed, expand=False)
    if expression is None or strict is None:
        normalized: tuple[str | None, str | None] = (None, None)
        generation = await current_generation(session)
    else:
        row = (
            await session.execute(select(cast(expression, Text), cast(strict, Text), _generation()))
        ).one()
        normalized, generation = (row[0] or None, row[1] or None), row[2]
    _normalized[q] = normalized
    if len(_normalized) > NORMALIZED_QUERIES_KEPT:
        _normalized.popitem(last=False)
    return Prepared(*normalized, generation)


@dataclass(frozen=True)
class TextMatch:
    """A full-text condition and rank for callers outside this package (`GET /datasets/`)."""

    condition: ColumnElement[bool]
    rank: ColumnElement[float]


async def text_match(session: AsyncSession, q: str) -> TextMatch | None:
    """The condition and rank for `q` on `Dataset`; None when `q` has no searchable word."""
    prepared = await _prepare(session, check_query(q))
    if prepared.tsq is None:
        return None
    query = cast(prepared.tsq, TSQUERY)
    strict = cast(prepared.strict or prepared.tsq, TSQUERY)
    title_query = cast(restrict_to_title(prepared.strict or prepared.tsq), TSQUERY)
    weights: ColumnElement[Any] = literal_column(f"'{RANK_WEIGHTS}'::float4[]")
    rank = (
        func.ts_rank(weights, Dataset.search_vector, strict)
        + RELATED_WEIGHT * func.ts_rank(weights, Dataset.search_vector, query)
        + case((Dataset.search_vector.op("@@")(title_query), TITLE_MATCH_BONUS), else_=0.0)
        + case((func.catalogage_fold(Dataset.title) == fold(q), EXACT_TITLE_BONUS), else_=0.0)
    )
    return TextMatch(condition=Dataset.search_vector.op("@@")(query), rank=rank)


# -- search --------------------------------------------------------------------


async def _extra_facet_fields(session: AsyncSession, catalog: str | None) -> dict[str, ExtraField]:
    if catalog is None:
        return {}
    fields = await session.scalars(
        select(ExtraField).where(
            ExtraField.catalog_siret == catalog,
            ExtraField.type.in_([ExtraFieldType.ENUM.value, ExtraFieldType.BOOLEAN.value]),
        )
    )
    return {f"extra.{field.name}": field for field in fields}


def _check_filters(
    filters: dict[str, tuple[str, ...]], extra_fields: dict[str, ExtraField]
) -> None:
    """Extra field filters must name an enum or boolean field of the chosen catalog
    (the other filters are typed by the route)."""
    errors = []
    for name, values in filters.items():
        if not name.startswith("extra."):
            continue
        definition = extra_fields.get(name)
        if definition is None:
            errors.append(
                FieldError(name, "not an enum or boolean extra field of the chosen catalog")
            )
        elif definition.type == ExtraFieldType.BOOLEAN.value and not set(values) <= set(
            BOOLEAN_LABELS
        ):
            errors.append(FieldError(name, "must be true or false"))
    if errors:
        raise ValidationFailed(errors)


async def search(
    session: AsyncSession, cache: GenerationCache, user: User | None, request: SearchRequest
) -> bytes:
    """The JSON-encoded `SearchResults` of `request` as `user` may see them."""
    prepared = await _prepare(session, check_query(request.q))
    tsq, generation = prepared.tsq, prepared.generation
    scope = scope_of(user)
    key = ("search", tsq, request, scope)
    return await cache.get_or_compute(
        key, generation, lambda: _search(session, prepared, scope, request)
    )


async def _search(
    session: AsyncSession, prepared: Prepared, scope: tuple[str, ...], request: SearchRequest
) -> bytes:
    tsq = prepared.tsq
    _check_cursor(request, tsq)
    extra_fields = await _extra_facet_fields(session, request.catalog)
    filters = request.filters.as_dict()
    _check_filters(filters, extra_fields)
    plan = _Plan(
        tsq=tsq, strict=prepared.strict, q_fold=fold(request.q), scope=scope, filters=filters
    )
    results = await _run(session, plan, request, extra_fields)
    if results.total == 0 and tsq is not None:
        suggestion = await suggest(session, scope, request.q)
        if suggestion is not None:
            corrected_query = await _prepare(session, suggestion)
            corrected_plan = _Plan(
                tsq=corrected_query.tsq,
                strict=corrected_query.strict,
                q_fold=fold(suggestion),
                scope=scope,
                filters=filters,
            )
            corrected = await _run(session, corrected_plan, request, extra_fields)
            if corrected.total:
                results = corrected.model_copy(update={"suggestion": suggestion, "corrected": True})
    return results.model_dump_json().encode()


def _sort_of(request: SearchRequest, tsq: str | None) -> SearchSort:
    """The requested sort; relevance needs a query, and is the default with one."""
    if request.sort is None or (request.sort is SearchSort.RELEVANCE and tsq is None):
        return SearchSort.RELEVANCE if tsq else SearchSort.UPDATED_DESC
    return request.sort


def _check_cursor(request: SearchRequest, tsq: str | None) -> None:
    if request.cursor is None:
        return
    sort = _sort_of(request, tsq)
    if sort is SearchSort.RELEVANCE:
        raise ValidationFailed(
            [FieldError("cursor", "cursors page through sorts other than relevance")]
        )
    Cursor.decode(request.cursor, _SORT_COLUMNS[sort][0])


async def _run(
    session: AsyncSession,
    plan: _Plan,
    request: SearchRequest,
    extra_fields: dict[str, ExtraField],
) -> SearchResults:
    facets: dict[str, list[FacetValue]] = {}
    total = None
    if request.with_facets:
        facets, total = await _facets(session, plan, extra_fields)
    if total is None:
        total = await _count(session, plan)
    items: list[SearchHit] = []
    next_cursor = None
    if request.page_size and total:
        items, next_cursor = await _items(session, plan, request)
    return SearchResults(total=total, items=items, facets=facets, next_cursor=next_cursor)


async def _count(session: AsyncSession, plan: _Plan) -> int:
    if plan.tsq is None and set(plan.filters) <= set(_COUNTED_FILTERS):
        return await counted_total(session, plan.scope, plan.filters)
    params: dict[str, Any] = {}
    sql = f"SELECT count(*) FROM dataset d WHERE {plan.where(params)}"  # noqa: S608 - no input
    return int((await session.execute(text(sql), params)).scalar_one())


async def _items(
    session: AsyncSession, plan: _Plan, request: SearchRequest
) -> tuple[list[SearchHit], str | None]:
    params: dict[str, Any] = {"limit": request.page_size}
    where = plan.where(params)
    sort = _sort_of(request, plan.tsq)
    if sort is SearchSort.RELEVANCE:
        rank = plan.rank_sql(params)
        outer_order = "page.rank DESC, page.id"
        params["offset"] = (request.page - 1) * request.page_size
        inner = (
            f"SELECT d.id, {rank} AS rank FROM dataset d WHERE {where}"  # noqa: S608 - no input
            " ORDER BY rank DESC, d.id LIMIT :limit OFFSET :offset"
        )
        column = None
    else:
        column, descending = _SORT_COLUMNS[sort]
        direction = "DESC" if descending else "ASC"
        if request.cursor:
            params["c_value"], params["c_id"] = Cursor.decode(request.cursor, column)
            operator = "<" if descending else ">"
            where += f" AND (d.{column}, d.id) {operator} (:c_value, :c_id)"
            params["offset"] = 0
        else:
            params["offset"] = (request.page - 1) * request.page_size
        outer_order = f"page.sort_value {direction}, page.id {direction}"
        inner = (
            f"SELECT d.id, d.{column} AS sort_value FROM dataset d WHERE {where}"  # noqa: S608
            f" ORDER BY d.{column} {direction}, d.id {direction} LIMIT :limit OFFSET :offset"
        )
    if plan.tsq is not None:
        params["tsq"] = plan.tsq
        title_html = (
            f"ts_headline('catalogage_fr', translate(d.title, :sentinels, ''),"
            f" CAST(:tsq AS tsquery), '{highlight.TITLE_OPTIONS}')"
        )
        description_html = (
            f"ts_headline('catalogage_fr', translate(d.description, :sentinels, ''),"
            f" CAST(:tsq AS tsquery), '{highlight.DESCRIPTION_OPTIONS}')"
        )
    else:
        title_html = "translate(d.title, :sentinels, '')"
        description_html = "translate(left(d.description, 240), :sentinels, '')"
    params["sentinels"] = highlight.START + highlight.STOP
    sql = f"""
        SELECT d.id, d.title, {title_html} AS title_html, {description_html} AS description_html,
            o.siret, o.name, d.keywords, d.formats, d.geographical_coverage,
            d.update_frequency, d.license, d.visibility, d.created_at, d.updated_at,
            page.{"sort_value" if column else "rank"} AS sort_value
        FROM ({inner}) page
        JOIN dataset d ON d.id = page.id
        JOIN organization o ON o.siret = d.organization_siret
        ORDER BY {outer_order}
    """  # noqa: S608 - built from constants
    rows = (await session.execute(text(sql), params)).all()
    items = [
        SearchHit(
            id=row.id,
            title=row.title,
            title_html=highlight.to_html(row.title_html),
            description_html=highlight.to_html(row.description_html),
            organization=SearchOrganization(siret=row.siret, name=row.name),
            keywords=row.keywords,
            formats=row.formats,
            geographical_coverage=row.geographical_coverage,
            update_frequency=row.update_frequency,
            license=row.license,
            visibility=row.visibility,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]
    next_cursor = None
    if column is not None and len(rows) == request.page_size:
        next_cursor = Cursor.encode(rows[-1].sort_value, rows[-1].id)
    return items, next_cursor


async def _facets(
    session: AsyncSession, plan: _Plan, extra_fields: dict[str, ExtraField]
) -> tuple[dict[str, list[FacetValue]], int | None]:
    """The facets, and the total when counting it came free with them."""
    extra = list(extra_fields)
    facets = [
        *FACETS,
        *(Facet(name, f"d.extra_fields ->> CAST(:{_param(name)} AS text)") for name in extra),
    ]
    if plan.tsq is None and not plan.filters and not extra:
        counts, total = await _counted_facet_values(session, plan.scope), None
    else:
        counts, total = await _facet_values(session, plan, facets, extra_fields)
    organization_names = await _organization_names(
        session, [value for value, _ in counts["organization"]]
    )
    result: dict[str, list[FacetValue]] = {}
    for facet in facets:
        selected = set(plan.filters.get(facet.name, ()))
        result[facet.name] = [
            FacetValue(
                value=value,
                label=_facet_label(facet.name, value, organization_names),
                count=count,
                selected=value in selected,
            )
            for value, count in counts[facet.name]
        ]
    return result, total


async def _facet_values(
    session: AsyncSession,
    plan: _Plan,
    facets: list[Facet],
    extra_fields: dict[str, ExtraField],
) -> tuple[dict[str, list[tuple[str, int]]], int | None]:
    """Every facet's counts, each with all filters but its own, in one statement;
    with a text query, also the total (counted over the same matches).

    With a text query, the visible matches are found once (`matched`, with only the
    facet columns) and every facet groups those rows: matching reads each match's
    out-of-line search vector, which eight passes (seven facets and the extra
    fields') used to read eight times."""
    params: dict[str, Any] = {"facet_size": FACET_SIZE}
    for name in extra_fields:
        params[_param(name)] = name.removeprefix("extra.")
    source = "dataset d"
    prefix = ""
    if plan.tsq is not None:
        prefix = f"""WITH matched AS MATERIALIZED (
            SELECT d.organization_siret, d.keywords, d.formats, d.geographical_coverage,
                d.update_frequency, d.license, d.visibility, d.extra_fields
            FROM dataset d WHERE {plan.where(params, without_filters=True)}
        ) """  # noqa: S608 - built from constants
        source = "matched d"
    parts = []
    for facet in facets:
        selected_key = _param(facet.name) + "_selected"
        params[selected_key] = list(plan.filters.get(facet.name, ()))
        value = f"unnest({facet.value_sql})" if facet.array else facet.value_sql
        where = plan.where(params, except_facet=facet.name, filters_only=plan.tsq is not None)
        parts.append(
            f"""(SELECT coalesce(json_agg(json_build_array(value, n) ORDER BY n DESC, value), '[]')
                FROM (
                    SELECT value, n, row_number() OVER (ORDER BY n DESC, value) AS position
                    FROM (
                        SELECT {value} AS value, count(*) AS n FROM {source}
                        WHERE {where} GROUP BY 1
                    ) counted WHERE value IS NOT NULL
                ) ranked
                WHERE position <= :facet_size OR value = ANY(:{selected_key}))"""  # noqa: S608
        )
    if plan.tsq is not None:
        where = plan.where(params, filters_only=True)
        parts.append(f"(SELECT count(*) FROM matched d WHERE {where})")  # noqa: S608
    sql = prefix + "SELECT " + ", ".join(parts)
    row = (await session.execute(text(sql), params)).one()
    counts = {
        facet.name: [(value, n) for value, n in row[index]] for index, facet in enumerate(facets)
    }
    return counts, int(row[-1]) if plan.tsq is not None else None


async def _counted_facet_values(
    session: AsyncSession, scope: tuple[str, ...]
) -> dict[str, list[tuple[str, int]]]:
    """The fixed facets without query or filter, summed from `dataset_count` (a few
    hundred rows for a caller who is not an administrator) instead of grouping every
    visible dataset. Same values and order as `_facet_values`."""
    params: dict[str, Any] = {"facet_size": FACET_SIZE, "value_facets": list(_COUNTED_VALUE_FACETS)}
    visible = _counted_visibility_sql(scope, params)
    sql = f"""
        SELECT facet, value, n FROM (
            SELECT facet, value, n,
                row_number() OVER (PARTITION BY facet ORDER BY n DESC, value) AS position
            FROM (
                SELECT c.facet, c.value, sum(c.n) AS n FROM dataset_count c
                WHERE c.facet = ANY(:value_facets) AND {visible}
                GROUP BY 1, 2
                UNION ALL
                SELECT 'organization', c.organization_siret, sum(c.n) FROM dataset_count c
                WHERE c.facet = 'all' AND {visible}
                GROUP BY 2
                UNION ALL
                SELECT 'visibility', c.visibility, sum(c.n) FROM dataset_count c
                WHERE c.facet = 'all' AND {visible}
                GROUP BY 2
            ) counted WHERE n > 0
        ) ranked
        WHERE position <= :facet_size
        ORDER BY facet, n DESC, value
    """  # noqa: S608 - built from constants
    counts: dict[str, list[tuple[str, int]]] = {facet.name: [] for facet in FACETS}
    for facet, value, n in (await session.execute(text(sql), params)).all():
        counts[facet].append((value, int(n)))
    return counts


def _param(facet_name: str) -> str:
    return "facet_" + facet_name.replace(".", "_")


async def _organization_names(session: AsyncSession, sirets: list[str]) -> dict[str, str]:
    if not sirets:
        return {}
    rows = await session.execute(
        text("SELECT siret, name FROM organization WHERE siret = ANY(:sirets)"), {"sirets": sirets}
    )
    return {siret: name for siret, name in rows.all()}


def _facet_label(facet: str, value: str, organization_names: dict[str, str]) -> str:
    if facet == "organization":
        return organization_names.get(value, value)
    if facet == "frequency":
        return FREQUENCIES[UpdateFrequency(value)].label_fr
    if facet == "visibility":
        return VISIBILITY_LABELS.get(value, value)
    if facet.startswith("extra.") and value in BOOLEAN_LABELS:
        return BOOLEAN_LABELS[value]
    return value


# -- did you mean --------------------------------------------------------------


async def suggest(session: AsyncSession, scope: tuple[str, ...], q: str) -> str | None:
    """`q` with each unknown word replaced by the closest word of a visible title or
    keyword (trigram similarity); None when nothing close enough is found."""
    words = [w for w in parse(q).positive_words() if len(w) >= MIN_SUGGESTION_WORD]
    if not words:
        return None
    await session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.3"))
    corrected = q
    changed = False
    for word in words:
        params: dict[str, Any] = {"word": fold(word)}
        visible = _visibility_sql(scope, params)
        sql = f"""
            SELECT lower(candidate) AS candidate,
                similarity(catalogage_fold(candidate), :word) AS score
            FROM (
                SELECT d.title, d.keywords FROM dataset d
                WHERE {visible} AND :word <% d.search_text
                LIMIT 200
            ) close_to,
            LATERAL regexp_split_to_table(
                close_to.title || ' ' || array_to_string(close_to.keywords, ' '),
                '[[:space:][:punct:]]+'
            ) AS candidate
            WHERE length(candidate) >= {MIN_SUGGESTION_WORD}
            ORDER BY score DESC, candidate
            LIMIT 1
        """  # noqa: S608 - built from constants
        row = (await session.execute(text(sql), params)).one_or_none()
        if row is None or row.score < MIN_SIMILARITY or fold(row.candidate) == fold(word):
            continue
        corrected = corrected.replace(word, row.candidate, 1)
        changed = True
    return corrected if changed else None


# -- autocomplete ----------------------------------------------------------------

#: How many suggestions of each kind come first; the rest fills up to the limit.
_AUTOCOMPLETE_SHARE = {
    SuggestionKind.TITLE: 4,
    SuggestionKind.KEYWORD: 3,
    SuggestionKind.ORGANIZATION: 2,
    SuggestionKind.COVERAGE: 2,
}


async def autocomplete(
    session: AsyncSession,
    cache: GenerationCache,
    user: User | None,
    q: str,
    limit: int = MAX_AUTOCOMPLETE,
) -> bytes:
    """JSON list of at most `limit` `Suggestion`s for the text being typed."""
    q = check_query(q)
    prepared = await _prepare(session, q)
    tsq, generation = prepared.tsq, prepared.generation
    scope = scope_of(user)
    key = ("autocomplete", fold(q), limit, scope)

    async def compute() -> bytes:
        suggestions: list[Suggestion] = []
        prefix = fold(q).strip()
        if prefix and tsq is not None:
            suggestions = await _autocomplete(session, scope, tsq, prefix, limit)
        return json.dumps([s.model_dump(mode="json") for s in suggestions]).encode()

    return await cache.get_or_compute(key, generation, compute)


def _prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every string starting with `prefix`, in code point
    (text_pattern_ops) order."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are not characters
        last = 0xE000
    return prefix[:-1] + chr(last) if last <= 0x10FFFF else prefix + "\U0010ffff"


async def _autocomplete(
    session: AsyncSession, scope: tuple[str, ...], tsq: str, prefix: str, limit: int
) -> list[Suggestion]:
    """Every branch is an index range of at most `limit` rows, never a scan of the
    catalog: titles by their folded prefix (ix_dataset_title_fold; then, only when
    that gives fewer than `limit`, titles with a later word starting so), keywords and
    coverage values from the trigger-maintained `dataset_count` (the caller's visible
    rows: a few hundred), organizations from their small table."""
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params: dict[str, Any] = {
        "tsq_title": restrict_to_title(tsq),
        "starts": like + "%",
        "word_starts": "% " + like + "%",
        "low": prefix,
        "high": _prefix_upper_bound(prefix),
        "n": limit,
    }
    visible = _visibility_sql(scope, params)
    counted_visible = _counted_visibility_sql(scope, params)
    title_starts = "catalogage_fold(d.title) ~>=~ :low AND catalogage_fold(d.title) ~<~ :high"
    sql = f"""
        (SELECT * FROM (
            (SELECT 'title' AS kind, d.title AS value, CAST(d.id AS text) AS ref
             FROM dataset d
             WHERE {title_starts} AND {visible}
             ORDER BY catalogage_fold(d.title) USING ~<~, d.id
             LIMIT :n)
            UNION ALL
            (SELECT 'title', d.title, CAST(d.id AS text) FROM dataset d
             WHERE {visible} AND d.search_vector @@ CAST(:tsq_title AS tsquery)
               AND NOT ({title_starts})
             LIMIT :n)
         ) titles LIMIT :n)
        UNION ALL
        (SELECT 'keyword', c.value, NULL FROM dataset_count c
         WHERE c.facet = 'keyword' AND {counted_visible}
           AND (catalogage_fold(c.value) LIKE :starts OR catalogage_fold(c.value) LIKE :word_starts)
         GROUP BY c.value HAVING sum(c.n) > 0
         ORDER BY bool_or(catalogage_fold(c.value) LIKE :starts) DESC, length(c.value), c.value
         LIMIT :n)
        UNION ALL
        (SELECT 'organization', o.name, o.siret FROM organization o
         WHERE catalogage_fold(o.name) LIKE :starts OR catalogage_fold(o.name) LIKE :word_starts
         ORDER BY catalogage_fold(o.name) LIKE :starts DESC, length(o.name), o.name
         LIMIT :n)
        UNION ALL
        (SELECT 'coverage', c.value, NULL FROM dataset_count c
         WHERE c.facet = 'coverage' AND {counted_visible}
           AND (catalogage_fold(c.value) LIKE :starts OR catalogage_fold(c.value) LIKE :word_starts)
         GROUP BY c.value HAVING sum(c.n) > 0
         ORDER BY sum(c.n) DESC, c.value
         LIMIT :n)
    """  # noqa: S608 - built from constants
    rows = (await session.execute(text(sql), params)).all()
    by_kind: dict[SuggestionKind, list[Suggestion]] = {kind: [] for kind in SuggestionKind}
    for row in rows:
        kind = SuggestionKind(row.kind)
        by_kind[kind].append(Suggestion(kind=kind, value=row.value, ref=row.ref))
    chosen: list[Suggestion] = []
    for kind, share in _AUTOCOMPLETE_SHARE.items():
        chosen.extend(by_kind[kind][:share])
    for kind in SuggestionKind:
        for extra in by_kind[kind][_AUTOCOMPLETE_SHARE[kind] :]:
            if len(chosen) >= limit:
                break
            chosen.append(extra)
    order = list(SuggestionKind)
    chosen.sort(key=lambda s: order.index(s.kind))
    return chosen[:limit]
