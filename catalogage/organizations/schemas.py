from datetime import datetime

from catalogage.schemas import HttpUrl, Input, Output, PatchInput, ShortText, Siret


class OrganizationCreate(Input):
    siret: Siret
    name: ShortText
    alternative_id: ShortText | None = None
    logo_url: HttpUrl | None = None


class OrganizationUpdate(PatchInput):
    not_nullable = frozenset({"name"})

    name: ShortText | None = None
    alternative_id: ShortText | None = None
    logo_url: HttpUrl | None = None


class OrganizationRef(Output):
    siret: str
    name: str
    alternative_id: str | None


class OrganizationRead(OrganizationRef):
    logo_url: str | None
    created_at: datetime
    #: Datasets of this organization the caller may see.
    dataset_count: int = 0
