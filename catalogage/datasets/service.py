"""Dataset operations. Callers check permissions (see `routes.py`) before writing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Row, Select, UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.auth import visible_organizations
from catalogage.accounts.models import User
from catalogage.catalogs.extra_values import validate_extra_values
from catalogage.catalogs.service import get_catalog
from catalogage.datasets.models import Dataset, Visibility
from catalogage.datasets.schemas import DatasetFields, DatasetPatch, DatasetRead
from catalogage.datasets.visibility import visible_to
from catalogage.errors import (
    FieldError,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    validation_fields,
)
from catalogage.history import service as history
from catalogage.organizations.models import Organization
from catalogage.search import service as search
from catalogage.search.cache import GenerationCache
from catalogage.vocabularies import service as vocabularies

#: Fields recorded in history and compared for diffs (everything a user edits).
TRACKED_FIELDS = tuple(DatasetFields.model_fields)


class Sort(StrEnum):
    UPDATED_DESC = "-updated_at"
    UPDATED = "updated_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"
    #: Best match first (with `q`; without it, same as -updated_at).
    RELEVANCE = "relevance"


_ORDER: dict[Sort, tuple[UnaryExpression[Any], UnaryExpression[Any]]] = {
    Sort.UPDATED_DESC: (Dataset.updated_at.desc(), Dataset.id.desc()),
    Sort.UPDATED: (Dataset.updated_at.asc(), Dataset.id.asc()),
    Sort.TITLE: (Dataset.title.asc(), Dataset.id.asc()),
    Sort.TITLE_DESC: (Dataset.title.desc(), Dataset.id.desc()),
    Sort.CREATED: (Dataset.created_at.asc(), Dataset.id.asc()),
    Sort.CREATED_DESC: (Dataset.created_at.desc(), Dataset.id.desc()),
}


@dataclass
class DatasetFilters:
    organizations: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    visibility: list[Visibility] = field(default_factory=list)
    updated_since: datetime | None = None
    #: Search box text (see catalogage/search/query.py).
    text: str = ""


def snapshot(dataset: Dataset | Row[Any]) -> dict[str, Any]:
    """The tracked fields as JSON values (dates as ISO strings), of a `Dataset` or of a
    row selecting those columns (imports compare rows without loading objects)."""
    values: dict[str, Any] = {}
    for name in TRACKED_FIELDS:
        value = getattr(dataset, name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, list | dict):
            value = value.copy()
        values[name] = value
    return values


def _filtered(
    statement: Select[Any],
    viewer: User | None,
    filters: DatasetFilters,
    text_match: search.TextMatch | None,
) -> Select[Any]:
    statement = statement.where(visible_to(visible_organizations(viewer)))
    if text_match is not None:
        statement = statement.where(text_match.condition)
    if filters.organizations:
        statement = statement.where(Dataset.organization_siret.in_(filters.organizations))
    if filters.tags:
        # Several tags: datasets having any of them.
        statement = statement.where(Dataset.keywords.overlap(filters.tags))
    if filters.formats:
        statement = statement.where(Dataset.formats.overlap(filters.formats))
    if filters.visibility:
        statement = statement.where(Dataset.visibility.in_([v.value for v in filters.visibility]))
    if filters.updated_since:
        statement = statement.where(Dataset.updated_at >= filters.updated_since)
    return statement


async def list_datasets(
    session: AsyncSession,
    viewer: User | None,
    filters: DatasetFilters,
    *,
    sort: Sort = Sort.UPDATED_DESC,
    offset: int = 0,
    limit: int = 20,
) -> tuple[Sequence[Dataset], int]:
    """One page of the datasets `viewer` may see, and how many there are in all."""
    text_match = await search.text_match(session, filters.text) if filters.text else None
    count = _filtered(select(func.count()).select_from(Dataset), viewer, filters, text_match)
    if not (filters.text or filters.tags or filters.formats or filters.updated_since):
        # Exact, from the trigger-maintained counts: no dataset row is read.
        total = await search.visible_total(
            session, viewer, filters.organizations, [v.value for v in filters.visibility]
        )
    else:
        total = await session.scalar(count)
    if sort is Sort.RELEVANCE:
        order = (
            (text_match.rank.desc(), Dataset.id.asc())
            if text_match is not None
            else _ORDER[Sort.UPDATED_DESC]
        )
    else:
        order = _ORDER[sort]
    page = await session.scalars(
        _filtered(select(Dataset), viewer, filters, text_match)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )
    return page.all(), total or 0


_PAGE_ADAPTER = TypeAdapter(list[DatasetRead])


async def list_page(
    session: AsyncSession,
    viewer: User | None,
    filters: DatasetFilters,
    *,
    sort: Sort,
    offset: int,
    limit: int,
    cache: GenerationCache,
) -> tuple[bytes, int]:
    """`list_datasets` as the JSON body `GET /datasets/` answers, and the total.

    Cached for the catalog generation and the viewer's visibility scope, like search
    answers (see catalogage/search/cache.py for why a cached answer is exactly as
    correct as a recomputed one). Encoding 20 full records is most of the cost of a
    listing, which is why the encoded body is what is kept.
    """

    async def compute() -> bytes:
        items, total = await list_datasets(
            session, viewer, filters, sort=sort, offset=offset, limit=limit
        )
        body = _PAGE_ADAPTER.dump_json([DatasetRead.model_validate(item) for item in items])
        return total.to_bytes(8, "big") + body

    generation = await search.current_generation(session) if cache.enabled else 0
    key = (
        "datasets",
        json.dumps(asdict(filters), default=str, sort_keys=True),
        sort,
        offset,
        limit,
        search.scope_of(viewer),
    )
    value = await cache.get_or_compute(key, generation, compute)
    return value[8:], int.from_bytes(value[:8], "big")


async def get_dataset(session: AsyncSession, viewer: User | None, dataset_id: uuid.UUID) -> Dataset:
    """The dataset, if `viewer` may see it; 404 otherwise (drafts are not revealed)."""
    dataset = await session.scalar(
        select(Dataset).where(Dataset.id == dataset_id, visible_to(visible_organizations(viewer)))
    )
    if dataset is None:
        raise NotFound("Dataset not found")
    return dataset


async def lock_dataset(session: AsyncSession, viewer: User, dataset_id: uuid.UUID) -> Dataset:
    """The dataset, locked for update until the transaction ends."""
    dataset = await session.scalar(
        select(Dataset)
        .where(Dataset.id == dataset_id, visible_to(visible_organizations(viewer)))
        .with_for_update(of=Dataset)
    )
    if dataset is None:
        raise NotFound("Dataset not found")
    return dataset


def check_version(dataset: Dataset, expected_version: int) -> None:
    """412 unless the dataset is still at the version the client edited."""
    if dataset.version != expected_version:
        raise PreconditionFailed(
            f"The dataset was modified meanwhile (now version {dataset.version}); "
            "reload it and apply your changes again"
        )


async def _normalized(session: AsyncSession, siret: str, data: DatasetFields) -> dict[str, Any]:
    """Column values for `data`: canonical keywords and formats, checked extra fields."""
    catalog = await get_catalog(session, siret)
    errors: list[FieldError] = []
    try:
        extra = validate_extra_values(catalog.extra_fields, data.extra_fields)
    except ValidationFailed as exc:
        errors.extend(exc.fields or [])
        extra = {}
    try:
        formats = await vocabularies.canonical_formats(session, data.formats)
    except ValidationFailed as exc:
        errors.extend(exc.fields or [])
        formats = []
    if errors:
        raise ValidationFailed(errors)
    values = data.model_dump(include=set(TRACKED_FIELDS) - {"extra_fields"})
    values["keywords"] = await vocabularies.canonical_tags(session, data.keywords)
    values["formats"] = formats
    values["contact_emails"] = list(dict.fromkeys(values["contact_emails"]))
    values["visibility"] = data.visibility.value
    values["update_frequency"] = data.update_frequency.value if data.update_frequency else None
    values["extra_fields"] = extra
    return values


async def create_dataset(
    session: AsyncSession, actor: User | None, siret: str, data: DatasetFields
) -> Dataset:
    if await session.get(Organization, siret) is None:
        raise ValidationFailed([FieldError("organization_siret", "unknown organization")])
    actor_id = actor.id if actor else None
    dataset = Dataset(
        id=uuid.uuid4(),
        organization_siret=siret,
        created_by=actor_id,
        updated_by=actor_id,
        version=1,
        **await _normalized(session, siret, data),
    )
    session.add(dataset)
    await session.flush()
    await session.refresh(dataset)
    await history.record(
        session,
        entity_type="dataset",
        entity_id=str(dataset.id),
        action=history.Action.CREATE,
        actor=actor,
        changes=history.diff({}, snapshot(dataset)),
    )
    return dataset


async def replace_dataset(
    session: AsyncSession, actor: User | None, dataset: Dataset, data: DatasetFields
) -> Dataset:
    """Apply `data` to a dataset locked by `lock_dataset`; a no-op keeps the version."""
    before = snapshot(dataset)
    for name, value in (await _normalized(session, dataset.organization_siret, data)).items():
        setattr(dataset, name, value)
    changes = history.diff(before, snapshot(dataset))
    if not changes:
        return dataset
    dataset.version += 1
    dataset.updated_at = func.now()
    dataset.updated_by = actor.id if actor else None
    await session.flush()
    await session.refresh(dataset)
    await history.record(
        session,
        entity_type="dataset",
        entity_id=str(dataset.id),
        action=history.Action.UPDATE,
        actor=actor,
        changes=changes,
    )
    return dataset


def merge_patch(dataset: Dataset, patch: DatasetPatch) -> DatasetFields:
    """The full field set once `patch` is applied, validated as a whole."""
    values = snapshot(dataset)
    values.update(patch.model_dump(mode="json", exclude_unset=True))
    try:
        return DatasetFields.model_validate(values)
    except PydanticValidationError as exc:
        raise ValidationFailed(validation_fields(list(exc.errors()))) from None


async def delete_dataset(session: AsyncSession, actor: User | None, dataset: Dataset) -> None:
    await history.record(
        session,
        entity_type="dataset",
        entity_id=str(dataset.id),
        action=history.Action.DELETE,
        actor=actor,
        changes=history.diff(snapshot(dataset), {}),
    )
    await session.delete(dataset)
    await session.flush()
