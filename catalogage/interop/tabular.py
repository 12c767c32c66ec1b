"""The schema-catalogue-donnees row format, both ways: dataset values <-> cells.

Export writes one row per dataset: the 17 schema columns (`SCHEMA_COLUMNS`), then
one column per extra field of the catalog. Import reads the same shape back, so
that an export imported into an empty catalog exports to the very same file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from catalogage.catalogs.models import ExtraField, ExtraFieldType
from catalogage.catalogs.schemas import SCHEMA_COLUMNS
from catalogage.vocabularies.frequencies import FREQUENCIES, UpdateFrequency, parse_frequency
from catalogage.vocabularies.normalize import fold

#: Folding and reading frequencies are pure, and files repeat the same organization
#: names, keywords, formats and frequencies on every row: each distinct text once.
folded = lru_cache(maxsize=65_536)(fold)
frequency_of = lru_cache(maxsize=4_096)(parse_frequency)

#: Schema column -> Dataset attribute, for the columns that are dataset fields.
FIELD_OF_COLUMN: dict[str, str] = {
    "titre": "title",
    "description": "description",
    "mots_cles": "keywords",
    "service": "service",
    "si": "technical_source",
    "contact_service": "service_contact_email",
    "contact_personne": "contact_emails",
    "date_pub": "first_publication_date",
    "date_maj": "last_update_date",
    "freq_maj": "update_frequency",
    "couv_geo": "geographical_coverage",
    "url": "url",
    "format": "formats",
    "licence": "license",
}
COLUMN_OF_FIELD = {field: column for column, field in FIELD_OF_COLUMN.items()}
#: Columns naming the organization (they must name the target catalog's organization).
ORGANIZATION_COLUMNS = ("nom_orga", "siret_orga", "id_alt_orga")
LIST_FIELDS = frozenset({"keywords", "contact_emails", "formats"})
DATE_FIELDS = frozenset({"first_publication_date", "last_update_date"})
#: Optional column carrying our dataset id: when present, rows are matched on it.
ID_COLUMN = "id"
#: Cells starting with these are formulas to spreadsheet software.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters that XML (hence XLSX) cannot carry.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

_TRUE = {"true", "vrai", "oui", "1", "yes"}
_FALSE = {"false", "faux", "non", "0", "no"}
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def columns_for(extra_fields: Sequence[ExtraField]) -> list[str]:
    """The export header: the schema's 17 columns, then the catalog's extra fields."""
    return [*SCHEMA_COLUMNS, *(field.name for field in extra_fields)]


def neutralise_formula(text: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would evaluate as a formula."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def strip_formula_guard(text: str) -> str:
    """Undo `neutralise_formula`, so that exported files import back unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _cell_of_extra(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def export_row(
    values: dict[str, Any], organization: tuple[str, str, str | None], extra_names: Sequence[str]
) -> list[str]:
    """Cells of one dataset. `values` maps Dataset attributes to their column values;
    `organization` is (name, siret, alternative id). Cells are formula-neutralised."""
    name, siret, alternative_id = organization
    cells: list[str] = []
    for column in SCHEMA_COLUMNS:
        if column == "nom_orga":
            cells.append(name)
        elif column == "siret_orga":
            cells.append(siret)
        elif column == "id_alt_orga":
            cells.append(alternative_id or "")
        else:
            cells.append(_cell_of_field(FIELD_OF_COLUMN[column], values[FIELD_OF_COLUMN[column]]))
    extra = values.get("extra_fields") or {}
    cells.extend(_cell_of_extra(extra.get(name)) for name in extra_names)
    return [neutralise_formula(cell) for cell in cells]


def _cell_of_field(field: str, value: Any) -> str:
    if value is None:
        return ""
    if field in LIST_FIELDS:
        return ",".join(value)
    if field in DATE_FIELDS:
        return value.isoformat() if isinstance(value, date) else str(value)
    if field == "update_frequency":
        return FREQUENCIES[UpdateFrequency(value)].label_fr
    return str(value)


# -- import ------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell read from CSV or XLSX as trimmed text (XLSX dates become ISO dates)."""
    if isinstance(value, str):  # every CSV cell: the fast path
        text = value.strip()
        return strip_formula_guard(text).strip() if text.startswith("'") else text
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return strip_formula_guard(str(value).strip()).strip()


def split_list(text: str) -> list[str]:
    """A comma-separated list (semicolons accepted too), without empty items."""
    return [item.strip() for item in re.split(r"[,;]", text) if item.strip()]


def parse_date(text: str) -> str:
    """ISO date, also accepting the French DD/MM/YYYY; raises ValueError otherwise."""
    match = _FRENCH_DATE.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day).isoformat()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD or DD/MM/YYYY)") from None


def field_value(field: str, text: str) -> Any:
    """The DatasetFields input value of a non-empty cell; raises ValueError when unusable."""
    if field in LIST_FIELDS:
        return split_list(text)
    if field in DATE_FIELDS:
        return parse_date(text)
    if field == "update_frequency":
        code = frequency_of(text)
        if code is None:
            labels = ", ".join(info.label_fr for info in FREQUENCIES.values())
            raise ValueError(f"unknown frequency {text!r}; expected one of: {labels}")
        return code.value
    return text


def extra_value(field: ExtraField, text: str) -> Any:
    """The JSON value of an extra field cell (checked later by `validate_extra_values`)."""
    if field.type == ExtraFieldType.BOOLEAN.value:
        key = text.casefold()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError("must be true or false (oui/non)")
    if field.type == ExtraFieldType.DATE.value:
        return parse_date(text)
    return text
