"""Nothing of another organization's drafts or restricted datasets leaks through
search results, totals, facet counts, autocomplete or "did you mean"."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import ORG_A, ORG_B, World, create_dataset

#: Who may see ORG_A's draft and restricted datasets.
INSIDERS = ("editor_a", "manager_a", "admin")
OUTSIDERS = ("anonymous", "editor_b")


@pytest.fixture
def catalog(client: httpx.Client, world: World) -> None:
    create_dataset(
        client,
        world,
        title="Forêt publique",
        keywords=["forêt"],
        geographical_coverage="Bretagne",
        visibility="public",
    )
    create_dataset(
        client,
        world,
        title="Projet fusion confidentiel",
        keywords=["clandestin"],
        geographical_coverage="Atlantide",
        license="Licence secrète",
        formats=["Parquet"],
        update_frequency="daily",
        visibility="draft",
    )
    create_dataset(
        client,
        world,
        title="Note interne zonzon",
        keywords=["réservé"],
        geographical_coverage="Atlantide",
        visibility="restricted",
    )
    create_dataset(
        client,
        world,
        "editor_b",
        organization_siret=ORG_B,
        title="Brouillon de l'agence B",
        keywords=["bébé"],
        visibility="draft",
    )


def get(client: httpx.Client, world: World, role: str, path: str, **params):
    response = client.get(path, params=params, headers=world.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def facet_values(body) -> set[str]:
    return {value["value"] for values in body["facets"].values() for value in values}


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_see_no_trace_of_hidden_datasets(
    role: str, catalog: None, client: httpx.Client, world: World
) -> None:
    body = get(client, world, role, "/search/datasets")
    titles = {item["title"] for item in body["items"]}
    hidden_b = set() if role == "editor_b" else {"Brouillon de l'agence B"}
    assert "Projet fusion confidentiel" not in titles
    assert "Note interne zonzon" not in titles
    assert not titles & hidden_b
    assert body["total"] == len(titles)
    values = facet_values(body)
    for secret in (
        "clandestin",
        "réservé",
        "Atlantide",
        "Licence secrète",
        "Parquet",
        "daily",
        "draft" if role == "anonymous" else "restricted",
    ):
        assert secret not in values, secret
    organization = {v["value"]: v["count"] for v in body["facets"]["organization"]}
    assert organization[ORG_A] == 1

    for q in ("fusion", "zonzon", "confidentiel", "clandestin", "Atlantide"):
        found = get(client, world, role, "/search/datasets", q=q)
        assert found["total"] == 0, q
        assert found["items"] == [], q
        assert found["suggestion"] is None, q
        assert facet_values(found) == set(), q
    # Filtering on a hidden value finds nothing and reveals no count.
    found = get(client, world, role, "/search/datasets", keyword="clandestin")
    assert found["total"] == 0
    assert "clandestin" not in {v["value"] for v in found["facets"]["keyword"]}

    # "Did you mean" never proposes a hidden word.
    typo = get(client, world, role, "/search/datasets", q="fussion")
    assert typo["suggestion"] is None and typo["total"] == 0

    for prefix in ("proj", "clan", "atlan", "note int", "zonz", "rése"):
        suggestions = get(client, world, role, "/search/autocomplete", q=prefix)
        assert suggestions == [], (prefix, suggestions)

    response = client.get("/datasets/", params={"q": "fusion"}, headers=world.headers(role))
    assert response.json() == [] and response.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize("role", INSIDERS)
def test_insiders_find_their_organization_s_datasets(
    role: str, catalog: None, client: httpx.Client, world: World
) -> None:
    found = get(client, world, role, "/search/datasets", q="fusion")
    assert [item["title"] for item in found["items"]] == ["Projet fusion confidentiel"]
    body = get(client, world, role, "/search/datasets")
    coverage = {v["value"]: v["count"] for v in body["facets"]["coverage"]}
    assert coverage["Atlantide"] == 2
    typo = get(client, world, role, "/search/datasets", q="fussion")
    assert typo["suggestion"] == "fusion"
    assert typo["total"] == 1
    suggestions = get(client, world, role, "/search/autocomplete", q="clan")
    assert {"kind": "keyword", "value": "clandestin", "ref": None} in suggestions
    suggestions = get(client, world, role, "/search/autocomplete", q="atlan")
    assert suggestions == [{"kind": "coverage", "value": "Atlantide", "ref": None}]
    sees_b = role == "admin"
    found = get(client, world, role, "/search/datasets", q="agence")
    assert (found["total"] == 1) is sees_b


def test_cached_answers_are_never_served_across_scopes(
    catalog: None, client: httpx.Client, world: World
) -> None:
    # Same query, alternating callers: each gets its own answer, cache or not.
    for _ in range(2):
        assert get(client, world, "editor_a", "/search/datasets", q="atlantide")["total"] == 2
        assert get(client, world, "anonymous", "/search/datasets", q="atlantide")["total"] == 0
        assert get(client, world, "editor_b", "/search/datasets", q="atlantide")["total"] == 0
        assert get(client, world, "admin", "/search/datasets", q="atlantide")["total"] == 2
        assert get(client, world, "anonymous", "/search/autocomplete", q="atlan") == []
        assert get(client, world, "editor_a", "/search/autocomplete", q="atlan") != []


def test_publishing_a_draft_makes_it_findable_at_once(
    catalog: None, client: httpx.Client, world: World
) -> None:
    assert get(client, world, "anonymous", "/search/datasets", q="fusion")["total"] == 0
    draft = get(client, world, "editor_a", "/search/datasets", q="fusion")["items"][0]
    response = client.patch(
        f"/datasets/{draft['id']}",
        json={"visibility": "public"},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert get(client, world, "anonymous", "/search/datasets", q="fusion")["total"] == 1
    assert get(client, world, "anonymous", "/search/autocomplete", q="clan") != []
