"""Planning and applying many dataset writes at once (file imports and harvests).

A *candidate* is one incoming record: the dataset fields it gives (absent fields
keep their current value on update) and how to find the dataset it describes.
`plan_changes` validates every candidate with the same rules as the JSON API
(`DatasetFields`, canonical keywords and formats, the catalog's extra fields),
matches it to an existing dataset and computes what would change, touching the
database only in bulk. `apply_plan` then writes everything with a handful of
multi-row statements, recording history like single edits do.

Callers run both in one transaction: a dry run rolls it back, an apply commits
it only when no candidate was rejected.
"""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError
from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts.models import User
from catalogage.catalogs.extra_values import validate_extra_values
from catalogage.catalogs.models import Catalog
from catalogage.datasets.models import Dataset, Visibility
from catalogage.datasets.schemas import DatasetFields
from catalogage.datasets.service import TRACKED_FIELDS, snapshot
from catalogage.errors import Conflict, ValidationFailed, validation_fields
from catalogage.history import service as history
from catalogage.interop.schemas import ImportReport, Problem, RowAction, RowReport
from catalogage.interop.tabular import COLUMN_OF_FIELD, folded
from catalogage.schemas import nul_path
from catalogage.vocabularies import service as vocabularies
from catalogage.vocabularies.normalize import clean

#: Namespace of our advisory locks on catalogs (the second key is the SIRET's hash).
CATALOG_WRITE_LOCK = 0x696D_706F  # "impo"


#: Imports running in this process, and whether the collector ran before the first.
_paused = 0
_was_enabled = True


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is checked and applied.

    Checking a file allocates a few objects per cell and keeps them until the
    report is sent; the collector would scan them again and again as they pile
    up (half the CPU time of a 20,000-row dry run). They hold no cycles worth
    collecting early. Reference counting still frees everything else, and the
    collector resumes when the last concurrent import ends (imports into
    different catalogs may overlap in one event loop).
    """
    global _paused, _was_enabled
    if _paused == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0 and _was_enabled:
            gc.enable()


@lru_cache(maxsize=65_536)
def _email_check(value: str) -> tuple[str, PydanticCustomError | None]:
    """pydantic's `EmailStr` check of `value`: (normalized address, None) or (value, error)."""
    try:
        return validate_email(value)[1], None
    except PydanticCustomError as exc:
        return value, exc


def _checked_email(value: str) -> str:
    address, error = _email_check(value)
    if error is not None:
        # A new exception each time: raising a cached one would grow its traceback.
        raise PydanticCustomError(error.type, error.message_template, error.context)
    return address


#: `EmailStr`, checking each distinct address once: files repeat their contacts on
#: every row, and the check is most of the cost of validating a row.
_RepeatedEmail = Annotated[str, AfterValidator(_checked_email)]


class _RowFields(DatasetFields):
    """`DatasetFields` with the same rules, checked faster: e-mail checks are cached (see
    `_RepeatedEmail`) and the walk looking for NUL characters only runs when one may be
    there."""

    service_contact_email: _RepeatedEmail | None = None
    contact_emails: Annotated[list[_RepeatedEmail], Field(min_length=1, max_length=20)]

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        # repr() shows a NUL as \x00 (a text may also spell it out: the walk then decides).
        if "\\x00" in repr(data):
            path = nul_path(data)
            if path is not None:
                raise ValueError(f"{path or 'body'}: must not contain NUL characters")
        return data


@dataclass
class Candidate:
    #: Row number in the file, or position in the harvested source.
    row: int
    #: DatasetFields input values (JSON-like) of the fields the record gives.
    values: dict[str, Any] = field(default_factory=dict)
    #: Extra field values the record gives, by name.
    extra: dict[str, Any] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: Our dataset id, when the file has an `id` column.
    dataset_id: uuid.UUID | None = None
    #: The dataset's identifier at a harvest source.
    remote_id: str | None = None


@dataclass
class PlannedWrite:
    report: RowReport
    values: dict[str, Any]
    #: History entry changes: `{field: [old, new]}`.
    changes: dict[str, list[Any]]
    remote_id: str | None = None


