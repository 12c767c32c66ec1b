import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogage.db import Base
from catalogage.db.types import CreatedAt


class Role(StrEnum):
    #: Writes the organization's datasets.
    EDITOR = "editor"
    #: Also deletes datasets, manages the catalog's extra fields and the members.
    MANAGER = "manager"


class User(Base):
    __tablename__ = "user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    #: Stored lower-cased, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    #: argon2id hash (PHC string).
    password_hash: Mapped[str] = mapped_column(Text)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[CreatedAt]

    memberships: Mapped[list["Membership"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="user"
    )

    def role_in(self, siret: str) -> Role | None:
        for membership in self.memberships:
            if membership.organization_siret == siret:
                return Role(membership.role)
        return None


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (CheckConstraint("role IN ('editor', 'manager')", name="known_role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    organization_siret: Mapped[str] = mapped_column(
        ForeignKey("organization.siret", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[CreatedAt]

    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored: tokens are 256-bit random
    values, so a fast hash is safe and lets every request look one up by index."""

    __tablename__ = "api_token"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters of the token, shown in lists so users recognise their tokens.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed login attempts per key (an email, or a client address) in the current window."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
