"""Word families the French stemmer cannot join.

Snowball stems inflections ("forêts" -> 'foret', "écoles" -> 'ecol') but not
derivations ("forestier" is not "forêt") and, once accents are removed, it splits
some masculine/feminine pairs ("forestier" -> 'foresti', "forestière" ->
'forestier'). A query word found here also searches the other members of its
family. The list is short and curated for the vocabulary of public-sector data
catalogs; matches on the typed word itself still rank higher (they match more of
the query).
"""

from __future__ import annotations

from catalogage.vocabularies.normalize import fold

FAMILIES: tuple[tuple[str, ...], ...] = (
    ("forêt", "forêts", "forestier", "forestiers", "forestière", "forestières"),
    ("commune", "communes", "communal", "communale", "communaux", "communales"),
    ("région", "régions", "régional", "régionale", "régionaux", "régionales"),
    (
        "département",
        "départements",
        "départemental",
        "départementale",
        "départementaux",
        "départementales",
    ),
    ("école", "écoles", "scolaire", "scolaires"),
    ("agriculture", "agricole", "agricoles"),
    ("route", "routes", "routier", "routiers", "routière", "routières"),
    ("santé", "sanitaire", "sanitaires"),
    ("hôpital", "hôpitaux", "hospitalier", "hospitaliers", "hospitalière", "hospitalières"),
    ("ville", "villes", "urbain", "urbains", "urbaine", "urbaines"),
    ("mer", "mers", "maritime", "maritimes"),
    ("énergie", "énergies", "énergétique", "énergétiques"),
    ("budget", "budgets", "budgétaire", "budgétaires"),
    ("finances", "financier", "financiers", "financière", "financières"),
    ("cadastre", "cadastres", "cadastral", "cadastrale", "cadastraux", "cadastrales"),
    ("électricité", "électrique", "électriques"),
    ("vélo", "vélos", "cyclable", "cyclables"),
    ("population", "populations", "démographie", "démographique", "démographiques"),
    ("eau", "eaux", "hydrique", "hydriques"),
    ("air", "atmosphérique", "atmosphériques"),
)

_FAMILY_OF: dict[str, tuple[str, ...]] = {
    fold(word): family for family in FAMILIES for word in family
}


def _is_plural_of_another(word: str, keys: set[str]) -> bool:
    """ "forêts" when "forêt" is listed: the stemmer already joins them."""
    return (word[-1:] in ("s", "x") and word[:-1] in keys) or (
        word.endswith("aux") and word[:-3] + "al" in keys
    )


def related_words(word: str) -> list[str]:
    """The other members of `word`'s family (any case or accents), plurals left out."""
    key = fold(word)
    family = _FAMILY_OF.get(key, ())
    keys = {fold(member) for member in family}
    return [
        member
        for member in family
        if fold(member) != key and not _is_plural_of_another(fold(member), keys)
    ]
