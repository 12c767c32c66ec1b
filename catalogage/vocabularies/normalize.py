"""Folding of vocabulary terms so that spelling variants compare equal."""

import unicodedata


def fold(term: str) -> str:
    """Case-, accent- and spacing-insensitive key: "  Forêt  Domaniale" -> "foret domaniale"."""
    decomposed = unicodedata.normalize("NFKD", term.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def clean(term: str) -> str:
    """The spelling we keep: NFC, single spaces, trimmed."""
    return " ".join(unicodedata.normalize("NFC", term).split())