@dataclass
class Plan:
    report: ImportReport
    writes: list[PlannedWrite] = field(default_factory=list)
    #: Harvest: remote id -> dataset id of every dataset matched or created.
    matched_remote: dict[str, uuid.UUID] = field(default_factory=dict)


def column_of(name: str) -> str:
    """The file column an error about DatasetFields attribute `name` concerns."""
    if name.startswith("extra_fields."):
        return name.removeprefix("extra_fields.")
    head = name.split(".", 1)[0]
    return COLUMN_OF_FIELD.get(head, head)


async def lock_catalog(session: AsyncSession, siret: str) -> None:
    """Take the catalog's write lock for this transaction, or refuse with 409.

    Imports and harvests into one catalog never interleave: the second one is
    refused at once rather than queued behind a long first one.
    """
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:namespace, hashtext(:siret))"),
        {"namespace": CATALOG_WRITE_LOCK, "siret": siret},
    )
    if not locked:
        raise Conflict(
            f"Another import or harvest into catalog {siret} is running; "
            "try again once it has finished"
        )


_EXISTING_COLUMNS = [Dataset.id, *(getattr(Dataset, name) for name in TRACKED_FIELDS)]


async def _existing(session: AsyncSession, siret: str, for_update: bool) -> Sequence[Row[Any]]:
    statement = select(*_EXISTING_COLUMNS).where(Dataset.organization_siret == siret)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).all()


