"""Sample requests for the web pages (`catalogage/web`).

Forms are posted as form data. Requests with a bearer token need no CSRF token;
anonymous ones get the session's token first (from the sign-in page), so that they
are refused for who they are (401) rather than for a missing token (403).
"""

from __future__ import annotations

import re
from typing import Any

from tests.factories import PASSWORD, dataset_body
from tests.route_samples import Call, Context, sample


def _form(ctx: Context, url: str, data: dict[str, Any] | None = None) -> Call:
    data = dict(data or {})
    if ctx.role == "anonymous":
        page = ctx.client.get("/connexion")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, "no CSRF token on the sign-in page"
        data["csrf_token"] = match.group(1)
    return Call(url, data=data)


def _dataset_form(ctx: Context, **overrides: Any) -> dict[str, Any]:
    body = dataset_body(ctx.world.org_a, **overrides)
    return {
        **{k: v for k, v in body.items() if isinstance(v, str)},
        "keywords": ", ".join(body["keywords"]),
        "contact_emails": "\n".join(body["contact_emails"]),
        "formats": body["formats"],
    }


@sample("GET", "/")
def home(ctx: Context) -> Call:
    return Call("/")


@sample("GET", "/recherche")
def search(ctx: Context) -> Call:
    ctx.public_dataset()
    return Call("/recherche?q=arbres&format=CSV&tri=title")


@sample("GET", "/jeux-de-donnees/nouveau")
def new_dataset_form(ctx: Context) -> Call:
    return Call(f"/jeux-de-donnees/nouveau?organisation={ctx.world.org_a}")


@sample("POST", "/jeux-de-donnees/nouveau")
def create_dataset(ctx: Context) -> Call:
    return _form(ctx, "/jeux-de-donnees/nouveau", _dataset_form(ctx))


@sample("GET", "/jeux-de-donnees/{dataset_id}")
def dataset_page(ctx: Context) -> Call:
    return Call(f"/jeux-de-donnees/{ctx.public_dataset()['id']}")


@sample("GET", "/jeux-de-donnees/{dataset_id}/modifier")
def edit_dataset_form(ctx: Context) -> Call:
    return Call(f"/jeux-de-donnees/{ctx.public_dataset()['id']}/modifier")


@sample("POST", "/jeux-de-donnees/{dataset_id}/modifier")
def edit_dataset(ctx: Context) -> Call:
    existing = ctx.public_dataset()
    data = {**_dataset_form(ctx, title="Titre modifié"), "version": str(existing["version"])}
    return _form(ctx, f"/jeux-de-donnees/{existing['id']}/modifier", data)


@sample("GET", "/jeux-de-donnees/{dataset_id}/supprimer")
def delete_dataset_form(ctx: Context) -> Call:
    return Call(f"/jeux-de-donnees/{ctx.public_dataset()['id']}/supprimer")


@sample("POST", "/jeux-de-donnees/{dataset_id}/supprimer")
def delete_dataset(ctx: Context) -> Call:
    return _form(ctx, f"/jeux-de-donnees/{ctx.public_dataset()['id']}/supprimer")


@sample("GET", "/langue/{code}")
def switch_language(ctx: Context) -> Call:
    return Call("/langue/en?suivant=/recherche")


@sample("GET", "/mentions-legales")
def legal_notice(ctx: Context) -> Call:
    return Call("/mentions-legales")


@sample("GET", "/accessibilite")
def accessibility(ctx: Context) -> Call:
    return Call("/accessibilite")


@sample("GET", "/connexion")
def login_form(ctx: Context) -> Call:
    return Call("/connexion")


@sample("POST", "/connexion")
def login(ctx: Context) -> Call:
    credentials = {"email": ctx.world.email("editor_a"), "password": PASSWORD}
    return _form(ctx, "/connexion", credentials)


@sample("POST", "/deconnexion")
def logout(ctx: Context) -> Call:
    return _form(ctx, "/deconnexion")


@sample("GET", "/compte")
def account(ctx: Context) -> Call:
    return Call("/compte")


@sample("POST", "/compte/jetons")
def create_token(ctx: Context) -> Call:
    return _form(ctx, "/compte/jetons", {"name": "script", "days": "30"})


@sample("POST", "/compte/jetons/{token_id}/revoquer")
def revoke_token(ctx: Context) -> Call:
    if ctx.role == "anonymous":
        return _form(ctx, "/compte/jetons/00000000-0000-0000-0000-000000000000/revoquer")
    token = ctx.client.post(
        "/me/tokens", json={"name": "to revoke"}, headers=ctx.world.headers(ctx.role)
    ).json()
    return _form(ctx, f"/compte/jetons/{token['id']}/revoquer")


@sample("GET", "/organisations/{siret}")
def organization_page(ctx: Context) -> Call:
    return Call(f"/organisations/{ctx.world.org_a}")


