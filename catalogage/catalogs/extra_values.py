"""Validation of dataset values for a catalog's extra fields."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from catalogage.catalogs.models import ExtraField, ExtraFieldType
from catalogage.errors import FieldError, ValidationFailed
from catalogage.schemas import check_http_url

MAX_TEXT = 5000


def _clean(field: ExtraField, value: Any) -> Any:
    """The stored JSON value, or raise ValueError with a user-facing message."""
    kind = ExtraFieldType(field.type)
    if kind is ExtraFieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip()
    if kind is ExtraFieldType.TEXT:
        if len(value) > MAX_TEXT:
            raise ValueError(f"at most {MAX_TEXT} characters")
        return value
    if kind is ExtraFieldType.ENUM:
        if value not in field.choices:
            raise ValueError(f"must be one of: {', '.join(field.choices)}")
        return value
    if kind is ExtraFieldType.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)") from None
    return check_http_url(value)


def validate_extra_values(
    definitions: Sequence[ExtraField], values: dict[str, Any]
) -> dict[str, Any]:
    """Check `values` against the catalog's definitions; return the values to store.

    Empty values (null or "") are dropped; a required field must have a value.
    """
    errors = [
        FieldError(f"extra_fields.{name}", "unknown extra field for this catalog")
        for name in values
        if name not in {d.name for d in definitions}
    ]
    cleaned: dict[str, Any] = {}
    for definition in definitions:
        value = values.get(definition.name)
        if value is None or value == "":
            if definition.required:
                errors.append(FieldError(f"extra_fields.{definition.name}", "required"))
            continue
        try:
            cleaned[definition.name] = _clean(definition, value)
        except ValueError as exc:
            errors.append(FieldError(f"extra_fields.{definition.name}", str(exc)))
    if errors:
        raise ValidationFailed(errors)
    return cleaned
