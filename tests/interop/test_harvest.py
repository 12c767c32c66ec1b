"""Harvesting: from a second instance of the service (DCAT with Hydra paging, and its
CKAN API), from DCAT files, idempotently, flagging what disappeared upstream."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from catalogage.config import Settings
from catalogage.db.migrate import upgrade
from catalogage.interop.harvest import HarvestError, harvest
from tests.conftest import RESET_TABLES, SECRET_KEY, TestDatabase, free_port, serve_in_thread
from tests.factories import World, build_world, create_dataset
from tests.interop.helpers import dataset_count, in_session

SOURCE_DATABASE = "catalogage_harvest_source"
CLI = str(Path(sys.executable).parent / "catalogage")


@dataclass
class Remote:
    url: str
    db: TestDatabase
    world: World | None = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture(scope="module")
def remote_instance(cluster, tmp_path_factory) -> Iterator[Remote]:
    """A second catalogage, with its own database in the test cluster, on its own port."""
    if cluster is None:
        pytest.skip("needs the embedded test cluster to create a second database")
    cluster.drop_database(SOURCE_DATABASE)
    cluster.create_database(SOURCE_DATABASE)
    url = cluster.url(SOURCE_DATABASE)
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key=SECRET_KEY,
        var_dir=tmp_path_factory.mktemp("remote-var"),
        _env_file=None,  # type: ignore[call-arg]
    )
    try:
        with serve_in_thread(settings) as base:
            yield Remote(base, TestDatabase(url))
    finally:
        cluster.drop_database(SOURCE_DATABASE)


@pytest.fixture
def remote(remote_instance: Remote) -> Remote:
    remote_instance.db.execute(f"TRUNCATE {', '.join(RESET_TABLES)} RESTART IDENTITY CASCADE")
    remote_instance.world = build_world(remote_instance.db)
    return remote_instance


def seed(remote: Remote) -> dict[str, dict]:
    with remote.client() as http:
        return {
            "forest": create_dataset(http, remote.world, technical_source="IFN"),
            "wifi": create_dataset(
                http,
                remote.world,
                title="Bornes wifi",
                keywords=["numérique"],
                formats=["API", "JSON"],
                update_frequency="realtime",
                license="CC-BY 4.0",
                contact_emails=["a@example.gouv.fr", "b@example.gouv.fr"],
                url=None,
            ),
            "budget": create_dataset(
                http,
                remote.world,
                title="Budget primitif",
                update_frequency=None,
                first_publication_date=None,
                last_update_date=None,
                service_contact_email=None,
                license=None,
            ),
            "draft": create_dataset(http, remote.world, title="Brouillon", visibility="draft"),
        }


def run(database_url: str, siret: str, source: str, **options) -> dict:
    report = in_session(
        database_url, lambda session: harvest(session, None, siret, source, **options)
    )
    return report.model_dump(mode="json")


def local(client: httpx.Client, world: World, siret: str) -> dict[str, dict]:
    datasets = client.get(
        "/datasets/",
        params={"organization": siret, "page_size": 100},
        headers=world.headers("admin"),
    ).json()
    return {dataset["title"]: dataset for dataset in datasets}


#: Compared one to one (keywords too, as sets: RDF does not keep their order).
FIELDS = (
    "description",
    "service",
    "service_contact_email",
    "contact_emails",
    "first_publication_date",
    "last_update_date",
    "update_frequency",
    "geographical_coverage",
    "url",
    "formats",
    "license",
)


def test_harvest_a_second_instance_through_paged_dcat(remote, client, world, db, database_url):
    seeded = seed(remote)
    source = f"{remote.url}/catalog.ttl?page_size=2"
    first = run(database_url, world.org_b, source)
    assert first["summary"]["create"] == 3 and first["summary"]["reject"] == 0, first
    harvested = local(client, world, world.org_b)
    assert set(harvested) == {
        "Arbres vivants inventoriés en forêt",
        "Bornes wifi",
        "Budget primitif",
    }
    for key in ("forest", "wifi", "budget"):
        original = seeded[key]
        copy = harvested[original["title"]]
        assert {f: copy[f] for f in FIELDS} == {f: original[f] for f in FIELDS}, key
        assert set(copy["keywords"]) == set(original["keywords"])
        assert copy["visibility"] == "public"

    again = run(database_url, world.org_b, source)
    assert again["summary"]["unchanged"] == 3, [
        r for r in again["rows"] if r["action"] != "unchanged"
    ]
    assert dataset_count(db, world.org_b) == 3

    with remote.client() as http:
        headers = remote.world.headers("manager_a")
        wifi = seeded["wifi"]
        http.patch(
            f"/datasets/{wifi['id']}",
            json={"description": "Bornes wifi publiques, mises à jour."},
            headers={**headers, "If-Match": f'"{wifi["version"]}"'},
        ).raise_for_status()
        http.delete(f"/datasets/{seeded['budget']['id']}", headers=headers).raise_for_status()
    third = run(database_url, world.org_b, source)
    assert third["summary"]["update"] == 1
    assert third["summary"]["unchanged"] == 1
    assert third["summary"]["removed_upstream"] == 1
    updated = next(r for r in third["rows"] if r["action"] == "update")
    assert updated["changes"] == {
        "description": [seeded["wifi"]["description"], "Bornes wifi publiques, mises à jour."]
    }
    # Flagged, not deleted.
    assert dataset_count(db, world.org_b) == 3
    flagged = db.execute(
        "SELECT d.title FROM harvest_record r JOIN dataset d ON d.id = r.dataset_id "
        "WHERE r.removed_upstream_at IS NOT NULL"
    )
    assert [row[0] for row in flagged] == ["Budget primitif"]


def test_harvest_a_second_instance_through_its_ckan_api(remote, client, world, database_url):
    seeded = seed(remote)
    report = run(database_url, world.org_b, remote.url)
    assert report["file"]["format"] == "ckan"
    assert report["summary"]["create"] == 3, report
    harvested = local(client, world, world.org_b)
    for key in ("forest", "wifi", "budget"):
        original = seeded[key]
        copy = harvested[original["title"]]
        assert {f: copy[f] for f in FIELDS} == {f: original[f] for f in FIELDS}, key
        assert copy["keywords"] == original["keywords"]
    assert harvested["Arbres vivants inventoriés en forêt"]["technical_source"] == "IFN"
    assert run(database_url, world.org_b, remote.url)["summary"]["unchanged"] == 3


FOREIGN_PAGE_1 = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://data.example.org/catalog> a dcat:Catalog ; dcat:dataset <https://data.example.org/ds/1> .
<https://data.example.org/ds/1> a dcat:Dataset ;
    dct:title "Stations de mesure de l'air"@fr, "Air quality stations"@en ;
    dct:description "Liste des stations."@fr ;
    dcat:keyword "air", "pollution" ;
    dct:modified "2024-03-02T10:00:00"^^xsd:dateTime ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/DAILY> ;
    dct:spatial <https://sws.geonames.org/3017382/> ;
    dcat:contactPoint [ a vcard:Kind ; vcard:fn "Observatoire de l'air" ;
                        vcard:hasEmail <mailto:air@example.org> ] ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://data.example.org/air.csv> ;
        dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
        dct:license <https://creativecommons.org/licenses/by/4.0/> ] .
<https://sws.geonames.org/3017382/> skos:prefLabel "France" .
<PAGE1> a hydra:PagedCollection ; hydra:next <page2.ttl> .
"""

