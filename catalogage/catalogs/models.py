from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogage.db import Base
from catalogage.db.types import CreatedAt


class ExtraFieldType(StrEnum):
    TEXT = "text"
    ENUM = "enum"
    BOOLEAN = "boolean"
    DATE = "date"
    URL = "url"


class Catalog(Base):
    """The catalog of one organization. Its primary key is the organization's SIRET."""

    __tablename__ = "catalog"

    organization_siret: Mapped[str] = mapped_column(
        ForeignKey("organization.siret", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[CreatedAt]
    extra_fields: Mapped[list["ExtraField"]] = relationship(
        order_by="ExtraField.position", cascade="all, delete-orphan", lazy="selectin"
    )


class ExtraField(Base):
    """A field a catalog adds to its datasets, on top of the common schema's 17."""

    __tablename__ = "extra_field"
    __table_args__ = (
        UniqueConstraint("catalog_siret", "name", name="uq_extra_field_catalog_name"),
        CheckConstraint("type IN ('text', 'enum', 'boolean', 'date', 'url')", name="known_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    catalog_siret: Mapped[str] = mapped_column(
        ForeignKey("catalog.organization_siret", ondelete="CASCADE"), index=True
    )
    #: Machine name: the key of the value in `Dataset.extra_fields` and the export column.
    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(Text, default="", server_default="")
    type: Mapped[str] = mapped_column(String(16))
    #: Allowed values of an `enum` field; empty for other types.
    choices: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
