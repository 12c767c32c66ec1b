"""Recording and reading history entries."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.models import User
from catalogage.history.models import HistoryEntry


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for every field whose JSON value differs."""
    fields = before.keys() | after.keys()
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(fields)
        if before.get(name) != after.get(name)
    }


async def record(
    session: AsyncSession,
    *,
    entity_type: str,
    entity_id: str,
    action: Action,
    actor: User | None,
    changes: dict[str, Any],
) -> None:
    session.add(
        HistoryEntry(
            entity_type=entity_type,
            entity_id=entity_id,
            action=action.value,
            actor_id=actor.id if actor else None,
            changes=changes,
        )
    )


async def entries(
    session: AsyncSession, entity_type: str, entity_id: str
) -> Sequence[tuple[HistoryEntry, str | None]]:
    """Entries oldest first, each with the actor's name (None if unknown or deleted)."""
    rows = await session.execute(
        select(HistoryEntry, User.name)
        .outerjoin(User, User.id == HistoryEntry.actor_id)
        .where(HistoryEntry.entity_type == entity_type, HistoryEntry.entity_id == entity_id)
        .order_by(HistoryEntry.id)
    )
    return [(entry, name) for entry, name in rows.all()]
