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
    #: The page's parameters that are path parameters of the route.
    path: tuple[str, ...] = ()
    #: Query string added to the route's path (with the page's parameters filled in).
    query: str = ""


DATASET_EXPORTS = (
    Export(N_("DCAT-AP (Turtle)"), "dcat_dataset", {"extension": "ttl"}, ("dataset_id",)),
    Export(N_("DCAT-AP (JSON-LD)"), "dcat_dataset", {"extension": "jsonld"}, ("dataset_id",)),
    Export(N_("DCAT-AP (RDF/XML)"), "dcat_dataset", {"extension": "rdf"}, ("dataset_id",)),
    Export(N_("JSON (API)"), "get_dataset", path=("dataset_id",)),
)
CATALOG_EXPORTS = (
    Export(N_("Tableur CSV"), "export_catalog_csv", path=("siret",)),
    Export(N_("Tableur Excel (XLSX)"), "export_catalog_xlsx", path=("siret",)),
    Export(N_("JSON (API)"), "list_datasets", query="organization={siret}&page_size=100"),
)


def export_links(
    request: Request, exports: tuple[Export, ...], **params: Any
) -> list[tuple[str, str]]:
    """(label, URL) of each export the app serves."""
    links = []
    for export in exports:
        try:
            path_params = {name: params[name] for name in export.path}
            path = request.app.url_path_for(export.route, **export.params, **path_params)
        except NoMatchFound:
            continue
        query = export.query.format(**params)
        links.append((_(request, export.label), str(path) + (f"?{query}" if query else "")))
    return links
