from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from catalogage.catalogs.models import ExtraFieldType
from catalogage.organizations.schemas import OrganizationRef
from catalogage.schemas import Input, Output, ShortText

#: The 17 columns of schema-catalogue-donnees, in order. Extra fields may not reuse them.
SCHEMA_COLUMNS = (
    "titre",
    "description",
    "mots_cles",
    "nom_orga",
    "siret_orga",
    "id_alt_orga",
    "service",
    "si",
    "contact_service",
    "contact_personne",
    "date_pub",
    "date_maj",
    "freq_maj",
    "couv_geo",
    "url",
    "format",
    "licence",
)

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class ExtraFieldDefinition(Input):
    #: Lower-case machine name (`^[a-z][a-z0-9_]*$`): the JSON key and the export column.
    name: FieldName
    label: ShortText
    hint: Annotated[str, StringConstraints(max_length=1000)] = ""
    type: ExtraFieldType
    #: Allowed values, for `enum` fields only.
    choices: Annotated[list[ShortText], Field(max_length=200, default_factory=list)]
    required: bool = False

    @model_validator(mode="after")
    def _check(self) -> "ExtraFieldDefinition":
        if self.name in SCHEMA_COLUMNS:
            raise ValueError(f"name: {self.name!r} is a column of the common schema")
        if self.type is ExtraFieldType.ENUM:
            if not self.choices:
                raise ValueError("choices: an enum field needs at least one choice")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices: duplicate values")
        elif self.choices:
            raise ValueError(f"choices: only enum fields have choices, not {self.type.value}")
        return self


class ExtraFieldsReplace(Input):
    """The complete, ordered list of a catalog's extra fields."""

    extra_fields: Annotated[list[ExtraFieldDefinition], Field(max_length=100)]

    @model_validator(mode="after")
    def _unique_names(self) -> "ExtraFieldsReplace":
        names = [field.name for field in self.extra_fields]
        if len(set(names)) != len(names):
            raise ValueError("extra_fields: two fields have the same name")
        return self


class ExtraFieldRead(Output):
    name: str
    label: str
    hint: str
    type: ExtraFieldType
    choices: list[str]
    required: bool


class CatalogRead(Output):
    organization: OrganizationRef
    extra_fields: list[ExtraFieldRead]
