"""The English catalog translates every message of the web interface."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from catalogage.config import PROJECT_DIR
from catalogage.web.i18n import LOCALE_DIR, translations

WEB_DIR = PROJECT_DIR / "catalogage" / "web"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _source_messages() -> set[str]:
    messages = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        WEB_DIR, METHODS, options_map=OPTIONS
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_every_message_has_an_english_translation() -> None:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    source = _source_messages()
    assert {"Jeux de données", "Le jeu de données a été créé."} <= source  # extraction works
    missing = sorted(source - translated)
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing[:10])


def test_english_translations_are_loaded() -> None:
    english = translations("en")
    assert english.gettext("Jeux de données") == "Datasets"
    assert english.ngettext("%(num)s jeu de données", "%(num)s jeux de données", 2) == (
        "%(num)s datasets"
    )
    assert translations("fr").gettext("Jeux de données") == "Jeux de données"
