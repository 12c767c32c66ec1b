import uuid
from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from catalogage.accounts.models import Role
from catalogage.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from catalogage.schemas import Input, Output, PatchInput, ShortText

Password = Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class Login(Input):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH)]
    #: Name given to the issued token (shown in the token list).
    token_name: ShortText = "login"  # noqa: S105 - a label, not a secret


class TokenCreate(Input):
    name: ShortText
    expires_in_days: Annotated[int, Field(ge=1, le=365)] = 90


class TokenRead(Output):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class TokenIssued(TokenRead):
    #: The token itself. Shown once: only its hash is stored.
    token: str


class MembershipRead(Output):
    organization_siret: str
    role: Role


class UserRead(Output):
    id: uuid.UUID
    email: str
    name: str
    is_admin: bool
    is_active: bool
    created_at: datetime
    memberships: list[MembershipRead]


class UserCreate(Input):
    email: EmailStr
    name: ShortText
    password: Password
    is_admin: bool = False


class UserUpdate(PatchInput):
    not_nullable = frozenset({"name", "password", "is_admin", "is_active"})

    name: ShortText | None = None
    password: Password | None = None
    is_admin: bool | None = None
    is_active: bool | None = None
