"""Highlighted excerpts that cannot carry HTML.

PostgreSQL's `ts_headline` marks matches with two private-use characters (stripped
from the source text beforehand, so a user cannot forge them); here everything is
HTML-escaped and only those sentinels become `<mark>` and `</mark>`.
"""

from __future__ import annotations

import html

#: Match delimiters handed to ts_headline (Unicode private-use code points).
START = "\ue000"
STOP = "\ue001"
#: ts_headline options for titles (whole text) and descriptions (fragments).
TITLE_OPTIONS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
DESCRIPTION_OPTIONS = (
    f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=12, "
    'FragmentDelimiter=" … "'
)


def to_html(marked: str) -> str:
    """Escape `marked` for HTML, then turn the sentinels into `<mark>` elements."""
    escaped = html.escape(marked, quote=True)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")
