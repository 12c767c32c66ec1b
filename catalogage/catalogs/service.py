"""Reading a catalog and changing its extra field definitions.

Adding fields is always allowed. Removing a field, changing its type, removing
enum choices, or making a field required *narrows* the catalog: when datasets
hold values the change would invalidate (or lack a now-required value), the
change is refused with 409 unless `force` is given. A forced change strips the
invalidated values from the datasets (each gets a history entry) and the
catalog's history records what was forced.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.models import User
from catalogage.catalogs.models import Catalog, ExtraField
from catalogage.catalogs.schemas import ExtraFieldDefinition, ExtraFieldRead
from catalogage.datasets.models import Dataset
from catalogage.errors import Conflict, FieldError, NotFound
from catalogage.history import service as history
from catalogage.history.models import HistoryEntry


async def get_catalog(session: AsyncSession, siret: str) -> Catalog:
    catalog = await session.get(Catalog, siret)
    if catalog is None:
        raise NotFound("Catalog not found")
    return catalog


def _definitions_json(fields: list[ExtraField]) -> list[dict[str, Any]]:
    return [ExtraFieldRead.model_validate(field).model_dump(mode="json") for field in fields]


async def _count(session: AsyncSession, siret: str, condition: ColumnElement[bool]) -> int:
    statement = select(func.count()).where(Dataset.organization_siret == siret, condition)
    return (await session.scalar(statement)) or 0


def _has_value(name: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = Dataset.extra_fields.has_key(name)
    return condition


def _value_in(name: str, values: list[str]) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = Dataset.extra_fields[name].astext.in_(values)
    return condition


async def replace_extra_fields(
    session: AsyncSession,
    actor: User | None,
    siret: str,
    definitions: list[ExtraFieldDefinition],
    *,
    force: bool,
) -> Catalog:
    catalog = await get_catalog(session, siret)
    # Serialise concurrent definition changes of one catalog.
    await session.execute(
        select(Catalog).where(Catalog.organization_siret == siret).with_for_update()
    )
    old = {field.name: field for field in catalog.extra_fields}
    new = {definition.name: definition for definition in definitions}

    # (field name, why, condition selecting the datasets whose value must go)
    strip: list[tuple[str, str, ColumnElement[bool]]] = []
    conflicts: list[FieldError] = []
    forced: dict[str, int] = {}
    for name, before in old.items():
        after = new.get(name)
        if after is None or after.type.value != before.type:
            why = "removed" if after is None else "type changed"
            strip.append((name, why, _has_value(name)))
        elif before.type == "enum" and set(before.choices) - set(after.choices):
            removed = sorted(set(before.choices) - set(after.choices))
            strip.append((name, f"choices removed: {', '.join(removed)}", _value_in(name, removed)))
        if after is not None and after.required and not before.required:
            missing = await _count(session, siret, ~_has_value(name))
            if missing:
                conflicts.append(
                    FieldError(f"extra_fields.{name}", f"{missing} dataset(s) have no value")
                )
                forced[name] = missing
    for name, why, condition in strip:
        affected = await _count(session, siret, condition)
        if affected:
            conflicts.append(
                FieldError(f"extra_fields.{name}", f"{why}: {affected} dataset(s) have a value")
            )
            forced[name] = affected
    if conflicts and not force:
        raise Conflict(
            "This change would invalidate existing values; repeat it with force=true to apply it",
            fields=conflicts,
        )

    for name, _, condition in strip:
        await _strip_values(session, actor, siret, name, condition)

    before_json = _definitions_json(catalog.extra_fields)
    catalog.extra_fields.clear()
    await session.flush()
    catalog.extra_fields.extend(
        ExtraField(
            catalog_siret=siret,
            name=d.name,
            label=d.label,
            hint=d.hint,
            type=d.type.value,
            choices=list(d.choices),
            required=d.required,
            position=position,
        )
        for position, d in enumerate(definitions)
    )
    await session.flush()
    changes = history.diff(
        {"extra_fields": before_json}, {"extra_fields": _definitions_json(catalog.extra_fields)}
    )
    if forced:
        changes["forced"] = [None, forced]
    if changes:
        await history.record(
            session,
            entity_type="catalog",
            entity_id=siret,
            action=history.Action.UPDATE,
            actor=actor,
            changes=changes,
        )
    return catalog


async def _strip_values(
    session: AsyncSession,
    actor: User | None,
    siret: str,
    name: str,
    condition: ColumnElement[bool],
) -> None:
    """Remove the `name` value from the matching datasets, with one history entry each."""
    where = (Dataset.organization_siret == siret, condition)
    await session.execute(
        insert(HistoryEntry).from_select(
            ["entity_type", "entity_id", "action", "actor_id", "changes"],
            select(
                literal("dataset"),
                cast(Dataset.id, String),
                literal(history.Action.UPDATE.value),
                literal(actor.id if actor else None, type_=HistoryEntry.actor_id.type),
                func.jsonb_build_object(
                    f"extra_fields.{name}",
                    func.jsonb_build_array(Dataset.extra_fields[name], None),
                ),
            ).where(*where),
        )
    )
    await session.execute(
        update(Dataset)
        .where(*where)
        .values(
            extra_fields=Dataset.extra_fields.op("-")(name),
            version=Dataset.version + 1,
            updated_at=func.now(),
        )
    )
