"""Sample requests for the core JSON API routes."""

from __future__ import annotations

from tests.factories import PASSWORD, dataset_body
from tests.route_samples import Call, Context, sample


def _if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


@sample("GET", "/health")
def health(ctx: Context) -> Call:
    return Call("/health")


@sample("GET", "/version")
def version(ctx: Context) -> Call:
    return Call("/version")


@sample("POST", "/auth/token")
def login(ctx: Context) -> Call:
    return Call("/auth/token", json={"email": ctx.world.email("editor_a"), "password": PASSWORD})


@sample("GET", "/me")
def me(ctx: Context) -> Call:
    return Call("/me")


@sample("GET", "/me/tokens")
def my_tokens(ctx: Context) -> Call:
    return Call("/me/tokens")


@sample("POST", "/me/tokens")
def new_token(ctx: Context) -> Call:
    return Call("/me/tokens", json={"name": "script"})


@sample("DELETE", "/me/tokens/{token_id}")
def revoke_token(ctx: Context) -> Call:
    if ctx.role == "anonymous":
        return Call("/me/tokens/00000000-0000-0000-0000-000000000000")
    token = ctx.client.post(
        "/me/tokens", json={"name": "to revoke"}, headers=ctx.world.headers(ctx.role)
    ).json()
    return Call(f"/me/tokens/{token['id']}")


@sample("GET", "/users/")
def users(ctx: Context) -> Call:
    return Call("/users/")


@sample("POST", "/users/")
def new_user(ctx: Context) -> Call:
    return Call(
        "/users/",
        json={"email": "new.user@example.gouv.fr", "name": "Nouvel agent", "password": PASSWORD},
    )


@sample("PATCH", "/users/{user_id}")
def update_user(ctx: Context) -> Call:
    return Call(f"/users/{ctx.world.users['editor_b']}", json={"name": "Renamed"})


@sample("GET", "/organizations/")
def organizations(ctx: Context) -> Call:
    return Call("/organizations/")


@sample("POST", "/organizations/")
def new_organization(ctx: Context) -> Call:
    return Call("/organizations/", json={"siret": "21000000000039", "name": "Commune C"})


@sample("GET", "/organizations/{siret}")
def organization(ctx: Context) -> Call:
    return Call(f"/organizations/{ctx.world.org_a}")


@sample("PATCH", "/organizations/{siret}")
def update_organization(ctx: Context) -> Call:
    return Call(f"/organizations/{ctx.world.org_a}", json={"name": "Direction A (renommée)"})


@sample("GET", "/organizations/{siret}/members")
def members(ctx: Context) -> Call:
    return Call(f"/organizations/{ctx.world.org_a}/members")


@sample("POST", "/organizations/{siret}/members")
def add_member(ctx: Context) -> Call:
    return Call(
        f"/organizations/{ctx.world.org_a}/members",
        json={"email": ctx.world.email("editor_b"), "role": "editor"},
    )


@sample("DELETE", "/organizations/{siret}/members/{user_id}")
def remove_member(ctx: Context) -> Call:
    return Call(f"/organizations/{ctx.world.org_a}/members/{ctx.world.users['editor_a']}")


@sample("GET", "/catalogs/{siret}")
def catalog(ctx: Context) -> Call:
    return Call(f"/catalogs/{ctx.world.org_a}")


@sample("PUT", "/catalogs/{siret}/extra-fields")
def extra_fields(ctx: Context) -> Call:
    field = {"name": "theme", "label": "Thème", "type": "text"}
    return Call(f"/catalogs/{ctx.world.org_a}/extra-fields", json={"extra_fields": [field]})


@sample("GET", "/catalogs/{siret}/history")
def catalog_history(ctx: Context) -> Call:
    return Call(f"/catalogs/{ctx.world.org_a}/history")


@sample("GET", "/datasets/")
def datasets(ctx: Context) -> Call:
    return Call("/datasets/")


@sample("POST", "/datasets/")
def new_dataset(ctx: Context) -> Call:
    return Call("/datasets/", json=dataset_body(ctx.world.org_a))


@sample("GET", "/datasets/{dataset_id}")
def dataset(ctx: Context) -> Call:
    return Call(f"/datasets/{ctx.public_dataset()['id']}")


@sample("PUT", "/datasets/{dataset_id}")
def replace_dataset(ctx: Context) -> Call:
    existing = ctx.public_dataset()
    body = dataset_body(ctx.world.org_a, title="Titre remplacé")
    return Call(f"/datasets/{existing['id']}", json=body, headers=_if_match(existing["version"]))


@sample("PATCH", "/datasets/{dataset_id}")
def patch_dataset(ctx: Context) -> Call:
    existing = ctx.public_dataset()
    return Call(
        f"/datasets/{existing['id']}",
        json={"title": "Titre modifié"},
        headers=_if_match(existing["version"]),
    )


@sample("DELETE", "/datasets/{dataset_id}")
def delete_dataset(ctx: Context) -> Call:
    return Call(f"/datasets/{ctx.public_dataset()['id']}")


@sample("GET", "/datasets/{dataset_id}/history")
def dataset_history(ctx: Context) -> Call:
    return Call(f"/datasets/{ctx.public_dataset()['id']}/history")


@sample("GET", "/formats/")
def formats(ctx: Context) -> Call:
    return Call("/formats/")


@sample("POST", "/formats/")
def new_format(ctx: Context) -> Call:
    return Call("/formats/", json={"name": "NetCDF", "eu_file_type": "NETCDF"})


@sample("GET", "/licenses/")
def licenses(ctx: Context) -> Call:
    return Call("/licenses/")


@sample("POST", "/licenses/")
def new_license(ctx: Context) -> Call:
    return Call("/licenses/", json={"name": "Licence maison", "is_open": False})


@sample("GET", "/frequencies/")
def frequencies(ctx: Context) -> Call:
    return Call("/frequencies/")


@sample("GET", "/tags/")
def tags(ctx: Context) -> Call:
    return Call("/tags/?prefix=for")
