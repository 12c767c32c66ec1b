"""Sample requests for the interoperability routes: exports, import, DCAT, CKAN API."""

from __future__ import annotations

from tests.factories import ORG_A
from tests.route_samples import Builder, Call, Context, sample

EXAMPLE_ROW = (
    "titre,description,mots_cles,nom_orga,siret_orga,service,contact_personne,couv_geo,format\n"
    f"Jeu importé,Description,eau,Direction des données A,{ORG_A},Service,a@example.gouv.fr,"
    "France,CSV\n"
)


@sample("GET", "/export.csv")
def site_csv(ctx: Context) -> Call:
    return Call("/export.csv")


@sample("GET", "/export.xlsx")
def site_xlsx(ctx: Context) -> Call:
    return Call("/export.xlsx")


@sample("GET", "/catalogs/{siret}/export.csv")
def catalog_csv(ctx: Context) -> Call:
    return Call(f"/catalogs/{ORG_A}/export.csv")


@sample("GET", "/catalogs/{siret}/export.xlsx")
def catalog_xlsx(ctx: Context) -> Call:
    return Call(f"/catalogs/{ORG_A}/export.xlsx")


@sample("POST", "/catalogs/{siret}/import")
def import_file(ctx: Context) -> Call:
    return Call(
        f"/catalogs/{ORG_A}/import?dry_run=true",
        files={"file": ("catalogue.csv", EXAMPLE_ROW.encode())},
    )


@sample("GET", "/catalog.{extension}")
def dcat_catalog(ctx: Context) -> Call:
    return Call("/catalog.ttl")


@sample("GET", "/datasets/{dataset_id}.{extension}")
def dcat_dataset(ctx: Context) -> Call:
    return Call(f"/datasets/{ctx.public_dataset()['id']}.jsonld")


def _action(prefix: str, name: str, params: dict[str, str]) -> Builder:
    def build(ctx: Context) -> Call:
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return Call(f"{prefix}{name}" + (f"?{query}" if query else ""))

    return build


def _package_show(prefix: str) -> Builder:
    def build(ctx: Context) -> Call:
        return Call(f"{prefix}package_show?id={ctx.public_dataset()['id']}")

    return build


for prefix in ("/api/3/action/", "/api/action/"):
    for method in ("GET", "POST"):
        for action, params in (
            ("status_show", {}),
            ("site_read", {}),
            ("package_list", {}),
            ("package_search", {"q": "eau", "rows": "5"}),
            ("organization_list", {"all_fields": "true"}),
            ("organization_show", {"id": ORG_A}),
            ("tag_list", {}),
        ):
            sample(method, prefix + action)(_action(prefix, action, params))
        sample(method, prefix + "package_show")(_package_show(prefix))
