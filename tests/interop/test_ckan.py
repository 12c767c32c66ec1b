"""The CKAN-compatible API, driven by the real `ckanapi` client."""

from __future__ import annotations

import ckanapi
import pytest

from tests.factories import create_dataset


@pytest.fixture
def ckan(server):
    remote = ckanapi.RemoteCKAN(server, user_agent="catalogage-tests")
    remote.base_url = "api/3/action/"
    with remote:
        yield remote


@pytest.fixture
def catalog(client, world):
    return {
        "forest": create_dataset(client, world, keywords=["forêt", "arbre"]),
        "wifi": create_dataset(
            client, world, title="Bornes wifi", keywords=["numérique"], formats=["API", "JSON"]
        ),
        "budget": create_dataset(
            client,
            world,
            "editor_b",
            organization_siret=world.org_b,
            title="Budget primitif",
            keywords=["budget", "finances"],
            formats=["CSV", "PDF"],
        ),
        "draft": create_dataset(client, world, title="Brouillon secret", visibility="draft"),
    }


def test_status_and_site_read(ckan):
    assert ckan.action.site_read() is True
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.")


def test_package_list_and_show(ckan, catalog):
    names = ckan.action.package_list()
    assert sorted(names) == sorted(catalog[k]["id"] for k in ("forest", "wifi", "budget"))
    package = ckan.action.package_show(id=catalog["forest"]["id"])
    assert package["title"] == catalog["forest"]["title"]
    assert package["organization"]["name"] == catalog["forest"]["organization"]["siret"]
    assert {t["name"] for t in package["tags"]} == {"forêt", "arbre"}
    assert [r["format"] for r in package["resources"]] == ["CSV", "XLSX"]
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["couv_geo"] == "France métropolitaine"
    assert extras["freq_maj"] == "Annuelle ou plusieurs fois par an"


def test_drafts_are_hidden_and_not_found_is_ckan_shaped(ckan, catalog, client):
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id=catalog["draft"]["id"])
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="not-a-dataset")
    response = client.get("/api/3/action/package_show", params={"id": catalog["draft"]["id"]})
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["error"]["__type"] == "Not Found Error"
    assert "help" in body


def test_members_see_their_drafts(server, world, catalog):
    remote = ckanapi.RemoteCKAN(server, get_only=True)
    remote.base_url = "api/3/action/"
    remote.session = __import__("requests").Session()
    remote.session.headers["Authorization"] = f"Bearer {world.tokens['editor_a']}"
    package = remote.action.package_show(id=catalog["draft"]["id"])
    assert package["private"] is True


def test_package_search_filters_sorts_pages_and_facets(ckan, catalog, world):
    everything = ckan.action.package_search()
    assert everything["count"] == 3
    by_org = ckan.action.package_search(fq=f"organization:{world.org_b}")
    assert [p["title"] for p in by_org["results"]] == ["Budget primitif"]
    by_tag = ckan.action.package_search(fq='tags:"forêt"')
    assert [p["id"] for p in by_tag["results"]] == [catalog["forest"]["id"]]
    by_format = ckan.action.package_search(fq="res_format:API")
    assert [p["id"] for p in by_format["results"]] == [catalog["wifi"]["id"]]
    combined = ckan.action.package_search(fq=f"organization:{world.org_a} AND res_format:CSV")
    assert [p["id"] for p in combined["results"]] == [catalog["forest"]["id"]]
    text = ckan.action.package_search(q="wifi")
    assert [p["id"] for p in text["results"]] == [catalog["wifi"]["id"]]
    titles = [p["title"] for p in ckan.action.package_search(sort="title_string asc")["results"]]
    assert titles == sorted(titles)
    page = ckan.action.package_search(sort="title_string asc", rows=1, start=1)
    assert [p["title"] for p in page["results"]] == titles[1:2]
    facets = ckan.action.package_search(**{"facet.field": '["organization","tags","res_format"]'})
    assert facets["facets"]["organization"] == {world.org_a: 2, world.org_b: 1}
    assert facets["facets"]["res_format"]["CSV"] == 2
    assert facets["facets"]["tags"]["forêt"] == 1


def test_package_search_refuses_bad_parameters(ckan, client):
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows=1001)
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="author:someone")
    response = client.get("/api/3/action/package_search", params={"rows": "many"})
    assert response.status_code == 409
    assert response.json()["error"]["__type"] == "Validation Error"


