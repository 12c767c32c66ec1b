"""Languages of the web pages: French (the source language of every message) and English.

Messages are written in French in the templates and the code (`msgid`s are French);
`locale/en/LC_MESSAGES/messages.po` translates them to English. The `.po` files are
compiled with Babel when the app starts (a few milliseconds), so there is no build
step to forget and no binary file in the repository.

The language of a request is the `catalogage_lang` cookie (set by the language
switcher), else the best match of `Accept-Language`, else French.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANGUAGE = "fr"
#: Language code -> its name in that language, as the switcher shows it.
LANGUAGES = {"fr": "Français", "en": "English"}
LANGUAGE_COOKIE = "catalogage_lang"


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is displayed."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language` (French needs none: messages are French)."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _accepted(header: str) -> list[str]:
    """Language codes of an Accept-Language header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if code:
            weighted.append((-quality, position, code.split("-")[0].lower()))
    return [code for quality, _, code in sorted(weighted) if quality < 0]


def request_language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for code in _accepted(request.headers.get("accept-language", "")):
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def language_of(request: Request) -> str:
    """The request's language, chosen once per request."""
    language: str | None = getattr(request.state, "language", None)
    if language is None:
        language = request.state.language = request_language(request)
    return language


def gettext_for(request: Request) -> gettext.NullTranslations:
    return translations(language_of(request))


def _(request: Request, message: str) -> str:
    """`message` (French) in the request's language."""
    return gettext_for(request).gettext(message)