class _Formats:
    """Canonical format names, asking the vocabulary service once per distinct name."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.known: dict[str, str | None] = {}

    async def canonical(self, names: list[str]) -> tuple[list[str], list[str]]:
        """(canonical names, unknown names)."""
        result: list[str] = []
        unknown: list[str] = []
        for name in names:
            key = folded(clean(name))
            if key not in self.known:
                try:
                    found = await vocabularies.canonical_formats(self.session, [name])
                    self.known[key] = found[0] if found else None
                except ValidationFailed:
                    self.known[key] = None
            canonical = self.known[key]
            if canonical is None:
                unknown.append(name)
            elif canonical not in result:
                result.append(canonical)
        return result, unknown


def _problems(exc: PydanticValidationError, given: dict[str, Any]) -> list[Problem]:
    problems = []
    for error in validation_fields(list(exc.errors())):
        name = str(error["field"])
        message = str(error["message"])
        head = name.split(".", 1)[0]
        if head in given and given[head] in (None, [], ""):
            message = "required"
        problems.append(Problem(field=column_of(name), message=message))
    return problems


@dataclass
class _Validated:
    candidate: Candidate
    report: RowReport
    data: DatasetFields
    extra: dict[str, Any]
    formats: list[str]
    existing: Row[Any] | None
    #: `snapshot(existing)`, when there is one.
    before: dict[str, Any] | None


async def plan_changes(
    session: AsyncSession,
    catalog: Catalog,
    candidates: Sequence[Candidate],
    report: ImportReport,
    *,
    visibility: Visibility,
    for_update: bool,
    harvested: dict[str, uuid.UUID] | None = None,
    fed_by_sources: frozenset[uuid.UUID] = frozenset(),
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Validate and match every candidate; fill `report.rows`.

    `harvested` (harvests only) maps remote ids already harvested from the source
    to their datasets; other remote ids are matched by title among the datasets
    no harvest source feeds (`fed_by_sources` lists those fed by one).
    """
    siret = catalog.organization_siret
    plan = Plan(report)
    existing_rows = await _existing(session, siret, for_update)
    by_id = {row.id: row for row in existing_rows}
    fed_by_a_source = fed_by_sources
    by_title: dict[str, list[Row[Any]]] = {}
    for row in existing_rows:
        if row.id not in fed_by_a_source:
            by_title.setdefault(folded(row.title), []).append(row)
    formats = _Formats(session)
    seen: dict[object, int] = {}
    validated: list[_Validated] = []
    tag_names: list[str] = []

    for index, candidate in enumerate(candidates):
        if progress and index % 500 == 0:
            progress(index)
        title = candidate.values.get("title")
        row_report = RowReport(
            row=candidate.row,
            action=RowAction.REJECT,
            title=title if isinstance(title, str) else None,
            remote_id=candidate.remote_id,
            errors=list(candidate.errors),
            warnings=list(candidate.warnings),
        )
        report.rows.append(row_report)
        # A candidate with errors is still checked, so that the report lists all its problems.

        target: Row[Any] | None = None
        if candidate.dataset_id is not None:
            target = by_id.get(candidate.dataset_id)
            if target is None:
                row_report.errors.append(
                    Problem(field="id", message="no dataset with this id in this catalog")
                )
                continue
        elif (
            candidate.remote_id is not None
            and harvested is not None
            and (candidate.remote_id in harvested)
        ):
            target = by_id.get(harvested[candidate.remote_id])
        elif isinstance(title, str) and title.strip():
            matches = by_title.get(folded(title), [])
            if len(matches) > 1:
                row_report.errors.append(
                    Problem(
                        field="titre",
                        message=f"{len(matches)} datasets of this catalog have this title; "
                        "add an id column to say which one this row updates",
                    )
                )
                continue
            target = matches[0] if matches else None

        key: object = target.id if target is not None else ("new", folded(str(title or "")))
        if key in seen:
            row_report.errors.append(
                Problem(field="titre", message=f"same dataset as row {seen[key]}")
            )
            continue
        seen[key] = candidate.row

        before = snapshot(target) if target is not None else None
        if before is not None:
            values = dict(before)
            extra_values = dict(values.get("extra_fields") or {})
        else:
            values = {"visibility": visibility.value}
            extra_values = {}
        values.update(candidate.values)
        extra_values.update(candidate.extra)
        values["extra_fields"] = {}
        errors: list[Problem] = []
        try:
            data = _RowFields.model_validate(values)
        except PydanticValidationError as exc:
            errors.extend(_problems(exc, candidate.values))
        try:
            extra = validate_extra_values(catalog.extra_fields, extra_values)
        except ValidationFailed as exc:
            errors.extend(
                Problem(field=column_of(str(f["field"])), message=str(f["message"]))
                for f in exc.fields or []
            )
        format_names = values.get("formats")
        canonical: list[str] = []
        if isinstance(format_names, list) and all(isinstance(n, str) for n in format_names):
            canonical, unknown = await formats.canonical(format_names)
            if unknown:
                errors.append(
                    Problem(
                        field="format",
                        message=f"unknown format(s): {', '.join(unknown)}; see GET /formats/",
                    )
                )
        row_report.errors.extend(errors)
        if row_report.errors:
            continue
        tag_names.extend(data.keywords)
        validated.append(_Validated(candidate, row_report, data, extra, canonical, target, before))

    canonical_tags = await _canonical_tags(session, tag_names)
    for item in validated:
        after_values = _normalized(item.data, item.extra, item.formats, canonical_tags)
        # The column values as JSON (what `snapshot` gives once they are stored).
        after = {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in after_values.items()
        }
        changes = history.diff(item.before or {}, after)
        item.report.title = item.data.title
        if item.existing is None:
            item.report.action = RowAction.CREATE
            item.report.dataset_id = uuid.uuid4()
        else:
            item.report.dataset_id = item.existing.id
            item.report.action = RowAction.UPDATE if changes else RowAction.UNCHANGED
        if item.existing is not None:
            item.report.changes = _by_column(changes)
        if item.candidate.remote_id is not None:
            plan.matched_remote[item.candidate.remote_id] = item.report.dataset_id
        if item.report.action is not RowAction.UNCHANGED:
            plan.writes.append(
                PlannedWrite(
                    report=item.report,
                    values=after_values,
                    changes=changes,
                    remote_id=item.candidate.remote_id,
                )
            )
    report.count()
    return plan


async def _canonical_tags(session: AsyncSession, names: list[str]) -> dict[str, str]:
    """Folded keyword -> canonical spelling, creating unknown keywords (one round trip)."""
    spellings = {folded(clean(name)): name for name in names if clean(name)}
    canonical = await vocabularies.canonical_tags(session, list(spellings.values()))
    return dict(zip(spellings, canonical, strict=True))


