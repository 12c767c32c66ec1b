"""Looking up and extending vocabularies. Terms are matched on their folded key."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.errors import Conflict, FieldError, ValidationFailed
from catalogage.vocabularies.models import Format, License, Tag
from catalogage.vocabularies.normalize import clean, fold


def _unique_by_key(names: Sequence[str]) -> dict[str, str]:
    """Folded key -> first spelling, in input order, dropping empty names."""
    result: dict[str, str] = {}
    for name in names:
        spelling = clean(name)
        if spelling:
            result.setdefault(fold(spelling), spelling)
    return result


async def canonical_tags(session: AsyncSession, names: Sequence[str]) -> list[str]:
    """The canonical spelling of each keyword, creating unknown ones ("foret" -> "Forêt")."""
    wanted = _unique_by_key(names)
    if not wanted:
        return []
    await session.execute(
        insert(Tag)
        .values([{"name": name, "key": key} for key, name in wanted.items()])
        .on_conflict_do_nothing(index_elements=[Tag.key])
    )
    rows = await session.execute(select(Tag.key, Tag.name).where(Tag.key.in_(wanted)))
    canonical = dict(rows.all())
    return [canonical[key] for key in wanted]


async def canonical_formats(session: AsyncSession, names: Sequence[str]) -> list[str]:
    """The canonical spelling of each format; unknown formats are a validation error."""
    wanted = _unique_by_key(names)
    rows = await session.execute(select(Format.key, Format.name).where(Format.key.in_(wanted)))
    canonical = dict(rows.all())
    unknown = [name for key, name in wanted.items() if key not in canonical]
    if unknown:
        raise ValidationFailed(
            [FieldError("formats", f"unknown format(s): {', '.join(unknown)}; see GET /formats/")]
        )
    return [canonical[key] for key in wanted]


async def list_formats(session: AsyncSession) -> Sequence[Format]:
    return (await session.scalars(select(Format).order_by(Format.key))).all()


async def list_licenses(session: AsyncSession) -> Sequence[License]:
    result = await session.scalars(select(License).order_by(License.is_open.desc(), License.key))
    return result.all()


async def list_tags(session: AsyncSession, prefix: str = "", limit: int = 50) -> Sequence[Tag]:
    statement = select(Tag).order_by(Tag.key).limit(limit)
    if prefix:
        key = fold(prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Tag.key.like(key + "%"))
    return (await session.scalars(statement)).all()


async def add_format(session: AsyncSession, name: str, eu_file_type: str | None) -> Format:
    term = Format(name=clean(name), key=fold(name), eu_file_type=eu_file_type)
    await _add_unique(session, term, "format")
    return term


async def add_license(session: AsyncSession, name: str, url: str | None, is_open: bool) -> License:
    term = License(name=clean(name), key=fold(name), url=url, is_open=is_open)
    await _add_unique(session, term, "license")
    return term


async def _add_unique(session: AsyncSession, term: Format | License, kind: str) -> None:
    model: type[Format] | type[License] = type(term)
    existing = await session.scalar(select(model.name).where(model.key == term.key))
    if existing is not None:
        raise Conflict(
            f"This {kind} already exists as {existing!r}",
            fields=[FieldError("name", "already exists")],
        )
    session.add(term)
    await session.flush()
