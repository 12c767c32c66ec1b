"""JSON API for accounts: login, `/me`, tokens, user administration."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from catalogage.accounts import service
from catalogage.accounts.auth import Admin, AnyCaller, SignedIn
from catalogage.accounts.passwords import hash_password
from catalogage.accounts.schemas import (
    Login,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from catalogage.dependencies import AppSettings, DbSession

router = APIRouter(tags=["accounts"])


@router.post("/auth/token", status_code=201, response_model=TokenIssued)
async def login(
    data: Login, request: Request, session: DbSession, settings: AppSettings, user: AnyCaller
) -> TokenIssued:
    """Exchange email and password for an API token. Repeated failures answer 429."""
    client = request.client.host if request.client else None
    account = await service.authenticate(session, settings, data.email, data.password, client)
    token, plain = await service.issue_token(
        session, account, name=data.token_name, days=settings.login_token_days
    )
    await session.commit()
    return TokenIssued(**TokenRead.model_validate(token).model_dump(), token=plain)


@router.get("/me", response_model=UserRead)
async def me(user: SignedIn) -> UserRead:
    return UserRead.model_validate(user)


@router.get("/me/tokens", response_model=list[TokenRead])
async def list_tokens(session: DbSession, user: SignedIn) -> list[TokenRead]:
    return [TokenRead.model_validate(t) for t in await service.list_tokens(session, user)]


@router.post("/me/tokens", status_code=201, response_model=TokenIssued)
async def create_token(data: TokenCreate, session: DbSession, user: SignedIn) -> TokenIssued:
    """Create a named token. The response holds the token: it is shown only once."""
    token, plain = await service.issue_token(
        session, user, name=data.name, days=data.expires_in_days
    )
    await session.commit()
    return TokenIssued(**TokenRead.model_validate(token).model_dump(), token=plain)


@router.delete("/me/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: uuid.UUID, session: DbSession, user: SignedIn) -> Response:
    await service.revoke_token(session, user, token_id)
    await session.commit()
    return Response(status_code=204)


@router.get("/users/", response_model=list[UserRead])
async def list_users(session: DbSession, user: Admin) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in await service.list_users(session)]


@router.post("/users/", status_code=201, response_model=UserRead)
async def create_user(data: UserCreate, session: DbSession, user: Admin) -> UserRead:
    created = await service.create_user(
        session, email=data.email, name=data.name, password=data.password, is_admin=data.is_admin
    )
    await session.commit()
    await session.refresh(created, ["memberships"])
    return UserRead.model_validate(created)


@router.patch("/users/{user_id}", response_model=UserRead)
async def update_user(
    user_id: uuid.UUID, data: UserUpdate, session: DbSession, user: Admin
) -> UserRead:
    target = await service.get_user(session, user_id)
    changes = data.model_dump(exclude_unset=True, exclude={"password"})
    for name, value in changes.items():
        setattr(target, name, value)
    if data.password is not None:
        target.password_hash = hash_password(data.password)
    await session.commit()
    return UserRead.model_validate(target)