def _normalized(
    data: DatasetFields, extra: dict[str, Any], formats: list[str], tags: dict[str, str]
) -> dict[str, Any]:
    """Column values, as `catalogage.datasets.service` stores them for a single edit."""
    values = data.model_dump(exclude={"extra_fields"})
    values["keywords"] = list(dict.fromkeys(tags[folded(clean(k))] for k in data.keywords))
    values["formats"] = formats
    values["contact_emails"] = list(dict.fromkeys(values["contact_emails"]))
    values["visibility"] = data.visibility.value
    values["update_frequency"] = data.update_frequency.value if data.update_frequency else None
    values["extra_fields"] = extra
    return values


def _by_column(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = {}
    for name, (old, new) in changes.items():
        if name == "extra_fields":
            old_extra, new_extra = old or {}, new or {}
            for key in sorted(old_extra.keys() | new_extra.keys()):
                if old_extra.get(key) != new_extra.get(key):
                    result[key] = [old_extra.get(key), new_extra.get(key)]
        else:
            result[COLUMN_OF_FIELD.get(name, name)] = [old, new]
    return result


#: Dataset columns an import writes, in the order of the COPY records.
_WRITTEN = list(TRACKED_FIELDS)
_JSON_COLUMNS = frozenset({"extra_fields"})
#: Staging table of the updates (dropped with the transaction that made it).
_STAGED_UPDATES = "import_staged_update"


def _record(values: dict[str, Any]) -> list[Any]:
    # The JSONB codec of SQLAlchemy's asyncpg dialect takes JSON text.
    return [
        json.dumps(values[name]) if name in _JSON_COLUMNS else values[name] for name in _WRITTEN
    ]


async def apply_plan(session: AsyncSession, actor: User | None, siret: str, plan: Plan) -> None:
    """Write the plan's creates and updates (in the caller's transaction), with history.

    Rows travel by COPY and each table gets one statement, so the statement
    triggers of `dataset` (search state, counted catalog) run once per import
    rather than once per row; the row trigger computing search vectors still runs
    for every row, as for single edits.
    """
    actor_id = actor.id if actor else None
    creates = [w for w in plan.writes if w.report.action is RowAction.CREATE]
    updates = [w for w in plan.writes if w.report.action is RowAction.UPDATE]
    connection = await session.connection()
    # asyncpg's COPY, on the connection (and in the transaction) of the session.
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        raise RuntimeError("the session's database connection is closed")
    if creates:
        await driver.copy_records_to_table(
            "dataset",
            columns=["id", "organization_siret", "created_by", "updated_by", "version", *_WRITTEN],
            records=[
                [write.report.dataset_id, siret, actor_id, actor_id, 1, *_record(write.values)]
                for write in creates
            ],
        )
    if updates:
        # Built from constants only.
        create_staging = (
            f"CREATE TEMPORARY TABLE {_STAGED_UPDATES} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT id, {', '.join(_WRITTEN)} FROM dataset WITH NO DATA"
        )
        await connection.execute(text(create_staging))
        await driver.copy_records_to_table(
            _STAGED_UPDATES,
            columns=["id", *_WRITTEN],
            records=[[write.report.dataset_id, *_record(write.values)] for write in updates],
        )
        # Rows were locked FOR UPDATE when planned: no concurrent edit slipped in.
        assignments = ", ".join(f"{name} = staged.{name}" for name in _WRITTEN)
        update_from_staging = (
            f"UPDATE dataset SET {assignments}, version = dataset.version + 1, "  # noqa: S608
            f"updated_at = now(), updated_by = :actor FROM {_STAGED_UPDATES} staged "
            "WHERE dataset.id = staged.id"
        )
        await connection.execute(text(update_from_staging), {"actor": actor_id})
        await connection.execute(text(f"DROP TABLE {_STAGED_UPDATES}"))
    if plan.writes:
        await driver.copy_records_to_table(
            "history_entry",
            columns=["entity_type", "entity_id", "action", "actor_id", "changes"],
            records=[
                [
                    "dataset",
                    str(write.report.dataset_id),
                    (
                        history.Action.CREATE
                        if write.report.action is RowAction.CREATE
                        else history.Action.UPDATE
                    ).value,
                    actor_id,
                    json.dumps(write.changes),
                ]
                for write in plan.writes
            ],
        )
