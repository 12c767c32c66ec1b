"""HTML forms: reading submitted values, and turning validation errors into French
messages next to the field concerned. Validation itself is the API's (the pydantic
schemas and the services): the web layer never decides what is valid."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from catalogage.catalogs.models import ExtraField
from catalogage.errors import AppError, FieldError, ValidationFailed
from catalogage.web.i18n import N_, _

#: Optional dataset fields: an empty input means "no value".
OPTIONAL_FIELDS = (
    "technical_source",
    "service_contact_email",
    "first_publication_date",
    "last_update_date",
    "update_frequency",
    "url",
    "license",
)
REQUIRED_TEXT_FIELDS = ("title", "description", "service", "geographical_coverage")

_MESSAGES_BY_TYPE = {
    "missing": N_("Ce champ est obligatoire."),
    "string_too_short": N_("Ce champ est obligatoire."),
    "too_short": N_("Indiquez au moins une valeur."),
    "string_too_long": N_("Ce texte est trop long ({max_length} caractères au plus)."),
    "too_long": N_("Trop de valeurs ({max_length} au plus)."),
    "date_from_datetime_parsing": N_("Saisissez une date valide (JJ/MM/AAAA)."),
    "date_parsing": N_("Saisissez une date valide (JJ/MM/AAAA)."),
    "enum": N_("Choisissez une des valeurs proposées."),
    "bool_parsing": N_("Choisissez oui ou non."),
    "string_pattern_mismatch": N_("Format invalide."),
}
_EMAIL_FIELDS = ("contact_emails", "service_contact_email", "email")
_MESSAGES_BY_TEXT = [
    ("must be an http", N_("Saisissez une adresse web commençant par http:// ou https://.")),
    ("must not be before", N_("Cette date ne peut pas précéder la date de première publication.")),
    ("unknown format", N_("Format inconnu : choisissez dans la liste.")),
    ("must be a date", N_("Saisissez une date valide (JJ/MM/AAAA).")),
    ("must be one of", N_("Choisissez une des valeurs proposées.")),
    ("must be true or false", N_("Choisissez oui ou non.")),
    ("unknown extra field", N_("Ce champ n’existe pas dans ce catalogue.")),
    ("already registered", N_("Cette valeur est déjà enregistrée.")),
    ("already exists", N_("Cette valeur existe déjà.")),
    ("unknown user", N_("Aucun compte n’a cette adresse électronique.")),
    ("is a column of the common schema", N_("Ce nom est celui d’une colonne du schéma commun.")),
    ("an enum field needs", N_("Une liste de choix doit proposer au moins une valeur.")),
    ("only enum fields have choices", N_("Seules les listes de choix ont des valeurs.")),
    ("duplicate values", N_("Une valeur est en double.")),
    ("same name", N_("Deux champs portent le même nom.")),
    ("siret", N_("Numéro SIRET invalide (14 chiffres, clé de contrôle).")),
    ("required", N_("Ce champ est obligatoire.")),
]
_GENERIC = N_("Valeur invalide.")


def text(form: FormData, name: str) -> str:
    """A submitted text field, trimmed ("" when absent)."""
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    _refuse_nul(name, value)
    return value.strip()


def values_of(form: FormData, name: str) -> list[str]:
    """Every value submitted for a multi-valued field (checkboxes)."""
    items = [v for v in form.getlist(name) if isinstance(v, str) and v]
    for item in items:
        _refuse_nul(name, item)
    return items


def _refuse_nul(name: str, value: str) -> None:
    # PostgreSQL cannot store NUL in text; no legitimate input contains one.
    if "\x00" in value:
        raise ValidationFailed([FieldError(name, "must not contain NUL characters")])


def split_list(value: str) -> list[str]:
    """Items typed one per line or separated by commas or semicolons."""
    return [item.strip() for item in re.split(r"[,;\n]", value) if item.strip()]


def dataset_values(form: FormData, definitions: Sequence[ExtraField]) -> dict[str, Any]:
    """The submitted dataset as the API's JSON body (before validation)."""
    values: dict[str, Any] = {name: text(form, name) for name in REQUIRED_TEXT_FIELDS}
    for name in OPTIONAL_FIELDS:
        values[name] = text(form, name) or None
    values["keywords"] = split_list(text(form, "keywords"))
    values["contact_emails"] = split_list(text(form, "contact_emails"))
    values["formats"] = values_of(form, "formats")
    values["visibility"] = text(form, "visibility") or "draft"
    extra: dict[str, Any] = {}
    for definition in definitions:
        raw = text(form, f"extra.{definition.name}")
        if definition.type == "boolean":
            extra[definition.name] = {"true": True, "false": False}.get(raw)
        else:
            extra[definition.name] = raw or None
    values["extra_fields"] = extra
    return values


