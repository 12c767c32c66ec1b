"""Reading the search box: web search syntax turned into a PostgreSQL tsquery.

Syntax (as on web search engines):

- words are AND'ed: ``inventaire forêt``;
- ``"plan local"`` is a phrase (words in that order);
- ``-word`` or ``-"a phrase"`` excludes;
- ``OR`` (upper case, since "or" is also a French word) between two terms
  accepts either;
- the last word is also matched as a prefix while the user is typing
  (``forê`` finds "forêt"), unless the query ends with a space.

The user's text never becomes tsquery syntax: every term goes through
`plainto_tsquery`/`phraseto_tsquery` as a bound parameter, and the only text
passed to `to_tsquery` (for prefixes) is letters and digits followed by ``:*``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, literal
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY

from catalogage.search.lexicon import related_words
from catalogage.vocabularies.normalize import fold

#: Stemming, unaccented configuration (migration 0002).
CONFIG = "catalogage_fr"
#: Unaccented, unstemmed configuration, for prefixes of partly typed words.
SIMPLE_CONFIG = "catalogage_simple"
#: Longest query accepted, in characters.
MAX_QUERY_LENGTH = 200
#: Shortest last word matched as a prefix (one letter would match most of the catalog).
MIN_PREFIX_LENGTH = 2

#: Words the French configuration keeps although they carry no meaning: PostgreSQL's
#: stop list misses "les" and, since accents are removed before it is consulted,
#: "à"/"où" ("a", "ou"). Dropped from queries (a stop list file would need to be
#: installed on the database server).
EXTRA_STOPWORDS = frozenset({"les", "a", "ou", "aux"})

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_ALNUM = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    negated: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    #: Terms of each group are OR'ed; groups are AND'ed.
    groups: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.groups

    def positive_words(self) -> list[str]:
        """Single words that must match (candidates for spelling suggestions)."""
        return [
            term.text
            for group in self.groups
            for term in group
            if not term.phrase and not term.negated
        ]


def parse(query: str) -> ParsedQuery:
    """Parse the search box text (see the module docstring for the syntax)."""
    terms: list[Term | None] = []  # None stands for an OR between two terms
    for match in _TOKEN.finditer(query):
        minus, phrase, word = match.groups()
        if phrase is not None:
            if phrase.strip():
                terms.append(Term(phrase.strip(), phrase=True, negated=bool(minus)))
        elif word == "OR":
            terms.append(None)
        elif word.startswith("-") and len(word) > 1:
            terms.append(Term(word[1:], negated=True))
        elif _ALNUM.search(word) and fold(word) not in EXTRA_STOPWORDS:
            terms.append(Term(word))
    typing = bool(query) and not query[-1].isspace()
    last = terms[-1] if terms else None
    after_or = len(terms) >= 2 and terms[-2] is None
    if typing and last is not None and not (last.phrase or last.negated or after_or):
        # "l'ai" while typing: its last chunk ("ai") is the prefix being typed.
        terms[-1:] = [Term(chunk) for chunk in _ALNUM.findall(last.text)]
    groups: list[list[Term]] = []
    pending_or = False
    for index, term in enumerate(terms):
        if term is None:
            pending_or = bool(groups)
            continue
        is_last = index == len(terms) - 1
        if is_last and typing and _is_prefix_candidate(term):
            term = Term(term.text, prefix=True)
        if pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    return ParsedQuery(tuple(tuple(group) for group in groups))


def _is_prefix_candidate(term: Term) -> bool:
    return (
        not term.phrase
        and not term.negated
        and _ALNUM.fullmatch(term.text) is not None
        and len(term.text) >= MIN_PREFIX_LENGTH
    )


def _config(name: str) -> ColumnElement[Any]:
    return literal(name, REGCONFIG)


def _or(parts: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    result = parts[0]
    for part in parts[1:]:
        result = result.op("||", return_type=TSQUERY)(part)
    return result


def _term_query(term: Term, expand: bool) -> ColumnElement[Any]:
    if term.phrase:
        return func.phraseto_tsquery(_config(CONFIG), term.text, type_=TSQUERY)
    words = [term.text, *(related_words(term.text) if expand and not term.negated else [])]
    parts: list[ColumnElement[Any]] = [
        func.plainto_tsquery(_config(CONFIG), word, type_=TSQUERY) for word in words
    ]
    if term.prefix:
        pattern = term.text + ":*"
        parts.append(func.to_tsquery(_config(CONFIG), pattern, type_=TSQUERY))
        parts.append(func.to_tsquery(_config(SIMPLE_CONFIG), pattern, type_=TSQUERY))
    return _or(parts)


def tsquery(parsed: ParsedQuery, *, expand: bool = True) -> ColumnElement[Any] | None:
    """The tsquery expression for `parsed`; None when it has no term.

    `expand` adds the words of each word's family (lexicon.py): the expanded query
    finds, the unexpanded one ranks (the typed word counts more than its relatives).
    """
    if parsed.empty:
        return None
    alternatives: list[ColumnElement[Any]] = []
    for group in parsed.groups:
        parts: list[ColumnElement[Any]] = []
        for term in group:
            query = _term_query(term, expand)
            parts.append(func.tsquery_not(query, type_=TSQUERY) if term.negated else query)
        alternatives.append(_or(parts))
    result = alternatives[0]
    for alternative in alternatives[1:]:
        result = result.op("&&", return_type=TSQUERY)(alternative)
    return result


#: A lexeme of a tsquery's text form, with its optional `:*` and weight flags.
_LEXEME = re.compile(r"'((?:[^']|'')*)'(?::(\*?)[A-D]*)?")


def restrict_to_title(tsquery_text: str) -> str:
    """The same tsquery matching title lexemes only (weight A): `'foret':*` -> `'foret':*A`."""
    return _LEXEME.sub(lambda m: f"'{m.group(1)}':{m.group(2) or ''}A", tsquery_text)
