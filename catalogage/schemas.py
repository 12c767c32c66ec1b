"""Field types shared by the request and response models of every domain."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from catalogage.organizations.siret import siret_error


class Input(BaseModel):
    """Base of request bodies: unknown fields are rejected, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _check_siret(value: str) -> str:
    error = siret_error(value)
    if error:
        raise ValueError(error)
    return value


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an http:// or https:// URL")
    return value


Siret = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_siret)]
HttpUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(check_http_url)
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
