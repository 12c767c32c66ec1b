"""JSON API for vocabularies: formats, licenses, frequencies, keywords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from catalogage.accounts.auth import Admin, AnyCaller
from catalogage.dependencies import DbSession
from catalogage.schemas import HttpUrl, Input, Output, ShortText
from catalogage.vocabularies import service
from catalogage.vocabularies.frequencies import FREQUENCIES, UpdateFrequency

router = APIRouter(tags=["vocabularies"])


class FormatRead(Output):
    name: str
    eu_file_type: str | None


class FormatCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    eu_file_type: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,32}$")] | None = None


class LicenseRead(Output):
    name: str
    url: str | None
    is_open: bool


class LicenseCreate(Input):
    name: ShortText
    url: HttpUrl | None = None
    is_open: bool = True


class FrequencyRead(Output):
    code: UpdateFrequency
    label: str
    eu_uri: str


class TagRead(Output):
    name: str


@router.get("/formats/", response_model=list[FormatRead])
async def list_formats(session: DbSession, user: AnyCaller) -> list[FormatRead]:
    return [FormatRead.model_validate(f) for f in await service.list_formats(session)]


@router.post("/formats/", status_code=201, response_model=FormatRead)
async def add_format(data: FormatCreate, session: DbSession, user: Admin) -> FormatRead:
    term = await service.add_format(session, data.name, data.eu_file_type)
    await session.commit()
    return FormatRead.model_validate(term)


@router.get("/licenses/", response_model=list[LicenseRead])
async def list_licenses(session: DbSession, user: AnyCaller) -> list[LicenseRead]:
    return [LicenseRead.model_validate(lic) for lic in await service.list_licenses(session)]


@router.post("/licenses/", status_code=201, response_model=LicenseRead)
async def add_license(data: LicenseCreate, session: DbSession, user: Admin) -> LicenseRead:
    term = await service.add_license(session, data.name, data.url, data.is_open)
    await session.commit()
    return LicenseRead.model_validate(term)


@router.get("/frequencies/", response_model=list[FrequencyRead])
async def list_frequencies(user: AnyCaller) -> list[FrequencyRead]:
    return [
        FrequencyRead(code=code, label=info.label_fr, eu_uri=info.eu_uri)
        for code, info in FREQUENCIES.items()
    ]


@router.get("/tags/", response_model=list[TagRead])
async def list_tags(
    session: DbSession,
    user: AnyCaller,
    prefix: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TagRead]:
    """Keywords, alphabetically; `prefix` matches ignoring case and accents."""
    return [TagRead.model_validate(t) for t in await service.list_tags(session, prefix, limit)]
