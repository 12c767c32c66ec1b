"""Totals and facets without query come from the trigger-maintained `dataset_count`
(migration 0004_perf): they must stay exact through every kind of write and never
count what the caller may not see."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import ORG_A, ORG_B, World, create_dataset

ROLES = ("anonymous", "editor_a", "editor_b", "admin")

#: `dataset_count` recomputed from the datasets themselves (same layout: facet
#: `all` per organization, value facets of public datasets across organizations).
RECOUNT = """
    SELECT facet, visibility, organization_siret, value, count(*) AS n FROM (
        SELECT 'all' AS facet, visibility, organization_siret, '' AS value FROM dataset
        UNION ALL
        SELECT f.facet, d.visibility,
            CASE WHEN d.visibility = 'public' THEN '' ELSE d.organization_siret END, f.value
        FROM dataset d CROSS JOIN LATERAL (
            SELECT 'keyword', k FROM unnest(d.keywords) k
            UNION ALL SELECT 'format', x FROM unnest(d.formats) x
            UNION ALL SELECT 'coverage', d.geographical_coverage
            UNION ALL SELECT 'frequency', d.update_frequency
            UNION ALL SELECT 'license', d.license
        ) AS f(facet, value)
        WHERE f.value IS NOT NULL
    ) counted GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
"""
STORED = (
    "SELECT facet, visibility, organization_siret, value, n FROM dataset_count"
    " WHERE n <> 0 ORDER BY 1, 2, 3, 4"
)


def _visible_sql(role: str) -> str:
    return {
        "anonymous": "visibility = 'public'",
        "editor_a": f"(visibility = 'public' OR organization_siret = '{ORG_A}')",
        "editor_b": f"(visibility = 'public' OR organization_siret = '{ORG_B}')",
        "admin": "TRUE",
    }[role]


def _facets(body) -> dict[str, list[tuple[str, int]]]:
    return {
        name: [(value["value"], value["count"]) for value in values]
        for name, values in body["facets"].items()
    }


@pytest.fixture
def catalog(client: httpx.Client, world: World) -> list[dict]:
    made = [
        create_dataset(client, world, title="Forêt publique", keywords=["forêt", "arbre"]),
        create_dataset(
            client,
            world,
            title="Brouillon A",
            keywords=["secret", "forêt"],
            geographical_coverage="Atlantide",
            formats=["Parquet"],
            license="Licence secrète",
            visibility="draft",
        ),
        create_dataset(
            client, world, title="Restreint A", keywords=["zonzon"], visibility="restricted"
        ),
        create_dataset(
            client,
            world,
            "editor_b",
            organization_siret=ORG_B,
            title="Public B",
            keywords=["forêt", "eau"],
            geographical_coverage="Bretagne",
            update_frequency="daily",
        ),
        create_dataset(
            client,
            world,
            "editor_b",
            organization_siret=ORG_B,
            title="Brouillon B",
            keywords=["bébé"],
            visibility="draft",
        ),
    ]
    return made


def _check_exact(client: httpx.Client, world: World, db) -> None:
    assert db.execute(STORED) == db.execute(RECOUNT)
    for role in ROLES:
        headers = world.headers(role)
        visible = db.scalar(f"SELECT count(*) FROM dataset WHERE {_visible_sql(role)}")
        listing = client.get("/datasets/", headers=headers)
        assert listing.headers["X-Total-Count"] == str(visible), role
        counted = client.get("/search/datasets", params={"page_size": 0}, headers=headers)
        assert counted.json()["total"] == visible, role
        # The same facets computed row by row: a filter selecting every visibility
        # sends the statement down the general path.
        everything = client.get(
            "/search/datasets",
            params={"page_size": 0, "visibility": ["public", "draft", "restricted"]},
            headers=headers,
        )
        assert _facets(counted.json()) == _facets(everything.json()), role


def test_counts_stay_exact_through_inserts_updates_and_deletes(
    catalog: list[dict], client: httpx.Client, world: World, db
) -> None:
    _check_exact(client, world, db)

    draft = catalog[1]
    response = client.patch(
        f"/datasets/{draft['id']}",
        json={"visibility": "public", "keywords": ["forêt", "publié"]},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    _check_exact(client, world, db)

    # A change of an uncounted column leaves every count as it is.
    response = client.patch(
        f"/datasets/{catalog[0]['id']}",
        json={"description": "Autre description de la forêt."},
        headers={**world.headers("editor_a"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    _check_exact(client, world, db)

    response = client.delete(f"/datasets/{catalog[3]['id']}", headers=world.headers("admin"))
    assert response.status_code == 204, response.text
    _check_exact(client, world, db)


def test_counts_by_organization_and_visibility_filters(
    catalog: list[dict], client: httpx.Client, world: World
) -> None:
    def total(role: str, path: str, **params) -> int:
        response = client.get(path, params=params, headers=world.headers(role))
        assert response.status_code == 200, response.text
        if path == "/datasets/":
            return int(response.headers["X-Total-Count"])
        return int(response.json()["total"])

    for path in ("/datasets/", "/search/datasets"):
        assert total("anonymous", path, organization=ORG_A) == 1
        assert total("editor_a", path, organization=ORG_A) == 3
        assert total("editor_b", path, organization=ORG_A) == 1
        assert total("editor_b", path, visibility="draft") == 1
        assert total("anonymous", path, visibility="draft") == 0
        assert total("admin", path, visibility="draft") == 2


def test_counts_follow_a_bulk_statement_and_a_truncate(
    catalog: list[dict], client: httpx.Client, world: World, db
) -> None:
    # One statement changing several rows (as an import would) is one grouped upsert.
    db.execute("UPDATE dataset SET visibility = 'public', keywords = keywords || ARRAY['lot']")
    assert db.execute(STORED) == db.execute(RECOUNT)
    assert client.get("/datasets/").headers["X-Total-Count"] == "5"
    db.execute("TRUNCATE dataset CASCADE")
    assert db.execute(STORED) == []
    assert client.get("/datasets/").headers["X-Total-Count"] == "0"


def test_autocomplete_titles_by_prefix_then_by_later_word(
    client: httpx.Client, world: World
) -> None:
    create_dataset(client, world, title="Zones humides du littoral")
    create_dataset(client, world, title="Inventaire des zones humides")
    create_dataset(client, world, title="Zonage d'assainissement")
    create_dataset(client, world, title="Zones secrètes", visibility="draft")

    def titles(role: str, q: str) -> list[str]:
        response = client.get("/search/autocomplete", params={"q": q}, headers=world.headers(role))
        assert response.status_code == 200, response.text
        return [s["value"] for s in response.json() if s["kind"] == "title"]

    # Titles starting with the prefix first (folded order), then titles with a later
    # word starting so; never another organization's draft.
    assert titles("anonymous", "zon") == [
        "Zonage d'assainissement",
        "Zones humides du littoral",
        "Inventaire des zones humides",
    ]
    assert "Zones secrètes" in titles("editor_a", "zon")
    assert titles("anonymous", "ZÔN") == titles("anonymous", "zon")
    # LIKE wildcards typed by the user are plain characters ("_" would match the "i"
    # of "Direction des données A").
    response = client.get("/search/autocomplete", params={"q": "d_rection"})
    assert response.json() == []
