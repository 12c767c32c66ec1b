import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    Uuid,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalogage.db import Base
from catalogage.db.types import CreatedAt
from catalogage.organizations.models import Organization


class Visibility(StrEnum):
    #: Being written: visible to the organization's members only.
    DRAFT = "draft"
    #: Described but not open: visible to the organization's members only.
    RESTRICTED = "restricted"
    #: Visible to everyone, exported and harvested.
    PUBLIC = "public"


class Dataset(Base):
    """One dataset. Column comments give the schema-catalogue-donnees field name."""

    __tablename__ = "dataset"
    __table_args__ = (
        CheckConstraint("visibility IN ('draft', 'restricted', 'public')", name="known_visibility"),
        CheckConstraint("cardinality(keywords) >= 1", name="has_keywords"),
        CheckConstraint("cardinality(formats) >= 1", name="has_formats"),
        CheckConstraint("cardinality(contact_emails) >= 1", name="has_contacts"),
        Index("ix_dataset_updated_at_id", "updated_at", "id"),
        Index("ix_dataset_keywords", "keywords", postgresql_using="gin"),
        Index("ix_dataset_formats", "formats", postgresql_using="gin"),
        # Search (migration 0002, see catalogage/search/service.py).
        Index("ix_dataset_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_dataset_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_dataset_created_at_id", "created_at", "id"),
        Index("ix_dataset_title_id", "title", "id"),
        # Index-only counts of what a caller may see.
        Index("ix_dataset_visibility_organization", "visibility", "organization_siret"),
        # Title autocomplete by prefix (migration 0004_perf).
        Index(
            "ix_dataset_title_fold",
            func.catalogage_fold(literal_column("title")).label("title_fold"),
            "id",
            postgresql_ops={"title_fold": "text_pattern_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_siret: Mapped[str] = mapped_column(
        ForeignKey("organization.siret", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(Text, comment="titre")
    description: Mapped[str] = mapped_column(Text, comment="description")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="mots_cles")
    service: Mapped[str] = mapped_column(Text, comment="service")
    technical_source: Mapped[str | None] = mapped_column(Text, comment="si")
    service_contact_email: Mapped[str | None] = mapped_column(Text, comment="contact_service")
    contact_emails: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="contact_personne")
    first_publication_date: Mapped[date | None] = mapped_column(Date, comment="date_pub")
    last_update_date: Mapped[date | None] = mapped_column(Date, comment="date_maj")
    update_frequency: Mapped[str | None] = mapped_column(Text, comment="freq_maj")
    geographical_coverage: Mapped[str] = mapped_column(Text, comment="couv_geo")
    url: Mapped[str | None] = mapped_column(Text, comment="url")
    formats: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="format")
    license: Mapped[str | None] = mapped_column(Text, comment="licence")
    visibility: Mapped[str] = mapped_column(Text, default=Visibility.DRAFT.value)
    #: Values of the catalog's extra fields, by field name.
    extra_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Incremented by every update; the ETag, checked against If-Match.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: Weighted full-text document and folded title + keywords, written by the
    #: `dataset_search_fields` trigger (migration 0002); never set by the application.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)
    search_text: Mapped[str | None] = mapped_column(Text, deferred=True)

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)
