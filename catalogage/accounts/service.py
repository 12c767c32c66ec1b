"""Account operations: users, passwords, tokens, memberships."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts import throttle, tokens
from catalogage.accounts.models import ApiToken, Membership, Role, User
from catalogage.accounts.passwords import hash_password, needs_rehash, verify_password
from catalogage.config import Settings
from catalogage.errors import Conflict, FieldError, NotFound, TooManyRequests, Unauthorized
from catalogage.organizations.models import Organization

#: `last_used_at` is refreshed at most this often, so reads do not each cost a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    user: User | None = await session.scalar(
        select(User).where(User.email == normalize_email(email))
    )
    return user


async def create_user(
    session: AsyncSession, *, email: str, name: str, password: str, is_admin: bool = False
) -> User:
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        is_admin=is_admin,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "A user with this email already exists",
            fields=[FieldError("email", "already registered")],
        ) from None
    return user


async def authenticate(
    session: AsyncSession, settings: Settings, email: str, password: str, client: str | None
) -> User:
    """The active user with these credentials; 429 while throttled, 401 otherwise."""
    wait = await throttle.retry_after(session, settings, email, client)
    if wait is not None:
        raise TooManyRequests("Too many failed logins; try again later", retry_after=wait)
    user = await get_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        await throttle.record_failure(session, settings, email, client)
        # Commit the failure even though the request fails.
        await session.commit()
        raise Unauthorized("Invalid email or password")
    await throttle.clear(session, email)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def issue_token(
    session: AsyncSession, user: User, *, name: str, days: int
) -> tuple[ApiToken, str]:
    """A new token for `user`. The plain token is returned once and never stored."""
    plain = tokens.new_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=tokens.token_hash(plain),
        prefix=tokens.display_prefix(plain),
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    session.add(token)
    await session.flush()
    return token, plain


async def user_for_token(session: AsyncSession, plain: str) -> User | None:
    """The user owning this token if it is live (not expired, not revoked, user active)."""
    now = datetime.now(UTC)
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == tokens.token_hash(plain),
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
                User.is_active.is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    token, user = row
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # Committed at once: authentication runs before the request does anything else.
        await session.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
        )
        await session.commit()
    return user


async def list_tokens(session: AsyncSession, user: User) -> Sequence[ApiToken]:
    result = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    )
    return result.all()


async def revoke_token(session: AsyncSession, user: User, token_id: uuid.UUID) -> None:
    token = await session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("Token not found")
    token.revoked_at = datetime.now(UTC)


async def list_users(session: AsyncSession) -> Sequence[User]:
    return (await session.scalars(select(User).order_by(User.email))).all()


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def list_members(session: AsyncSession, siret: str) -> Sequence[tuple[Membership, User]]:
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_siret == siret)
        .order_by(User.email)
    )
    return [(membership, user) for membership, user in rows.all()]


async def set_membership(session: AsyncSession, siret: str, email: str, role: Role) -> Membership:
    """Add the user with this email to the organization, or change their role."""
    if await session.get(Organization, siret) is None:
        raise NotFound("Organization not found")
    user = await get_user_by_email(session, email)
    if user is None:
        raise NotFound("No user with this email", fields=[FieldError("email", "unknown user")])
    membership = await session.get(Membership, (user.id, siret))
    if membership is None:
        membership = Membership(user_id=user.id, organization_siret=siret, role=role.value)
        session.add(membership)
    else:
        membership.role = role.value
    await session.flush()
    return membership


async def remove_membership(session: AsyncSession, siret: str, user_id: uuid.UUID) -> None:
    membership = await session.get(Membership, (user_id, siret))
    if membership is None:
        raise NotFound("Membership not found")
    await session.delete(membership)