FOREIGN_PAGE_2 = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
<https://data.example.org/ds/2> a dcat:Dataset ;
    dct:title "Sans contact" ; dct:description "Aucun moyen de contact." ;
    dcat:keyword "test" ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://data.example.org/x> ;
        dct:title "Format inconnu" ] .
"""


@pytest.fixture
def dcat_files(tmp_path: Path) -> Iterator[str]:
    """The two pages served over loopback HTTP by a plain file server."""
    (tmp_path / "page1.ttl").write_text(FOREIGN_PAGE_1.replace("PAGE1", "page1.ttl"))
    (tmp_path / "page2.ttl").write_text(FOREIGN_PAGE_2)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.extensions_map = {".ttl": "text/turtle"}  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/page1.ttl"
    finally:
        httpd.shutdown()


def test_harvest_foreign_dcat_files(dcat_files, client, world, db, database_url):
    report = run(database_url, world.org_a, dcat_files)
    rows = {row["remote_id"]: row for row in report["rows"]}
    assert rows["https://data.example.org/ds/1"]["action"] == "create"
    rejected = rows["https://data.example.org/ds/2"]
    assert rejected["action"] == "reject"
    assert {p["field"] for p in rejected["errors"]} == {"service", "contact_personne", "format"}
    dataset = local(client, world, world.org_a)["Stations de mesure de l'air"]
    assert dataset["description"] == "Liste des stations."
    assert dataset["geographical_coverage"] == "France"
    assert dataset["last_update_date"] == "2024-03-02"
    assert dataset["update_frequency"] == "daily"
    assert dataset["formats"] == ["CSV"]
    assert dataset["contact_emails"] == ["air@example.org"]
    assert dataset["service"] == "Observatoire de l'air"
    assert dataset["license"] == "CC-BY 4.0"
    assert dataset_count(db, world.org_a) == 1


def test_harvest_matches_existing_local_datasets_by_title(remote, client, world, db, database_url):
    seed(remote)
    create_dataset(client, world, "editor_b", organization_siret=world.org_b, title="Bornes wifi")
    report = run(database_url, world.org_b, f"{remote.url}/catalog.jsonld")
    assert report["summary"]["create"] == 2
    assert report["summary"]["update"] == 1
    assert dataset_count(db, world.org_b) == 3


def test_unusable_sources_are_clear_errors(client, world, database_url, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/catalog.ttl"
    with pytest.raises(HarvestError):
        run(database_url, world.org_a, closed)
    broken = tmp_path / "broken.ttl"
    broken.write_text("this is not turtle <")
    with pytest.raises(HarvestError, match="not valid RDF"):
        run(database_url, world.org_a, str(broken))
    remote_context = tmp_path / "context.jsonld"
    remote_context.write_text('{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "x"}')
    with pytest.raises(HarvestError, match="remote JSON-LD contexts"):
        run(database_url, world.org_a, str(remote_context))


# -- the command line -------------------------------------------------------------


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    os.chdir(tmp_path)
    return {**base, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "COLUMNS": "200"}


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_harvest(env, dcat_files, world, db, tmp_path):
    result = cli("harvest", dcat_files, "--org", world.org_a, env=env)
    assert result.returncode == 1, result.stderr
    assert "1 record(s) rejected" in result.stderr
    assert "contact_personne" in result.stderr
    assert dataset_count(db, world.org_a) == 1
    report = tmp_path / "report.json"
    again = cli("harvest", dcat_files, "--org", world.org_a, "--report", str(report), env=env)
    assert '"unchanged": 1' in report.read_text()
    assert again.returncode == 1
    missing = cli("harvest", "/no/such/file.ttl", "--org", world.org_a, env=env)
    assert missing.returncode == 1
    assert "neither an http(s) URL nor a readable file" in missing.stderr


def test_cli_import(env, world, db, tmp_path):
    from tests.interop.test_import import csv_bytes, row

    path = tmp_path / "catalogue.csv"
    path.write_bytes(csv_bytes([row(world), row(world, titre="Deuxième")]))
    dry = cli("import", str(path), "--org", world.org_a, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run" in dry.stderr
    assert dataset_count(db) == 0
    applied = cli("import", str(path), "--org", world.org_a, "--apply", env=env)
    assert applied.returncode == 0, applied.stderr
    assert dataset_count(db) == 2
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(world, titre="Trois", contact_personne="x")]))
    rejected = cli("import", str(bad), "--org", world.org_a, "--apply", env=env)
    assert rejected.returncode == 1
    assert "contact_personne" in rejected.stderr
    assert dataset_count(db) == 2
