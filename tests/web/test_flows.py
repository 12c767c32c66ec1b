"""What people do with the web interface, in a real browser (Debian's Chromium)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.factories import ORG_A, ORG_B, World, create_dataset
from tests.web.conftest import Pages, sign_in

pytestmark = pytest.mark.browser


def _fill_dataset_form(page: Page, **values: str) -> None:
    fields = {
        "title": "Bornes de recharge pour véhicules électriques",
        "description": "Localisation des points de recharge publics.",
        "keywords": "mobilité, énergie",
        "service": "Service des mobilités",
        "contact_emails": "agent.mobilite@example.gouv.fr",
        "geographical_coverage": "France entière",
        **values,
    }
    for name, value in fields.items():
        page.locator(f"#champ-{name}").fill(value)
    page.locator("#champ-formats label", has_text=re.compile(r"^CSV$")).click()


def test_anonymous_search_filter_and_open_a_record(
    page: Page, client: httpx.Client, world: World
) -> None:
    create_dataset(client, world, title="Qualité de l'eau potable", formats=["CSV"])
    create_dataset(client, world, title="Qualité de l'eau de baignade", formats=["JSON"])
    create_dataset(client, world, title="Arbres remarquables", formats=["CSV"])
    create_dataset(client, world, title="Eau brouillon secrète", visibility="draft")

    page.goto("/")
    page.get_by_role("search").last.get_by_label("Rechercher un jeu de données").fill("eau")
    page.get_by_role("search").last.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/recherche\?q=eau"))
    expect(page.locator("#nombre-resultats")).to_have_text("2 jeux de données trouvés")
    expect(page.locator("#resultats mark").first).to_have_text(re.compile("eau", re.I))
    expect(page.get_by_text("Eau brouillon secrète")).to_have_count(0)

    # DSFR draws its own checkbox: people click the label.
    page.locator("#filtre-format label", has_text="JSON").click()
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page).to_have_url(re.compile(r"format=JSON"))
    expect(page.locator("#nombre-resultats")).to_have_text("1 jeu de données trouvé")
    expect(page.get_by_role("link", name="Retirer le filtre JSON")).to_be_visible()

    page.go_back()
    expect(page.locator("#nombre-resultats")).to_have_text("2 jeux de données trouvés")
    page.go_forward()
    expect(page.locator("#nombre-resultats")).to_have_text("1 jeu de données trouvé")

    page.get_by_role("link", name=re.compile("baignade")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Qualité de l'eau de baignade")
    expect(page.get_by_role("link", name="jean.martin@example.gouv.fr")).to_have_attribute(
        "href", "mailto:jean.martin@example.gouv.fr"
    )
    data = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "")
    assert data["@type"] == "Dataset"
    assert data["name"] == "Qualité de l'eau de baignade"
    assert data["publisher"]["identifier"] == ORG_A


def test_create_a_record_with_an_invalid_email_then_fix_it(
    page: Page, client: httpx.Client, world: World
) -> None:
    create_dataset(client, world, keywords=["mobilité douce", "vélo"])
    sign_in(page, world, "editor_a")
    page.get_by_role("link", name="Décrire un jeu de données").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Décrire un jeu de données")
    # Keyword suggestions come from the keywords already in use.
    page.locator("#champ-keywords").press_sequentially("transport, mob")
    expect(page.locator("#suggestions-mots-cles option")).to_have_attribute(
        "value", "transport, mobilité douce"
    )
    _fill_dataset_form(page, contact_emails="pas-une-adresse")
    page.get_by_role("button", name="Créer le jeu de données").click()

    emails = page.locator("#champ-contact_emails")
    expect(emails).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#champ-contact_emails-erreur")).to_contain_text(
        "Adresse électronique invalide"
    )
    expect(page.locator("#erreurs")).to_be_focused()
    # Everything typed is still there.
    expect(emails).to_have_value("pas-une-adresse")
    expect(page.locator("#champ-title")).to_have_value(
        "Bornes de recharge pour véhicules électriques"
    )
    expect(page.get_by_label("CSV", exact=True)).to_be_checked()

    emails.fill("agent.mobilite@example.gouv.fr")
    page.get_by_role("button", name="Créer le jeu de données").click()
    expect(page.get_by_role("status").first).to_have_text("Le jeu de données a été créé.")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bornes de recharge pour véhicules électriques"
    )
    expect(page.get_by_text("Brouillon —")).to_be_visible()


def test_leaving_a_form_with_unsaved_changes_asks_first(page: Page, world: World) -> None:
    sign_in(page, world, "editor_a")
    page.goto(f"/jeux-de-donnees/nouveau?organisation={ORG_A}")
    page.locator("#champ-title").fill("Un titre pas encore enregistré")
    dialogs: list[Dialog] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.close(run_before_unload=True)
    page.wait_for_timeout(200)
    assert [d.type for d in dialogs] == ["beforeunload"]


def test_edit_conflict_keeps_the_second_users_input(
    pages: Pages, client: httpx.Client, world: World
) -> None:
    dataset = create_dataset(client, world, title="Stations de mesure")
    first, second = pages.new(), pages.new()
    sign_in(first, world, "editor_a")
    sign_in(second, world, "manager_a")
    for page in (first, second):
        page.goto(f"/jeux-de-donnees/{dataset['id']}/modifier")

    first.locator("#champ-title").fill("Stations de mesure de la qualité de l'air")
    first.get_by_role("button", name="Enregistrer les modifications").click()
    expect(first.get_by_role("status").first).to_have_text(
        "Vos modifications ont été enregistrées."
    )

    second.locator("#champ-description").fill("Description complète, écrite avec soin.")
    second.get_by_role("button", name="Enregistrer les modifications").click()
    expect(second.locator("#conflit")).to_contain_text("Quelqu’un a modifié cette fiche")
    expect(second.locator("#conflit")).to_contain_text("Titre")
    expect(second.locator("#champ-description")).to_have_value(
        "Description complète, écrite avec soin."
    )
    # Saving again, knowingly, keeps the second person's version.
    second.get_by_role("button", name="Enregistrer les modifications").click()
    expect(second.get_by_role("status").first).to_have_text(
        "Vos modifications ont été enregistrées."
    )
    stored = client.get(f"/datasets/{dataset['id']}", headers=world.headers("admin")).json()
    assert stored["description"] == "Description complète, écrite avec soin."
    assert stored["title"] == "Stations de mesure"
    assert stored["version"] == 3


def test_saving_an_unchanged_form_changes_nothing(
    page: Page, client: httpx.Client, world: World
) -> None:
    dataset = create_dataset(client, world, formats=["XLSX", "CSV"], extra_fields={})
    sign_in(page, world, "editor_a")
    page.goto(f"/jeux-de-donnees/{dataset['id']}/modifier")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status").first).to_have_text("Vos modifications ont été enregistrées.")
    stored = client.get(f"/datasets/{dataset['id']}").json()
    assert stored["version"] == 1
    assert stored["formats"] == ["XLSX", "CSV"]


def test_create_and_revoke_an_api_token(page: Page, client: httpx.Client, world: World) -> None:
    sign_in(page, world, "editor_b")
    page.get_by_role("link", name="Mon compte").first.click()
    page.get_by_label("Nom du jeton").fill("script de moissonnage")
    page.get_by_role("button", name="Créer le jeton").click()
    token = page.locator("#valeur-jeton").text_content() or ""
    assert token.startswith("ctg_")
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    page.goto("/compte")
    expect(page.locator("#valeur-jeton")).to_have_count(0)  # shown once only
    row = page.locator("#liste-jetons tr", has_text="script de moissonnage")
    row.get_by_role("button", name="Révoquer").click()
    expect(page.get_by_role("status").first).to_have_text("Le jeton a été révoqué.")
    expect(page.locator("#liste-jetons tr", has_text="script de moissonnage")).to_have_count(0)
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_manager_adds_an_extra_field_that_appears_in_the_form(page: Page, world: World) -> None:
    sign_in(page, world, "manager_a")
    page.goto(f"/organisations/{ORG_A}")
    form = page.locator("#formulaire-champ")
    form.locator("#champ-label").fill("Thématique")
    form.locator("#champ-name").fill("thematique")
    form.get_by_label("Type").select_option("enum")
    form.locator("#champ-choices").fill("Environnement, Transports")
    form.get_by_role("button", name="Ajouter le champ").click()
    expect(page.locator("#liste-champs")).to_contain_text("Thématique")

    page.goto(f"/jeux-de-donnees/nouveau?organisation={ORG_A}")
    field = page.get_by_label("Thématique")
    expect(field).to_be_visible()
    field.select_option("Transports")
    _fill_dataset_form(page)
    page.get_by_role("button", name="Créer le jeu de données").click()
    expect(page.locator("#champs-complementaires + div")).to_contain_text("Transports")


def test_a_manager_deletes_a_record_after_confirming(
    page: Page, client: httpx.Client, world: World
) -> None:
    dataset = create_dataset(client, world, title="Jeu à supprimer")
    sign_in(page, world, "manager_a")
    page.goto(f"/jeux-de-donnees/{dataset['id']}")
    page.get_by_role("link", name="Supprimer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer ce jeu de données ?")
    page.get_by_role("button", name="Supprimer définitivement").click()
    expect(page.get_by_role("status").first).to_have_text("Le jeu de données a été supprimé.")
    assert (
        client.get(f"/datasets/{dataset['id']}", headers=world.headers("admin")).status_code == 404
    )


def test_language_switch(pages: Pages, world: World) -> None:
    page = pages.new()
    page.goto("/recherche?q=arbres")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator(".fr-translate__btn").first.click()
    page.get_by_role("link", name="EN - English").first.click()
    expect(page).to_have_url(re.compile(r"/recherche\?q=arbres$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")
    page.get_by_role("link", name="Home").first.click()
    expect(page.get_by_role("heading", level=2, name="Key figures")).to_be_visible()

    english_browser = pages.new(locale="en-GB")
    english_browser.goto("/")
    expect(english_browser.locator("html")).to_have_attribute("lang", "en")
    english_browser.locator(".fr-translate__btn").first.click()
    english_browser.get_by_role("link", name="FR - Français").first.click()
    expect(english_browser.get_by_role("heading", level=2, name="Chiffres clés")).to_be_visible()


def test_organization_page_lists_only_visible_records(
    page: Page, client: httpx.Client, world: World
) -> None:
    create_dataset(client, world, title="Jeu public de A")
    create_dataset(client, world, title="Brouillon de A", visibility="draft")
    create_dataset(client, world, "editor_b", organization_siret=ORG_B, title="Jeu de B")
    page.goto(f"/organisations/{ORG_A}")
    expect(page.get_by_role("heading", level=2, name="1 jeu de données")).to_be_visible()
    expect(page.get_by_text("Brouillon de A")).to_have_count(0)
    sign_in(page, world, "editor_a")
    page.goto(f"/organisations/{ORG_A}")
    expect(page.get_by_role("heading", level=2, name="2 jeux de données")).to_be_visible()
    expect(page.get_by_text("Brouillon de A")).to_be_visible()
    expect(page.locator("#membres")).to_have_count(0)  # members: managers only


def test_search_boxes_suggest_what_the_visitor_may_see(
    page: Page, client: httpx.Client, world: World
) -> None:
    create_dataset(client, world, title="Qualité de l'eau potable", keywords=["qualité"])
    create_dataset(client, world, title="Qualité secrète", visibility="draft")

    page.goto("/")
    page.locator("#recherche-accueil").press_sequentially("qual")
    suggestions = page.locator("#suggestions-recherche-accueil option")
    expect(suggestions.first).to_have_attribute("value", "Qualité de l'eau potable")
    expect(suggestions.first).to_have_attribute("label", "Jeu de données")
    expect(
        page.locator('#suggestions-recherche-accueil option[label="Mot-clé"]')
    ).to_have_attribute("value", "qualité")
    expect(suggestions).to_have_count(2)  # not the draft

    # The search page's box offers the same; a suggestion is a search.
    page.goto("/recherche")
    page.locator("#champ-q").press_sequentially("qualité de l")
    expect(page.locator("#suggestions-recherche option").first).to_have_attribute(
        "value", "Qualité de l'eau potable"
    )
    page.locator("#champ-q").fill("Qualité de l'eau potable")
    page.locator("#champ-q").press("Enter")
    expect(page.locator("#nombre-resultats")).to_have_text("1 jeu de données trouvé")
