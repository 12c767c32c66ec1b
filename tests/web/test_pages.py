"""The web pages over plain HTTP: routing beside the JSON API, sessions, CSRF, errors."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest

from catalogage.config import Settings
from catalogage.web.sessions import session_middleware_options
from tests.factories import ORG_A, PASSWORD, World, create_dataset

HTML = {"Accept": "text/html,application/xhtml+xml"}


def csrf_token(client: httpx.Client, path: str = "/connexion") -> str:
    page = client.get(path, headers=HTML)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def signed_in(client: httpx.Client, world: World, role: str) -> str:
    """Sign `client` in through the login form; return the session's CSRF token."""
    token = csrf_token(client)
    response = client.post(
        "/connexion",
        data={"email": world.email(role), "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303, response.text
    return csrf_token(client, "/compte")


def test_json_api_is_unchanged_for_api_clients(client: httpx.Client) -> None:
    response = client.get("/datasets/")
    assert response.json() == []
    assert response.headers["content-type"].startswith("application/json")
    assert client.get("/datasets/", headers=HTML).json() == []


def test_not_found_is_json_for_api_clients_and_a_page_for_browsers(client: httpx.Client) -> None:
    assert client.get("/no-such-page").json()["error"] == "not_found"
    page = client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert "Page non trouvée" in page.text
    assert client.get(f"/jeux-de-donnees/{uuid.uuid4()}").status_code == 404
    assert "Page non trouvée" in client.get(f"/jeux-de-donnees/{uuid.uuid4()}").text
    assert client.get("/jeux-de-donnees/pas-un-identifiant").status_code == 404


def test_drafts_are_not_revealed_to_anonymous_visitors(client: httpx.Client, world: World) -> None:
    draft = create_dataset(client, world, visibility="draft", title="Brouillon confidentiel")
    assert client.get(f"/jeux-de-donnees/{draft['id']}").status_code == 404
    assert "Brouillon confidentiel" not in client.get("/recherche?q=confidentiel").text
    signed_in(client, world, "editor_a")
    page = client.get(f"/jeux-de-donnees/{draft['id']}")
    assert page.status_code == 200
    assert "Brouillon confidentiel" in page.text


def test_pages_needing_an_account_send_browsers_to_sign_in(client: httpx.Client) -> None:
    response = client.get("/compte?onglet=jetons", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?suivant=%2Fcompte%3Fonglet%3Djetons"
    assert client.get("/compte").status_code == 401  # not a browser: a plain 401


def test_forbidden_page_for_a_signed_in_user_without_rights(
    client: httpx.Client, world: World
) -> None:
    signed_in(client, world, "editor_a")
    response = client.get("/admin/", headers=HTML)
    assert response.status_code == 403
    assert "Accès refusé" in response.text


def test_session_cookie_flags(client: httpx.Client, world: World) -> None:
    token = csrf_token(client)
    response = client.post(
        "/connexion",
        data={"email": world.email("editor_a"), "password": PASSWORD, "csrf_token": token},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("catalogage_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "Max-Age=43200" in cookie
    assert "secure" not in cookie.lower()  # SECURE_COOKIES is off in tests (plain HTTP)


def test_session_cookie_is_secure_behind_tls(settings: Settings) -> None:
    options = session_middleware_options(settings.model_copy(update={"secure_cookies": True}))
    assert options["https_only"] is True
    assert options["same_site"] == "lax"
    assert options["secret_key"] != settings.secret_key  # a key of its own


def test_login_form_without_csrf_token_is_refused(client: httpx.Client, world: World) -> None:
    csrf_token(client)  # a session exists, but the form does not carry its token
    response = client.post(
        "/connexion", data={"email": world.email("editor_a"), "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "Votre session a expiré" in response.text


def test_wrong_password_and_throttling_on_the_login_form(
    client: httpx.Client, world: World
) -> None:
    token = csrf_token(client)
    statuses = [
        client.post(
            "/connexion",
            data={"email": world.email("editor_a"), "password": "wrong", "csrf_token": token},
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_cookie_authenticated_api_writes_need_the_csrf_token(
    client: httpx.Client, world: World
) -> None:
    token = signed_in(client, world, "editor_a")
    body = {"name": "depuis le navigateur"}
    assert client.get("/me").json()["email"] == world.email("editor_a")
    assert client.post("/me/tokens", json=body).status_code == 403
    assert (
        client.post("/me/tokens", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    )
    assert client.post("/me/tokens", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    # A bearer token carries no ambient credential: no CSRF token needed.
    bearer = world.headers("editor_a")
    with httpx.Client(base_url=str(client.base_url)) as api:
        assert api.post("/me/tokens", json=body, headers=bearer).status_code == 201


def test_sign_out_ends_the_session(client: httpx.Client, world: World) -> None:
    token = signed_in(client, world, "editor_a")
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 303
    assert client.get("/me").status_code == 401


def test_a_password_change_ends_existing_sessions(client: httpx.Client, world: World) -> None:
    signed_in(client, world, "editor_a")
    assert client.get("/me").status_code == 200
    with httpx.Client(base_url=str(client.base_url)) as api:
        api.patch(
            f"/users/{world.users['editor_a']}",
            json={"password": "another long password"},
            headers=world.headers("admin"),
        )
    assert client.get("/me").status_code == 401


def test_language_from_accept_language_and_cookie(client: httpx.Client) -> None:
    english = client.get("/", headers={**HTML, "Accept-Language": "en-GB,en;q=0.8,fr;q=0.5"})
    assert '<html lang="en"' in english.text
    assert "Key figures" in english.text
    assert english.headers["content-language"] == "en"
    french = client.get("/", headers={**HTML, "Accept-Language": "de, fr;q=0.5"})
    assert '<html lang="fr"' in french.text
    switch = client.get("/langue/en?suivant=/recherche%3Fq%3Deau")
    assert switch.status_code == 303
    assert switch.headers["location"] == "/recherche?q=eau"
    assert "Datasets" in client.get("/recherche", headers={"Accept-Language": "fr"}).text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_no_open_redirect(client: httpx.Client, target: str) -> None:
    response = client.get("/langue/fr", params={"suivant": target})
    assert response.headers["location"] == "/"


def test_dataset_page_escapes_user_text_and_json_ld(client: httpx.Client, world: World) -> None:
    title = "</script><script>alert(1)</script> & <b>gras</b>"
    dataset = create_dataset(client, world, title=title, description="<img src=x onerror=alert(1)>")
    page = client.get(f"/jeux-de-donnees/{dataset['id']}").text
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;b&gt;gras&lt;/b&gt;" in page
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["name"] == title
    assert data["@type"] == "Dataset"
    assert data["publisher"]["identifier"] == ORG_A
    assert data["url"].endswith(f"/jeux-de-donnees/{dataset['id']}")


def test_search_state_lives_in_the_url(client: httpx.Client, world: World) -> None:
    for number in range(25):
        create_dataset(client, world, title=f"Relevé {number:02d}", formats=["CSV"])
    create_dataset(client, world, title="Autre relevé", formats=["JSON"])
    page = client.get(
        "/recherche", params={"q": "relevé", "format": "CSV", "tri": "title", "page": 2}
    )
    assert page.status_code == 200
    assert "25 jeux de données trouvés" in page.text
    assert "<mark>Relevé</mark> 20" in page.text
    assert "<mark>Relevé</mark> 19" not in page.text
    # Facet counts ignore the facet's own filter: JSON stays offered with its count.
    assert re.search(r"JSON\s*<span class=\"app-count\">\(1\)</span>", page.text)
    assert 'href="/recherche?q=relev%C3%A9&amp;format=CSV&amp;tri=title&amp;page=1"' in page.text


def test_hashed_static_files_are_cached_for_a_year(client: httpx.Client) -> None:
    home = client.get("/").text
    stylesheet = re.search(r'href="(/static/dist/dsfr-[0-9a-f]+/dsfr\.min\.css)"', home)
    assert stylesheet, "static assets are not built: run `make assets`"
    response = client.get(stylesheet.group(1))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_pages_report_their_server_time(client: httpx.Client) -> None:
    timing = client.get("/").headers["server-timing"]
    assert re.fullmatch(r"page;dur=\d+\.\d", timing)
    assert "server-timing" not in client.get("/datasets/").headers


def test_nul_characters_in_forms_are_refused(client: httpx.Client, world: World) -> None:
    token = signed_in(client, world, "admin")
    response = client.post(
        "/admin/membres",
        data={
            "email": "a\x00@example.gouv.fr",
            "siret": ORG_A,
            "role": "editor",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]


def test_every_export_link_works(client: httpx.Client, world: World) -> None:
    dataset = create_dataset(client, world)
    for page in (f"/jeux-de-donnees/{dataset['id']}", f"/organisations/{ORG_A}"):
        html = client.get(page).text
        links = re.findall(r'class="fr-link fr-icon-download-line[^"]*" href="([^"]+)"', html)
        assert links, f"no export link on {page}"
        for link in links:
            assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_pages_answer_an_error_page_when_the_database_is_unreachable(
    unreachable_database_server: str,
) -> None:
    page = httpx.get(f"{unreachable_database_server}/", headers=HTML, timeout=10)
    assert page.status_code >= 500
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in page.text and "Traceback" not in page.text
    api = httpx.get(f"{unreachable_database_server}/datasets/", headers=HTML, timeout=10)
    assert api.status_code == page.status_code
    assert api.headers["content-type"].startswith("application/json")
