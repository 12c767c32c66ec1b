"""Jinja2 rendering: one environment per language, autoescaped, with the page context."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from catalogage.accounts.models import Role, User
from catalogage.web import i18n, labels
from catalogage.web.assets import asset_url
from catalogage.web.sessions import CSRF_FIELD, csrf_token, pop_flashes

TEMPLATES_DIR = i18n.LOCALE_DIR.with_name("templates")
#: Babel locale used to format dates and numbers, per language.
_BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def json_ld(data: Any) -> Markup:
    """JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` are
    escaped so no value can close the script element."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - made safe by the escaping above


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    locale = _BABEL_LOCALES[language]

    def date_filter(value: date | datetime | str | None, style: str = "long") -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if isinstance(value, datetime):
            return format_datetime(value, "d MMMM y, HH:mm", locale=locale)
        return format_date(value, style, locale=locale)

    def number_filter(value: int) -> str:
        return format_decimal(value, locale=locale)

    env.filters["date"] = date_filter
    env.filters["number"] = number_filter
    env.filters["pairs"] = lambda values: [(value, value) for value in values]
    env.globals.update(
        asset=asset_url,
        json_ld=json_ld,
        languages=i18n.LANGUAGES,
        csrf_field=CSRF_FIELD,
        Role=Role,
        labels=labels,
    )
    return env


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for name, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            params.extend((name, str(v)) for v in value)
        else:
            params.append((name, str(value)))
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    language = i18n.language_of(request)
    page = environment(language).get_template(template)

    def csrf_input() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, csrf_token(request)
        )

    values = {
        "request": request,
        "user": user,
        "language": language,
        "csrf_input": csrf_input,
        "flashes": pop_flashes(request),
        "url_with": lambda **changes: url_with(request, **changes),
        "current_path": request.url.path,
        **(context or {}),
    }
    response = HTMLResponse(page.render(values), status_code=status_code, headers=headers)
    response.headers["Content-Language"] = language
    response.headers.setdefault("Cache-Control", "no-store" if user else "no-cache")
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