def dataset_form_state(form: FormData, definitions: Sequence[ExtraField]) -> dict[str, Any]:
    """What the user typed, to show the form again exactly as they left it."""
    state: dict[str, Any] = {
        name: text(form, name)
        for name in (*REQUIRED_TEXT_FIELDS, *OPTIONAL_FIELDS, "keywords", "contact_emails")
    }
    state["formats"] = values_of(form, "formats")
    state["visibility"] = text(form, "visibility") or "draft"
    state["extra"] = {d.name: text(form, f"extra.{d.name}") for d in definitions}
    return state


def dataset_state_from_record(values: dict[str, Any]) -> dict[str, Any]:
    """The form state of a stored dataset (`datasets.service.snapshot` values)."""
    state: dict[str, Any] = {
        name: "" if values.get(name) is None else str(values[name])
        for name in (*REQUIRED_TEXT_FIELDS, *OPTIONAL_FIELDS)
    }
    state["keywords"] = ", ".join(values.get("keywords") or [])
    state["contact_emails"] = "\n".join(values.get("contact_emails") or [])
    state["formats"] = list(values.get("formats") or [])
    state["visibility"] = values.get("visibility") or "draft"
    extra = values.get("extra_fields") or {}
    state["extra"] = {
        name: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for name, value in extra.items()
    }
    return state


def _field_of_model_error(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if not loc and ":" in message:
        # Model-level checks name their field first: "last_update_date: must not be ...".
        return message.split(":", 1)[0]
    return ".".join(loc) or "__all__"


def _message(request: Request, field: str, error_type: str, text_: str, ctx: dict[str, Any]) -> str:
    if error_type in _MESSAGES_BY_TYPE:
        return _(request, _MESSAGES_BY_TYPE[error_type]).format(**ctx)
    if field.split(".")[0] in _EMAIL_FIELDS and "email" in text_.lower():
        return _(request, N_("Adresse électronique invalide. Exemple : prenom.nom@exemple.gouv.fr"))
    lowered = text_.lower()
    for needle, message in _MESSAGES_BY_TEXT:
        if needle in lowered:
            return _(request, message)
    return _(request, _GENERIC)


def _form_field(field: str) -> str:
    """The form input of an API field (extra fields are `extra.<name>` inputs)."""
    return (
        "extra." + field.removeprefix("extra_fields.")
        if field.startswith("extra_fields.")
        else field
    )


def model_errors(request: Request, exc: ValidationError) -> dict[str, str]:
    """Field name -> French message, from a pydantic validation error."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = _field_of_model_error(dict(error))
        ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int | str)}
        message = str(error.get("msg", ""))
        errors.setdefault(_form_field(field), _message(request, field, error["type"], message, ctx))
    return errors


def field_errors(request: Request, fields: Iterable[FieldError] | None) -> dict[str, str]:
    """Field name -> French message, from the `fields` of an API error."""
    errors: dict[str, str] = {}
    for error in fields or []:
        field = str(error["field"])
        errors.setdefault(
            _form_field(field), _message(request, field, "", str(error["message"]), {})
        )
    return errors


class FormErrors:
    """The errors of one form submission, shown next to its fields.

    Wrap the form's validation and service calls in `with forms.FormErrors(request) as
    errors:`. A pydantic `ValidationError`, or an API error of `kinds` that names fields,
    ends the block and fills `errors.fields` (form field -> French message); any other
    error propagates. After the block, `errors.fields` is empty when the submission passed.
    """

    def __init__(self, request: Request, kinds: tuple[type[AppError], ...] = (AppError,)) -> None:
        self.request = request
        self.kinds = kinds
        self.fields: dict[str, str] = {}

    def __enter__(self) -> FormErrors:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(exc, ValidationError):
            self.fields = model_errors(self.request, exc)
            return True
        if isinstance(exc, self.kinds) and exc.fields:
            self.fields = field_errors(self.request, exc.fields)
            return True
        return False
