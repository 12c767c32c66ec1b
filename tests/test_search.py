"""Search API: results, highlights, facets, paging, freshness, errors."""

from __future__ import annotations

import httpx

from tests.factories import ORG_A, ORG_B, World, create_dataset


def search(client: httpx.Client, world: World, role: str = "anonymous", **params):
    response = client.get("/search/datasets", params=params, headers=world.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def titles(body) -> list[str]:
    return [item["title"] for item in body["items"]]


def facet(body, name: str) -> dict[str, int]:
    return {value["value"]: value["count"] for value in body["facets"][name]}


def test_a_dataset_is_findable_as_soon_as_its_write_returns(
    client: httpx.Client, world: World
) -> None:
    assert search(client, world, q="hydrométrie")["total"] == 0
    created = create_dataset(client, world, title="Stations de hydrométrie")
    body = search(client, world, q="hydrométrie")
    assert body["total"] == 1
    assert body["items"][0]["id"] == created["id"]

    response = client.patch(
        f"/datasets/{created['id']}",
        json={"title": "Stations de limnimétrie"},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert search(client, world, q="hydrométrie")["total"] == 0
    assert search(client, world, q="limnimétrie")["total"] == 1

    response = client.delete(f"/datasets/{created['id']}", headers=world.headers("manager_a"))
    assert response.status_code == 204
    assert search(client, world, q="limnimétrie")["total"] == 0


def test_organization_rename_reindexes_its_datasets(client: httpx.Client, world: World, db) -> None:
    create_dataset(client, world)
    assert search(client, world, q="Sylvestre")["total"] == 0
    response = client.patch(
        f"/organizations/{ORG_A}",
        json={"name": "Office Sylvestre"},
        headers=world.headers("admin"),
    )
    assert response.status_code == 200, response.text
    assert search(client, world, q="Sylvestre")["total"] == 1


def test_highlights_escape_user_html_and_mark_matches(client: httpx.Client, world: World) -> None:
    create_dataset(
        client,
        world,
        title='Forêt <script>alert("x")</script> & <b>bois</b>',
        description="Une <img src=x onerror=alert(1)> description de la forêt domaniale.",
    )
    item = search(client, world, q="forêt")["items"][0]
    assert item["title_html"] == (
        "<mark>Forêt</mark> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; "
        "&amp; &lt;b&gt;bois&lt;/b&gt;"
    )
    assert "<mark>forêt</mark>" in item["description_html"]
    for html in (item["title_html"], item["description_html"]):
        stripped = html.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped


def test_sentinel_characters_typed_by_users_do_not_become_marks(
    client: httpx.Client, world: World
) -> None:
    create_dataset(client, world, title="Forêt \ue000piège\ue001")
    item = search(client, world, q="piège")["items"][0]
    assert item["title_html"] == "Forêt <mark>piège</mark>"


def test_facets_count_with_the_other_filters_only(client: httpx.Client, world: World) -> None:
    create_dataset(client, world, title="Un", keywords=["eau"], formats=["CSV"])
    create_dataset(client, world, title="Deux", keywords=["eau", "air"], formats=["JSON"])
    create_dataset(client, world, title="Trois", keywords=["air"], formats=["CSV"])
    create_dataset(
        client,
        world,
        "editor_b",
        organization_siret=ORG_B,
        title="Quatre",
        keywords=["sol"],
        formats=["CSV"],
    )

    everything = search(client, world)
    assert everything["total"] == 4
    assert facet(everything, "keyword") == {"eau": 2, "air": 2, "sol": 1}
    assert facet(everything, "format") == {"CSV": 3, "JSON": 1}
    assert facet(everything, "organization") == {ORG_A: 3, ORG_B: 1}

    # Several values of one facet are OR'ed, and do not shrink that facet's counts.
    body = search(client, world, keyword=["eau", "sol"])
    assert sorted(titles(body)) == ["Deux", "Quatre", "Un"]
    assert facet(body, "keyword") == {"eau": 2, "air": 2, "sol": 1}
    selected = {v["value"]: v["selected"] for v in body["facets"]["keyword"]}
    assert selected == {"eau": True, "sol": True, "air": False}
    # ...but they narrow the other facets.
    assert facet(body, "format") == {"CSV": 2, "JSON": 1}

    # Different facets are AND'ed.
    body = search(client, world, keyword=["eau", "sol"], format="CSV")
    assert sorted(titles(body)) == ["Quatre", "Un"]
    assert facet(body, "keyword") == {"eau": 1, "air": 1, "sol": 1}
    assert facet(body, "format") == {"CSV": 2, "JSON": 1}
    assert facet(body, "organization") == {ORG_A: 1, ORG_B: 1}

    # With a query, counts are of the matching datasets.
    body = search(client, world, q="deux OR trois")
    assert body["total"] == 2
    assert facet(body, "keyword") == {"eau": 1, "air": 2}


def test_facet_labels_and_fixed_vocabularies(client: httpx.Client, world: World) -> None:
    create_dataset(client, world, update_frequency="monthly", visibility="draft")
    body = search(client, world, "editor_a")
    assert body["facets"]["frequency"] == [
        {"value": "monthly", "label": "Mensuelle", "count": 1, "selected": False}
    ]
    assert body["facets"]["visibility"][0]["label"] == "Brouillon"
    assert body["facets"]["organization"][0]["label"] == "Direction des données A"


def test_extra_field_facets_of_a_chosen_catalog(client: httpx.Client, world: World) -> None:
    response = client.put(
        f"/catalogs/{ORG_A}/extra-fields",
        json={
            "extra_fields": [
                {
                    "name": "theme",
                    "label": "Thème",
                    "type": "enum",
                    "choices": ["Environnement", "Transport"],
                },
                {"name": "sensible", "label": "Sensible", "type": "boolean"},
                {"name": "note", "label": "Note", "type": "text"},
            ]
        },
        headers=world.headers("manager_a"),
    )
    assert response.status_code == 200, response.text
    create_dataset(
        client,
        world,
        title="Un",
        extra_fields={"theme": "Environnement", "sensible": True, "note": "hêtraie"},
    )
    create_dataset(client, world, title="Deux", extra_fields={"theme": "Transport"})
    create_dataset(
        client, world, title="Trois", extra_fields={"theme": "Transport", "sensible": False}
    )

    body = search(client, world, catalog=ORG_A)
    assert facet(body, "extra.theme") == {"Transport": 2, "Environnement": 1}
    assert body["facets"]["extra.sensible"] == [
        {"value": "false", "label": "Non", "count": 1, "selected": False},
        {"value": "true", "label": "Oui", "count": 1, "selected": False},
    ]
    assert "extra.note" not in body["facets"]

    body = search(client, world, catalog=ORG_A, **{"extra.theme": "Transport"})
    assert sorted(titles(body)) == ["Deux", "Trois"]
    assert facet(body, "extra.theme") == {"Transport": 2, "Environnement": 1}
    assert facet(body, "extra.sensible") == {"false": 1}

    # Text extra fields are searchable.
    assert titles(search(client, world, q="hêtraie")) == ["Un"]

    response = client.get("/search/datasets", params={"catalog": ORG_A, "extra.note": "x"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "extra.note"
    response = client.get("/search/datasets", params={"extra.theme": "Transport"})
    assert response.status_code == 422
    response = client.get(
        "/search/datasets", params={"catalog": ORG_A, "extra.sensible": "peut-être"}
    )
    assert response.status_code == 422


def test_sorts_and_cursor_paging(client: httpx.Client, world: World) -> None:
    for index in range(7):
        create_dataset(client, world, title=f"Jeu {index}")
    by_title = search(client, world, sort="title", page_size=100)
    assert titles(by_title) == [f"Jeu {i}" for i in range(7)]
    assert titles(search(client, world, sort="-title"))[0] == "Jeu 6"
    assert titles(search(client, world))[0] == "Jeu 6"  # last updated first
    assert titles(search(client, world, sort="created_at"))[0] == "Jeu 0"

    seen: list[str] = []
    cursor = None
    while True:
        params = {"sort": "title", "page_size": 3, "facets": "false"}
        if cursor:
            params["cursor"] = cursor
        body = search(client, world, **params)
        seen += titles(body)
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Jeu {i}" for i in range(7)]

    seen = []
    cursor = None
    for _ in range(4):
        params = {"page_size": 2, "facets": "false"}
        if cursor:
            params["cursor"] = cursor
        body = search(client, world, **params)
        seen += titles(body)
        cursor = body["next_cursor"]
    assert seen == [f"Jeu {i}" for i in reversed(range(7))]

    pages = [titles(search(client, world, q="jeu", page=p, page_size=3)) for p in (1, 2, 3)]
    assert sorted(title for page in pages for title in page) == [f"Jeu {i}" for i in range(7)]


def test_bad_input_is_a_clear_error(client: httpx.Client) -> None:
    cases = [
        ({"q": "x" * 201}, "q"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"q": "x", "cursor": "eyJ4Ijox"}, "cursor"),
        ({"page_size": 101}, "page_size"),
        ({"sort": "random"}, "sort"),
        ({"visibility": "secret"}, "visibility"),
        ({"frequency": "hourly"}, "frequency"),
        ({"catalog": "123"}, "catalog"),
    ]
    for params, field in cases:
        response = client.get("/search/datasets", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["fields"][0]["field"] == field, params
    response = client.get("/search/autocomplete", params={"q": ""})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "q"


def test_stopwords_only_query_does_not_filter(client: httpx.Client, world: World) -> None:
    create_dataset(client, world)
    assert search(client, world, q="le la les ")["total"] == 1


def test_page_size_zero_gives_counts_only(client: httpx.Client, world: World) -> None:
    create_dataset(client, world)
    body = search(client, world, page_size=0, q="forêt")
    assert body["total"] == 1
    assert body["items"] == []
    assert facet(body, "format") == {"CSV": 1, "XLSX": 1}


def test_datasets_list_accepts_q_and_sorts_by_relevance(client: httpx.Client, world: World) -> None:
    create_dataset(client, world, title="Inventaire des haies", description="Bocage.")
    create_dataset(client, world, title="Bocage normand", description="Haies et talus.")
    create_dataset(client, world, title="Autre chose", description="Rien à voir.")
    response = client.get("/datasets/", params={"q": "bocage"})
    assert response.status_code == 200
    assert [d["title"] for d in response.json()] == ["Bocage normand", "Inventaire des haies"]
    assert response.headers["X-Total-Count"] == "2"
    response = client.get("/datasets/", params={"q": "bocage", "sort": "title"})
    assert [d["title"] for d in response.json()] == ["Bocage normand", "Inventaire des haies"]
    response = client.get("/datasets/", params={"q": "haie", "sort": "-title"})
    assert [d["title"] for d in response.json()] == ["Inventaire des haies", "Bocage normand"]
    response = client.get("/datasets/", params={"q": "x" * 201})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "q"


def test_autocomplete_kinds_and_limit(client: httpx.Client, world: World) -> None:
    for index in range(12):
        create_dataset(
            client,
            world,
            title=f"Forêt domaniale numéro {index}",
            keywords=["forêt", f"forestier {index}"],
            geographical_coverage="Forêt de Brocéliande",
        )
    response = client.get("/search/autocomplete", params={"q": "fore"})
    assert response.status_code == 200
    suggestions = response.json()
    assert len(suggestions) == 10
    kinds = [s["kind"] for s in suggestions]
    assert {"title", "keyword", "coverage"} <= set(kinds)
    assert {"kind": "coverage", "value": "Forêt de Brocéliande", "ref": None} in suggestions
    assert {"kind": "keyword", "value": "forêt", "ref": None} in suggestions
    assert all(s["ref"] for s in suggestions if s["kind"] == "title")

    response = client.get("/search/autocomplete", params={"q": "direction des donn", "limit": 3})
    assert response.json() == [
        {"kind": "organization", "value": "Direction des données A", "ref": ORG_A}
    ]
