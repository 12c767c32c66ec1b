"""Datasets through the JSON API: validation, concurrency, history, listing, transactions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import ORG_A, ORG_B, World, create_dataset, dataset_body


def _post(client: httpx.Client, world: World, body: dict[str, Any], role: str = "editor_a"):
    return client.post("/datasets/", json=body, headers=world.headers(role))


def _fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return {error["field"] for error in response.json()["fields"]}


def test_create_then_read_back_in_list_and_by_id(client: httpx.Client, world: World) -> None:
    response = _post(client, world, dataset_body())
    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"].endswith(f"/datasets/{created['id']}")
    assert response.headers["ETag"] == '"1"'
    assert created["organization"] == {
        "siret": ORG_A,
        "name": "Direction des données A",
        "alternative_id": None,
    }
    assert created["keywords"] == ["arbre", "forêt", "écologie"]
    fetched = client.get(f"/datasets/{created['id']}")
    assert fetched.json() == created
    assert fetched.headers["ETag"] == '"1"'
    assert [d["id"] for d in client.get("/datasets/").json()] == [created["id"]]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"description": "   "}, "description"),
        ({"keywords": []}, "keywords"),
        ({"keywords": [""]}, "keywords"),
        ({"service": ""}, "service"),
        ({"service_contact_email": "not-an-email"}, "service_contact_email"),
        ({"contact_emails": []}, "contact_emails"),
        ({"contact_emails": ["jean.martin@"]}, "contact_emails"),
        ({"first_publication_date": "14/01/2005"}, "first_publication_date"),
        ({"last_update_date": "2000-01-01"}, "last_update_date"),
        ({"update_frequency": "sometimes"}, "update_frequency"),
        ({"geographical_coverage": ""}, "geographical_coverage"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.org/x"}, "url"),
        ({"formats": []}, "formats"),
        ({"formats": ["NOPE"]}, "formats"),
        ({"license": "l" * 301}, "license"),
        ({"visibility": "secret"}, "visibility"),
        ({"organization_siret": "12345678901234"}, "organization_siret"),
        ({"organization_siret": "1234"}, "organization_siret"),
        ({"organization_siret": "21000000000039"}, "organization_siret"),
        ({"unexpected": 1}, "unexpected"),
        ({"extra_fields": {"nope": "x"}}, "extra_fields.nope"),
    ],
)
def test_invalid_field_is_named(
    client: httpx.Client, world: World, db, override: dict[str, Any], field: str
) -> None:
    response = _post(client, world, dataset_body(**override), role="admin")
    assert field in _fields(response)
    assert db.scalar("SELECT count(*) FROM dataset") == 0
    assert db.scalar("SELECT count(*) FROM history_entry") == 0


def test_missing_required_fields_are_all_listed(client: httpx.Client, world: World) -> None:
    response = _post(client, world, {"organization_siret": ORG_A})
    assert _fields(response) >= {
        "title",
        "description",
        "keywords",
        "service",
        "contact_emails",
        "geographical_coverage",
        "formats",
    }


def test_failed_write_leaves_no_new_tag(client: httpx.Client, world: World, db) -> None:
    body = dataset_body(keywords=["mot-clé-inédit"], formats=["INCONNU"])
    assert "formats" in _fields(_post(client, world, body))
    assert db.scalar("SELECT count(*) FROM tag") == 0


def test_keywords_and_formats_are_canonicalised(client: httpx.Client, world: World) -> None:
    first = create_dataset(client, world, keywords=["Forêt", "Eau"], formats=["csv"])
    assert first["formats"] == ["CSV"]
    second = create_dataset(client, world, keywords=["foret", "FORÊT", " eau "], formats=["Csv"])
    assert second["keywords"] == ["Forêt", "Eau"]
    assert client.get("/tags/", params={"prefix": "FOR"}).json() == [{"name": "Forêt"}]


def test_update_requires_if_match_and_rejects_stale_versions(
    client: httpx.Client, world: World
) -> None:
    created = create_dataset(client, world)
    url, headers = f"/datasets/{created['id']}", world.headers("editor_a")
    no_precondition = client.patch(url, json={"title": "Nouveau"}, headers=headers)
    assert no_precondition.status_code == 428
    ok = client.patch(url, json={"title": "Nouveau"}, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.headers["ETag"] == '"2"'
    stale = client.put(
        url, json=dataset_body(title="Écrasement"), headers={**headers, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == "precondition_failed"
    assert client.get(url).json()["title"] == "Nouveau"


def test_unchanged_update_keeps_version(client: httpx.Client, world: World) -> None:
    created = create_dataset(client, world)
    response = client.put(
        f"/datasets/{created['id']}",
        json=dataset_body(),
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert response.json()["version"] == 1


def test_patch_null_on_required_field_is_rejected(client: httpx.Client, world: World) -> None:
    created = create_dataset(client, world)
    response = client.patch(
        f"/datasets/{created['id']}",
        json={"title": None},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert "title" in _fields(response)


def test_dataset_cannot_move_to_another_organization(client: httpx.Client, world: World) -> None:
    created = create_dataset(client, world)
    response = client.put(
        f"/datasets/{created['id']}",
        json=dataset_body(ORG_B),
        headers={**world.headers("admin"), "If-Match": '"1"'},
    )
    assert "organization_siret" in _fields(response)


def test_history_records_create_update_delete(client: httpx.Client, world: World, db) -> None:
    created = create_dataset(client, world)
    url = f"/datasets/{created['id']}"
    client.patch(
        url,
        json={"title": "Titre corrigé", "keywords": ["arbre"]},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    history = client.get(f"{url}/history", headers=world.headers("editor_a")).json()
    assert [entry["action"] for entry in history] == ["create", "update"]
    assert history[0]["changes"]["title"] == [None, "Arbres vivants inventoriés en forêt"]
    assert history[1]["changes"] == {
        "keywords": [["arbre", "forêt", "écologie"], ["arbre"]],
        "title": ["Arbres vivants inventoriés en forêt", "Titre corrigé"],
    }
    assert history[1]["actor"]["name"] == "editor_a"
    # The public sees what changed, not who changed it.
    assert client.get(f"{url}/history").json()[1]["actor"] is None

    assert client.delete(url, headers=world.headers("manager_a")).status_code == 204
    assert client.get(url).status_code == 404
    actions = db.execute(
        "SELECT action FROM history_entry WHERE entity_id = :id ORDER BY id", id=created["id"]
    )
    assert [row.action for row in actions] == ["create", "update", "delete"]


def test_delete_checks_if_match_when_given(client: httpx.Client, world: World) -> None:
    created = create_dataset(client, world)
    url = f"/datasets/{created['id']}"
    stale = client.delete(url, headers={**world.headers("manager_a"), "If-Match": '"7"'})
    assert stale.status_code == 412
    assert client.get(url).status_code == 200


def test_drafts_are_visible_to_members_only(client: httpx.Client, world: World) -> None:
    draft = create_dataset(client, world, visibility="draft")
    restricted = create_dataset(client, world, title="Restreint", visibility="restricted")
    public = create_dataset(client, world, title="Public", visibility="public")
    expectations = {
        "anonymous": {public["id"]},
        "editor_b": {public["id"]},
        "editor_a": {public["id"], draft["id"], restricted["id"]},
        "admin": {public["id"], draft["id"], restricted["id"]},
    }
    for role, expected in expectations.items():
        listed = client.get("/datasets/", headers=world.headers(role))
        assert {d["id"] for d in listed.json()} == expected, role
        assert listed.headers["X-Total-Count"] == str(len(expected))
    assert client.get(f"/datasets/{draft['id']}").status_code == 404
    assert client.get(f"/datasets/{draft['id']}/history").status_code == 404
    hidden = client.get(f"/datasets/{draft['id']}", headers=world.headers("editor_b"))
    assert hidden.status_code == 404
    # Organization counts follow the same rule.
    counts = {o["siret"]: o["dataset_count"] for o in client.get("/organizations/").json()}
    assert counts[ORG_A] == 1


def test_pagination_headers_and_bounds(client: httpx.Client, world: World) -> None:
    for number in range(5):
        create_dataset(client, world, title=f"Jeu {number}")
    response = client.get("/datasets/", params={"page": 2, "page_size": 2, "sort": "title"})
    assert [d["title"] for d in response.json()] == ["Jeu 2", "Jeu 3"]
    assert response.headers["X-Total-Count"] == "5"
    links = response.headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
        assert f'page={page}>; rel="{rel}"' in links
    assert "sort=title" in links
    too_big = client.get("/datasets/", params={"page_size": 101})
    assert too_big.status_code == 422
    assert too_big.json()["fields"][0]["field"] == "page_size"


def test_filters_and_sorts(client: httpx.Client, world: World) -> None:
    a = create_dataset(client, world, title="B eau", keywords=["eau"], formats=["CSV"])
    b = create_dataset(client, world, title="A air", keywords=["air"], formats=["JSON"])
    c = create_dataset(
        client, world, "editor_b", organization_siret=ORG_B, title="C sol", keywords=["sol"]
    )

    def ids(**params: Any) -> list[str]:
        return [d["id"] for d in client.get("/datasets/", params=params).json()]

    assert ids() == [c["id"], b["id"], a["id"]]  # most recently updated first
    assert ids(sort="title") == [b["id"], a["id"], c["id"]]
    assert ids(sort="created_at") == [a["id"], b["id"], c["id"]]
    assert ids(organization=ORG_B) == [c["id"]]
    assert set(ids(tag=["eau", "air"])) == {a["id"], b["id"]}
    assert ids(format="JSON") == [b["id"]]
    assert ids(visibility="draft") == []
    assert ids(updated_since="2999-01-01T00:00:00Z") == []
    assert client.get("/datasets/", params={"sort": "random"}).status_code == 422


def test_unknown_dataset_and_malformed_id(client: httpx.Client) -> None:
    assert client.get("/datasets/00000000-0000-0000-0000-000000000000").status_code == 404
    malformed = client.get("/datasets/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["fields"][0]["field"] == "dataset_id"


def test_malformed_json_is_a_clear_error(client: httpx.Client, world: World) -> None:
    response = client.post(
        "/datasets/",
        content=b"{not json",
        headers={**world.headers("editor_a"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_cached_listings_follow_every_change_and_each_callers_scope(
    client: httpx.Client, world: World
) -> None:
    """`GET /datasets/` answers are cached per catalog generation and visibility scope:
    each write shows in the next listing, and nobody gets a listing cached for a
    caller who sees more."""

    def listing(role: str, **params: Any) -> tuple[list[str], str]:
        response = client.get("/datasets/", params=params, headers=world.headers(role))
        assert response.status_code == 200, response.text
        return [d["title"] for d in response.json()], response.headers["X-Total-Count"]

    public = create_dataset(client, world, title="Public", visibility="public")
    create_dataset(client, world, title="Brouillon A", visibility="draft")
    for _ in range(2):  # the second round is served from the cache
        assert listing("editor_a", sort="title") == (["Brouillon A", "Public"], "2")
        assert listing("anonymous", sort="title") == (["Public"], "1")
        assert listing("editor_b", sort="title") == (["Public"], "1")
        assert listing("anonymous", tag="forêt", sort="title") == (["Public"], "1")

    url = f"/datasets/{public['id']}"
    edited = client.patch(
        url,
        json={"title": "Public modifié"},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert listing("anonymous", sort="title") == (["Public modifié"], "1")
    assert listing("anonymous", tag="forêt", sort="title") == (["Public modifié"], "1")

    deleted = client.delete(url, headers=world.headers("manager_a"))
    assert deleted.status_code == 204
    assert listing("anonymous") == ([], "0")
    assert listing("editor_a") == (["Brouillon A"], "1")
