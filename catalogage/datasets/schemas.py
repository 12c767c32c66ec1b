"""Request and response bodies for datasets.

JSON names are English; each field's description gives the schema-catalogue-donnees
column it maps to.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, model_validator

from catalogage.datasets.models import Visibility
from catalogage.organizations.schemas import OrganizationRef
from catalogage.schemas import HttpUrl, Input, LongText, Output, ShortText, Siret
from catalogage.vocabularies.frequencies import UpdateFrequency

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DatasetFields(Input):
    """Every editable field, validated as a whole (creation, PUT, and PATCH once merged)."""

    title: ShortText = Field(description="titre")
    description: LongText = Field(description="description")
    keywords: Annotated[list[Term], Field(min_length=1, max_length=50)] = Field(
        description="mots_cles (at least one)"
    )
    service: ShortText = Field(description="service")
    technical_source: ShortText | None = Field(default=None, description="si")
    service_contact_email: EmailStr | None = Field(default=None, description="contact_service")
    contact_emails: Annotated[list[EmailStr], Field(min_length=1, max_length=20)] = Field(
        description="contact_personne (at least one)"
    )
    first_publication_date: date | None = Field(default=None, description="date_pub")
    last_update_date: date | None = Field(default=None, description="date_maj")
    update_frequency: UpdateFrequency | None = Field(default=None, description="freq_maj")
    geographical_coverage: ShortText = Field(description="couv_geo")
    url: HttpUrl | None = Field(default=None, description="url")
    formats: Annotated[list[Term], Field(min_length=1, max_length=30)] = Field(
        description="format (at least one, from GET /formats/)"
    )
    license: ShortText | None = Field(default=None, description="licence")
    visibility: Visibility = Visibility.DRAFT
    #: Values of the catalog's extra fields, by field name.
    extra_fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates_in_order(self) -> "DatasetFields":
        first, last = self.first_publication_date, self.last_update_date
        if first and last and last < first:
            raise ValueError("last_update_date: must not be before first_publication_date")
        return self


class DatasetCreate(DatasetFields):
    organization_siret: Siret


class DatasetReplace(DatasetFields):
    """PUT body. The organization cannot change; it may be repeated for convenience."""

    organization_siret: Siret | None = None


class DatasetPatch(Input):
    """PATCH body: only the fields given change (null clears an optional field)."""

    title: ShortText | None = None
    description: LongText | None = None
    keywords: Annotated[list[Term], Field(min_length=1, max_length=50)] | None = None
    service: ShortText | None = None
    technical_source: ShortText | None = None
    service_contact_email: EmailStr | None = None
    contact_emails: Annotated[list[EmailStr], Field(min_length=1, max_length=20)] | None = None
    first_publication_date: date | None = None
    last_update_date: date | None = None
    update_frequency: UpdateFrequency | None = None
    geographical_coverage: ShortText | None = None
    url: HttpUrl | None = None
    formats: Annotated[list[Term], Field(min_length=1, max_length=30)] | None = None
    license: ShortText | None = None
    visibility: Visibility | None = None
    extra_fields: dict[str, Any] | None = None


class DatasetRead(Output):
    id: uuid.UUID
    organization: OrganizationRef
    title: str
    description: str
    keywords: list[str]
    service: str
    technical_source: str | None
    service_contact_email: str | None
    contact_emails: list[str]
    first_publication_date: date | None
    last_update_date: date | None
    update_frequency: UpdateFrequency | None
    geographical_coverage: str
    url: str | None
    formats: list[str]
    license: str | None
    visibility: Visibility
    extra_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int
