"""Who is calling, and what each route requires of them.

Every route declares exactly one access level by depending on `Requires(...)`
(through the aliases at the bottom). `tests/test_permissions.py` walks the route
table and fails for a route that declares none, then checks each level against
every role. Organization-scoped levels are checked in two steps: `Requires`
ensures the caller is signed in, and the view calls `ensure_org_role` once it
knows which organization the request touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request

from catalogage.accounts.models import Role, User
from catalogage.accounts.service import user_for_token
from catalogage.dependencies import DbSession
from catalogage.errors import Forbidden, Unauthorized


class Access(StrEnum):
    #: Anyone, signed in or not (reads filter what the caller may see).
    PUBLIC = "public"
    #: Any signed-in user (their own account and tokens).
    AUTHENTICATED = "authenticated"
    #: An editor or manager of the organization concerned, or an admin.
    ORG_EDITOR = "org_editor"
    #: A manager of the organization concerned, or an admin.
    ORG_MANAGER = "org_manager"
    #: An admin.
    ADMIN = "admin"


async def current_user(request: Request, session: DbSession) -> User | None:
    """The user behind the request's bearer token or session cookie, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not credentials:
            raise Unauthorized("Malformed Authorization header; expected 'Bearer <token>'")
        user = await user_for_token(session, credentials.strip())
        if user is None:
            raise Unauthorized("Invalid, expired or revoked token")
        return user
    loader = getattr(request.app.state, "session_user_loader", None)
    if loader is not None:
        session_user: User | None = await loader(request, session)
        return session_user
    return None


@dataclass(frozen=True)
class Requires:
    """Dependency declaring and enforcing a route's access level."""

    access: Access

    async def __call__(self, user: Annotated[User | None, Depends(current_user)]) -> User | None:
        if self.access is Access.PUBLIC:
            return user
        if user is None:
            raise Unauthorized()
        if self.access is Access.ADMIN and not user.is_admin:
            raise Forbidden("Administrators only")
        return user


def ensure_org_role(user: User, siret: str, minimum: Role) -> None:
    """Raise 403 unless `user` is an admin or has at least `minimum` role in `siret`."""
    if user.is_admin:
        return
    role = user.role_in(siret)
    if role is None or (minimum is Role.MANAGER and role is not Role.MANAGER):
        raise Forbidden(f"Requires the {minimum.value} role in organization {siret}")


def visible_organizations(user: User | None) -> set[str] | None:
    """SIRETs whose non-public records `user` may see; None means all (admin)."""
    if user is None:
        return set()
    if user.is_admin:
        return None
    return {m.organization_siret for m in user.memberships}


AnyCaller = Annotated[User | None, Depends(Requires(Access.PUBLIC))]
SignedIn = Annotated[User, Depends(Requires(Access.AUTHENTICATED))]
OrgEditor = Annotated[User, Depends(Requires(Access.ORG_EDITOR))]
OrgManager = Annotated[User, Depends(Requires(Access.ORG_MANAGER))]
Admin = Annotated[User, Depends(Requires(Access.ADMIN))]
