"""Export links of the dataset and organization pages.

Each link names the route that serves it; a link whose route the app does not have
(an export package not installed) is left out, so pages never link to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.routing import NoMatchFound

from catalogage.web.i18n import N_, _


@dataclass(frozen=True)
class Export:
    label: str
    route: str
    params: dict[str, str] = field(default_factory=dict)
    #: Query string added to the route's path (with the page's parameters filled in).
    query: str = ""


DATASET_EXPORTS = (
    Export(N_("DCAT-AP (Turtle)"), "dcat_dataset", {"extension": "ttl"}),
    Export(N_("DCAT-AP (JSON-LD)"), "dcat_dataset", {"extension": "jsonld"}),
    Export(N_("DCAT-AP (RDF/XML)"), "dcat_dataset", {"extension": "rdf"}),
    Export(N_("JSON (API)"), "get_dataset"),
)
CATALOG_EXPORTS = (
    Export(N_("Tableur CSV"), "export_catalog_csv"),
    Export(N_("Tableur Excel (XLSX)"), "export_catalog_xlsx"),
    Export(N_("JSON (API)"), "list_datasets", query="organization={siret}&page_size=100"),
)


def export_links(
    request: Request, exports: tuple[Export, ...], **params: Any
) -> list[tuple[str, str]]:
    """(label, URL) of each export the app serves."""
    links = []
    for export in exports:
        try:
            path = request.app.url_path_for(export.route, **export.params, **params)
        except NoMatchFound:
            continue
        query = export.query.format(**params)
        links.append((_(request, export.label), str(path) + (f"?{query}" if query else "")))
    return links
