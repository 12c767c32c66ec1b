"""Inputs that once reached the database as 500s (found by schemathesis)."""

from __future__ import annotations

import httpx

from tests.factories import World, dataset_body


def test_nul_in_query_string_is_422(client: httpx.Client) -> None:
    response = client.get("/datasets/", params={"tag": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "url"


def test_nul_in_body_names_the_field(client: httpx.Client, world: World, db) -> None:
    body = dataset_body(keywords=["ok", "bad\x00tag"])
    response = client.post("/datasets/", json=body, headers=world.headers("editor_a"))
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "keywords"
    assert db.scalar("SELECT count(*) FROM dataset") == 0


def test_null_for_a_required_column_in_patch_is_422(client: httpx.Client, world: World) -> None:
    admin = world.headers("admin")
    user = client.patch(f"/users/{world.users['editor_b']}", json={"is_admin": None}, headers=admin)
    assert user.status_code == 422 and user.json()["fields"][0]["field"] == "is_admin"
    organization = client.patch(f"/organizations/{world.org_a}", json={"name": None}, headers=admin)
    assert organization.status_code == 422
    assert organization.json()["fields"][0]["field"] == "name"
    cleared = client.patch(f"/organizations/{world.org_a}", json={"logo_url": None}, headers=admin)
    assert cleared.status_code == 200