def test_organizations_and_tags(ckan, catalog, world):
    assert ckan.action.organization_list() == sorted([world.org_a, world.org_b])
    detailed = ckan.action.organization_list(all_fields=True)
    assert {o["name"]: o["package_count"] for o in detailed} == {world.org_a: 2, world.org_b: 1}
    organization = ckan.action.organization_show(id=world.org_b, include_datasets=True)
    assert organization["title"] == "Agence B"
    assert [p["title"] for p in organization["packages"]] == ["Budget primitif"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="00000000000000")
    tags = ckan.action.tag_list()
    assert "forêt" in tags and "budget" in tags
    assert "Brouillon" not in " ".join(tags)


def test_write_actions_do_not_exist(ckan, client):
    """Read-only: write actions are unknown routes (our JSON 404, which ckanapi reports
    as an incompatible server rather than as a CKAN error)."""
    with pytest.raises(ckanapi.errors.ServerIncompatibleError):
        ckan.action.package_create(name="x")
    assert client.post("/api/3/action/package_delete", json={"id": "x"}).status_code == 404


def test_legacy_action_prefix(server, catalog):
    remote = ckanapi.RemoteCKAN(server)
    assert len(remote.action.package_list()) == 3


def test_package_search_q_uses_the_search_engine(ckan, client, world, server):
    """`q` goes through the search engine: accents ignored, French stemming, `-word`
    exclusion, relevance order by default, with the same visibility as other actions."""
    # No factory text mentioning forests ("inventaire forestier") in these datasets.
    plain = {"service": "Service des données", "technical_source": None}
    forest = create_dataset(
        client,
        world,
        **plain,
        title="Forêt domaniale de Brocéliande",
        description="Parcelles gérées par l'Office national.",
        keywords=["nature"],
    )
    paths = create_dataset(
        client,
        world,
        "editor_b",
        **plain,
        organization_siret=world.org_b,
        title="Cartographie des chemins",
        description="Chemins de randonnée en forêt.",
        keywords=["randonnée"],
    )
    budget = create_dataset(
        client,
        world,
        **plain,
        title="Budget primitif",
        description="Budget de la ville et parcelles communales.",
        keywords=["budget"],
    )
    create_dataset(
        client, world, **plain, title="Forêt secrète", visibility="draft", keywords=["x"]
    )

    def ids(**params):
        return [package["id"] for package in ckan.action.package_search(**params)["results"]]

    # Accents and case ignored; the title match ranks first.
    assert ids(q="foret") == [forest["id"], paths["id"]]
    # Plural and singular share a stem.
    assert sorted(ids(q="parcelle")) == sorted([forest["id"], budget["id"]])
    # Exclusion.
    assert ids(q="parcelle -budget") == [forest["id"]]
    # An explicit sort replaces relevance.
    assert ids(q="foret", sort="title_string asc") == [paths["id"], forest["id"]]
    # Filters and facets apply to the matches.
    assert ids(q="foret", fq=f"organization:{world.org_b}") == [paths["id"]]
    faceted = ckan.action.package_search(q="foret", **{"facet.field": '["organization"]'})
    assert faceted["count"] == 2
    assert faceted["facets"]["organization"] == {world.org_a: 1, world.org_b: 1}
    # Drafts stay hidden from others and visible to their organization's members.
    member = ckanapi.RemoteCKAN(server, get_only=True)
    member.base_url = "api/3/action/"
    member.session = __import__("requests").Session()
    member.session.headers["Authorization"] = f"Bearer {world.tokens['editor_a']}"
    assert len(member.action.package_search(q="foret")["results"]) == 3
    # A query without a searchable word does not filter; a too long one is refused.
    assert len(ids(q="*:*")) == 4 - 1
    response = client.get("/api/3/action/package_search", params={"q": "x" * 201})
    assert response.status_code == 409
    assert response.json()["error"]["__type"] == "Validation Error"


def test_ckan_operations_have_unique_openapi_ids(client):
    operations = [
        (path, method, operation["operationId"])
        for path, item in client.get("/openapi.json").json()["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/3/action/")
    ]
    assert len(operations) == 16
    assert len({operation_id for _, _, operation_id in operations}) == 16
    assert ("/api/3/action/package_search", "post", "ckan_package_search_post") in operations
