"""DCAT-AP 3 output: valid against the official SHACL shapes, paged, negotiated."""

from __future__ import annotations

from functools import cache

import httpx
import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH

from tests.factories import World, create_dataset
from tests.interop.helpers import SHACL_DIR

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU = "http://publications.europa.eu/resource/authority/"


@cache
def shapes() -> Graph:
    graph = Graph()
    for name in ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl"):
        graph.parse(SHACL_DIR / name, format="turtle")
    return graph


def shacl_results(data: Graph) -> tuple[list[str], int]:
    """(violation messages, number of warnings)."""
    _, report, _ = validate(data, shacl_graph=shapes(), inference="none", allow_warnings=True)
    violations, warnings = [], 0
    # Top-level results only: nested `sh:detail` results explain a parent's severity.
    root = next(report.subjects(RDF.type, SH.ValidationReport))
    for result in report.objects(root, SH.result):
        severity = report.value(result, SH.resultSeverity)
        if severity == SH.Violation:
            violations.append(
                f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: "
                f"{report.value(result, SH.resultMessage)}"
            )
        else:
            warnings += 1
    return violations, warnings


def varied_datasets(client: httpx.Client, world: World) -> list[dict]:
    return [
        create_dataset(client, world),
        create_dataset(
            client,
            world,
            title="Points d'accès Wi-Fi",
            update_frequency="realtime",
            license="CC-BY 4.0",
            formats=["API", "GeoJSON", "Papier"],
            url=None,
            first_publication_date=None,
            last_update_date=None,
            service_contact_email=None,
            contact_emails=["a@example.gouv.fr", "b@example.gouv.fr"],
        ),
        create_dataset(
            client,
            world,
            title="Budget primitif",
            update_frequency=None,
            license="Licence maison",
            formats=["PDF"],
        ),
        create_dataset(client, world, "editor_b", organization_siret=world.org_b, license="ODbL"),
    ]


@pytest.mark.parametrize("extension", ["ttl", "jsonld", "rdf"])
def test_catalog_validates_against_dcat_ap_3_shapes(client, world, extension):
    varied_datasets(client, world)
    response = client.get(f"/catalog.{extension}")
    assert response.status_code == 200
    graph = Graph().parse(
        data=response.content,
        format={"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}[extension],
    )
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 4
    violations, _ = shacl_results(graph)
    assert violations == []


def test_shapes_do_catch_a_broken_document(client, world):
    """The validation is not vacuous: removing a mandatory title is a violation."""
    dataset = create_dataset(client, world)
    graph = Graph().parse(data=client.get(f"/datasets/{dataset['id']}.ttl").text, format="turtle")
    node = URIRef(f"{str(client.base_url).rstrip('/')}/datasets/{dataset['id']}")
    assert (node, DCTERMS.title, None) in graph
    graph.remove((node, DCTERMS.title, None))
    graph.add((node, DCTERMS.accrualPeriodicity, URIRef("https://example.org/weekly")))
    violations, _ = shacl_results(graph)
    assert any("title" in v for v in violations)
    assert any("accrualPeriodicity" in v for v in violations)


def test_eu_vocabularies_are_used(client, world):
    created = varied_datasets(client, world)[1]
    graph = Graph().parse(data=client.get(f"/datasets/{created['id']}.ttl").text, format="turtle")
    objects = {str(o) for o in graph.objects()}
    assert EU + "frequency/UPDATE_CONT" in objects
    assert EU + "file-type/GEOJSON" in objects
    assert EU + "language/FRA" in objects
    assert EU + "licence/CC_BY_4_0" in objects
    violations, _ = shacl_results(graph)
    assert violations == []


def test_catalog_is_paged_with_hydra(client, world):
    for number in range(5):
        create_dataset(client, world, title=f"Jeu {number}")
    seen: set[str] = set()
    url: str | None = "/catalog.ttl?page_size=2"
    pages = 0
    while url:
        graph = Graph().parse(data=client.get(url).text, format="turtle")
        seen |= {str(s) for s in graph.subjects(RDF.type, DCAT.Dataset)}
        page = next(graph.subjects(RDF.type, HYDRA.PagedCollection))
        assert int(graph.value(page, HYDRA.totalItems)) == 5
        following = graph.value(page, HYDRA.next)
        url = str(following) if following else None
        pages += 1
    assert pages == 3
    assert len(seen) == 5


def test_private_datasets_are_not_in_the_public_catalog(client, world):
    create_dataset(client, world, title="Brouillon", visibility="draft")
    public = Graph().parse(data=client.get("/catalog.ttl").text, format="turtle")
    assert list(public.subjects(RDF.type, DCAT.Dataset)) == []
    member = Graph().parse(
        data=client.get("/catalog.ttl", headers=world.headers("editor_a")).text, format="turtle"
    )
    assert len(list(member.subjects(RDF.type, DCAT.Dataset))) == 1


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/json, text/turtle;q=0.5", "application/json"),
        ("text/turtle, application/json;q=0.5", "text/turtle"),
        ("*/*", "application/json"),
        (None, "application/json"),
    ],
)
def test_dataset_content_negotiation(client, world, accept, expected):
    dataset = create_dataset(client, world)
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/datasets/{dataset['id']}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(expected)
    assert "Accept" in response.headers["vary"]


def test_dataset_documents_respect_visibility(client, world):
    dataset = create_dataset(client, world, visibility="draft")
    assert client.get(f"/datasets/{dataset['id']}.ttl").status_code == 404
    response = client.get(f"/datasets/{dataset['id']}", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    allowed = client.get(f"/datasets/{dataset['id']}.jsonld", headers=world.headers("editor_a"))
    assert allowed.status_code == 200
    assert client.get("/catalog.nt").status_code == 422