@sample("POST", "/organisations/{siret}/champs")
def add_extra_field(ctx: Context) -> Call:
    field = {"name": "theme", "label": "Thème", "type": "text", "hint": "", "choices": ""}
    return _form(ctx, f"/organisations/{ctx.world.org_a}/champs", field)


@sample("POST", "/organisations/{siret}/champs/{name}/supprimer")
def remove_extra_field(ctx: Context) -> Call:
    response = ctx.client.put(
        f"/catalogs/{ctx.world.org_a}/extra-fields",
        json={"extra_fields": [{"name": "theme", "label": "Thème", "type": "text"}]},
        headers=ctx.world.headers("manager_a"),
    )
    assert response.status_code == 200, response.text
    return _form(ctx, f"/organisations/{ctx.world.org_a}/champs/theme/supprimer")


@sample("POST", "/organisations/{siret}/membres")
def set_member(ctx: Context) -> Call:
    member = {"email": ctx.world.email("editor_b"), "role": "editor"}
    return _form(ctx, f"/organisations/{ctx.world.org_a}/membres", member)


@sample("POST", "/organisations/{siret}/membres/{user_id}/retirer")
def remove_member(ctx: Context) -> Call:
    user_id = ctx.world.users["editor_a"]
    return _form(ctx, f"/organisations/{ctx.world.org_a}/membres/{user_id}/retirer")


@sample("GET", "/admin/")
def admin_home(ctx: Context) -> Call:
    return Call("/admin/")


@sample("GET", "/admin/organisations")
def admin_organizations(ctx: Context) -> Call:
    return Call("/admin/organisations")


@sample("POST", "/admin/organisations")
def admin_create_organization(ctx: Context) -> Call:
    return _form(ctx, "/admin/organisations", {"siret": "21000000000039", "name": "Commune C"})


@sample("GET", "/admin/utilisateurs")
def admin_users(ctx: Context) -> Call:
    return Call("/admin/utilisateurs")


@sample("POST", "/admin/utilisateurs")
def admin_create_user(ctx: Context) -> Call:
    user = {"email": "nouvel.agent@example.gouv.fr", "name": "Nouvel agent", "password": PASSWORD}
    return _form(ctx, "/admin/utilisateurs", user)


@sample("POST", "/admin/utilisateurs/{user_id}/activation")
def admin_toggle_user(ctx: Context) -> Call:
    return _form(ctx, f"/admin/utilisateurs/{ctx.world.users['editor_b']}/activation")


@sample("POST", "/admin/membres")
def admin_set_membership(ctx: Context) -> Call:
    member = {"email": ctx.world.email("editor_b"), "siret": ctx.world.org_a, "role": "editor"}
    return _form(ctx, "/admin/membres", member)


@sample("GET", "/admin/vocabulaires")
def admin_vocabularies(ctx: Context) -> Call:
    return Call("/admin/vocabulaires")


@sample("POST", "/admin/formats")
def admin_add_format(ctx: Context) -> Call:
    return _form(ctx, "/admin/formats", {"name": "Format de test", "eu_file_type": ""})


@sample("POST", "/admin/licences")
def admin_add_license(ctx: Context) -> Call:
    return _form(ctx, "/admin/licences", {"name": "Licence de test", "url": "", "is_open": "true"})


def _import_file(ctx: Context) -> bytes:
    header = (
        "titre,description,mots_cles,nom_orga,siret_orga,service,contact_personne,couv_geo,format"
    )
    row = (
        f"Jeu importé,Description,eau,Direction des données A,{ctx.world.org_a},"
        "Service,a@example.gouv.fr,France,CSV"
    )
    return f"{header}\n{row}\n".encode()


@sample("GET", "/organisations/{siret}/import")
def import_page(ctx: Context) -> Call:
    return Call(f"/organisations/{ctx.world.org_a}/import")


@sample("POST", "/organisations/{siret}/import")
def check_import_file(ctx: Context) -> Call:
    call = _form(ctx, f"/organisations/{ctx.world.org_a}/import", {"visibility": "draft"})
    return Call(call.url, data=call.data, files={"file": ("catalogue.csv", _import_file(ctx))})


@sample("POST", "/organisations/{siret}/import/appliquer")
def apply_import_file(ctx: Context) -> Call:
    url = f"/organisations/{ctx.world.org_a}/import"
    # As someone allowed, check a file first: the session cookie then names it.
    checked = ctx.client.post(
        url,
        files={"file": ("catalogue.csv", _import_file(ctx))},
        headers=ctx.world.headers(ctx.role),
    )
    match = re.search(r'name="upload" value="([^"]+)"', checked.text)
    return _form(ctx, url + "/appliquer", {"upload": match.group(1) if match else "none"})
