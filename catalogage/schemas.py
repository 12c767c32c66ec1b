"""Field types shared by the request and response models of every domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, model_validator

from catalogage.organizations.siret import siret_error


class Input(BaseModel):
    """Base of request bodies: unknown fields are rejected, strings trimmed, and NUL
    characters refused (PostgreSQL cannot store them in text)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        path = nul_path(data)
        if path is not None:
            raise ValueError(f"{path or 'body'}: must not contain NUL characters")
        return data


class PatchInput(Input):
    """Base of partial updates: a field that the model cannot store as null may be
    omitted, but not set to null."""

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Self:
        for name in sorted(self.model_fields_set & self.not_nullable):
            if getattr(self, name) is None:
                raise ValueError(f"{name}: may be omitted but not null")
        return self


def nul_path(value: Any, path: str = "") -> str | None:
    """Dotted path of the first string containing NUL inside `value`, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = ((None, item) for item in value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return path or "body"
        child = path if key is None else (f"{path}.{key}" if path else str(key))
        found = nul_path(item, child)
        if found is not None:
            return found
    return None


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
