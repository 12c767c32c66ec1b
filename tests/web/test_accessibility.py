"""axe-core, in the browser, on every type of page: no serious or critical violation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.factories import ORG_A, World, create_dataset
from tests.web.conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def catalog(client: httpx.Client, world: World) -> dict[str, Any]:
    """A catalog with an extra field, a public dataset (edited once) and a draft."""
    response = client.put(
        f"/catalogs/{ORG_A}/extra-fields",
        json={
            "extra_fields": [
                {"name": "theme", "label": "Thématique", "type": "enum", "choices": ["Eau", "Air"]},
                {"name": "ouvert", "label": "Données ouvertes", "type": "boolean"},
            ]
        },
        headers=world.headers("manager_a"),
    )
    assert response.status_code == 200, response.text
    public = create_dataset(client, world, extra_fields={"theme": "Eau", "ouvert": True})
    client.patch(
        f"/datasets/{public['id']}",
        json={"title": "Arbres vivants inventoriés en forêt domaniale"},
        headers={**world.headers("editor_a"), "If-Match": f'"{public["version"]}"'},
    )
    draft = create_dataset(client, world, title="Brouillon", visibility="draft")
    return {"public": public, "draft": draft}


def _check(page: Page, paths: list[str], found: dict[str, Any]) -> None:
    for path in paths:
        page.goto(path)
        violations = axe_violations(page)
        if violations:
            found[path] = violations


def _assert_none(found: dict[str, Any]) -> None:
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_public_pages(page: Page, catalog: dict[str, Any]) -> None:
    found: dict[str, Any] = {}
    _check(
        page,
        [
            "/",
            "/recherche",
            "/recherche?q=arbres&format=CSV&tri=title",
            f"/jeux-de-donnees/{catalog['public']['id']}",
            f"/organisations/{ORG_A}",
            "/connexion",
            "/mentions-legales",
            "/accessibilite",
            "/page-inexistante",
        ],
        found,
    )
    # The sign-in form with an error message.
    page.goto("/connexion")
    page.locator("#champ-email").fill("personne@example.gouv.fr")
    page.locator("#champ-password").fill("mauvais mot de passe")
    page.locator("#formulaire-connexion button[type=submit]").click()
    page.wait_for_selector(".fr-alert--error")
    if violations := axe_violations(page):
        found["/connexion (error)"] = violations
    _assert_none(found)


def test_editor_and_manager_pages(page: Page, world: World, catalog: dict[str, Any]) -> None:
    found: dict[str, Any] = {}
    sign_in(page, world, "manager_a")
    dataset = catalog["public"]["id"]
    _check(
        page,
        [
            f"/jeux-de-donnees/{catalog['draft']['id']}",
            f"/jeux-de-donnees/{dataset}/modifier",
            f"/jeux-de-donnees/{dataset}/supprimer",
            f"/jeux-de-donnees/nouveau?organisation={ORG_A}",
            f"/organisations/{ORG_A}",
            "/compte",
        ],
        found,
    )
    # The form with errors next to the fields.
    page.goto(f"/jeux-de-donnees/nouveau?organisation={ORG_A}")
    page.locator("#champ-contact_emails").fill("pas-une-adresse")
    page.get_by_role("button", name="Créer le jeu de données").click()
    page.wait_for_selector("#erreurs")
    if violations := axe_violations(page):
        found["dataset form (errors)"] = violations
    # The account page showing a new token.
    page.goto("/compte")
    page.get_by_label("Nom du jeton").fill("script")
    page.get_by_role("button", name="Créer le jeton").click()
    page.wait_for_selector("#valeur-jeton")
    if violations := axe_violations(page):
        found["/compte (new token)"] = violations
    _assert_none(found)


def test_administration_and_error_pages(page: Page, world: World) -> None:
    found: dict[str, Any] = {}
    sign_in(page, world, "admin")
    _check(
        page,
        [
            "/admin/",
            "/admin/organisations",
            "/admin/utilisateurs",
            "/admin/vocabulaires",
            "/jeux-de-donnees/nouveau",  # admins choose the catalog first
        ],
        found,
    )
    sign_in(page, world, "editor_b")
    _check(page, ["/admin/"], found)  # 403 page
    _assert_none(found)


def test_the_check_finds_violations(page: Page) -> None:
    """The check can fail: a page with an unlabelled field and an image without text."""
    page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')
    assert {v["id"] for v in axe_violations(page)} >= {"image-alt", "label"}
