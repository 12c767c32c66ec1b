"""Importing catalog files: the official example, encodings, dry-run reports, all-or-nothing
apply, idempotence, matching, round trips, and rejection of hostile files."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import zipfile

import openpyxl
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from catalogage.interop import reader
from tests.factories import create_dataset
from tests.interop.helpers import (
    SCHEMA_DIR,
    add_example_organization,
    dataset_count,
    upload,
)

EXAMPLE = (SCHEMA_DIR / "exemple-valide.csv").read_bytes()
HEADER = EXAMPLE.decode("utf-8").splitlines()[0].split(",")


def csv_bytes(
    rows: list[dict[str, str]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(world, **overrides: str) -> dict[str, str]:
    values = {
        "titre": "Qualité de l'eau potable",
        "description": "Résultats du contrôle sanitaire des eaux.",
        "mots_cles": "eau,santé",
        "nom_orga": "Direction des données A",
        "siret_orga": world.org_a,
        "id_alt_orga": "",
        "service": "Service santé-environnement",
        "si": "SISE-Eaux",
        "contact_service": "eau@example.gouv.fr",
        "contact_personne": "marie.curie@example.gouv.fr",
        "date_pub": "2015-03-01",
        "date_maj": "2024-01-31",
        "freq_maj": "Mensuelle",
        "couv_geo": "Région Île-de-France",
        "url": "https://example.gouv.fr/eau",
        "format": "CSV",
        "licence": "Licence Ouverte 2.0",
    }
    values.update(overrides)
    return values


@pytest.fixture
def ign(db, world):
    return add_example_organization(db, world)


def test_official_example_imports(client, world, db, ign):
    dry = upload(client, world, ign, EXAMPLE)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["errors"] == []
    assert report["summary"]["create"] == 1
    assert report["rows"][0]["row"] == 2
    assert dataset_count(db) == 0
    applied = upload(client, world, ign, EXAMPLE, dry_run=False, visibility="public")
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True
    dataset_id = applied.json()["rows"][0]["dataset_id"]
    dataset = client.get(f"/datasets/{dataset_id}").json()
    assert dataset["title"] == "Arbres vivants inventoriés en forêt."
    assert dataset["keywords"] == ["arbre", "forêt", "écologie"]
    assert dataset["formats"] == ["CSV", "XLSX"]
    assert dataset["update_frequency"] == "yearly"
    assert dataset["first_publication_date"] == "2005-01-14"
    assert dataset["license"] == "Licence ouverte"
    assert dataset["visibility"] == "public"
    history = client.get(f"/datasets/{dataset_id}/history").json()
    assert [entry["action"] for entry in history] == ["create"]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("windows-1252", ";"), ("latin-1", ",")],
)
def test_encodings_and_delimiters_are_detected(client, world, encoding, delimiter):
    content = csv_bytes([row(world)], delimiter=delimiter, encoding=encoding)
    response = upload(client, world, world.org_a, content)
    assert response.status_code == 200
    report = response.json()
    assert report["file"]["delimiter"] == delimiter
    assert report["summary"] == {**report["summary"], "create": 1, "reject": 0}, report
    created = upload(client, world, world.org_a, content, dry_run=False).json()["rows"][0]
    dataset = client.get(f"/datasets/{created['dataset_id']}", headers=world.headers("editor_a"))
    assert dataset.json()["title"] == "Qualité de l'eau potable"
    assert dataset.json()["geographical_coverage"] == "Région Île-de-France"


def test_xlsx_imports(client, world):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    values = row(world)
    sheet.append(list(values))
    sheet.append(list(values.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(
        client, world, world.org_a, buffer.getvalue(), filename="c.xlsx", dry_run=False
    )
    assert response.status_code == 200, response.text
    assert response.json()["file"]["format"] == "xlsx"
    assert response.json()["summary"]["create"] == 1


def test_dry_run_reports_each_row_and_field(client, world, db):
    create_dataset(client, world, title="Qualité de l'eau potable", update_frequency="monthly")
    content = csv_bytes(
        [
            row(world, date_maj="2025-06-30"),
            row(world, titre="Nouveau jeu", contact_personne="pas-un-email", format="CSV,DOCX"),
            row(world, titre="Autre", freq_maj="De temps en temps", date_pub="hier"),
            row(world, titre="Troisième"),
            row(world, titre="Autre organisation", siret_orga=world.org_b),
        ]
    )
    before = dataset_count(db)
    report = upload(client, world, world.org_a, content).json()
    assert dataset_count(db) == before
    actions = [(r["row"], r["action"]) for r in report["rows"]]
    assert actions == [(2, "update"), (3, "reject"), (4, "reject"), (5, "create"), (6, "reject")]
    update = report["rows"][0]
    assert "date_maj" in update["changes"]
    assert update["changes"]["date_maj"][1] == "2025-06-30"
    fields = {p["field"] for p in report["rows"][1]["errors"]}
    assert fields == {"contact_personne", "format"}
    fields = {p["field"] for p in report["rows"][2]["errors"]}
    assert fields == {"freq_maj", "date_pub"}
    assert report["rows"][4]["errors"][0]["field"] == "siret_orga"
    assert report["summary"] == {
        "create": 1,
        "update": 1,
        "unchanged": 0,
        "reject": 3,
        "removed_upstream": 0,
    }
    # Nothing of the dry run stays, not even the new keywords.
    assert db.scalar("SELECT count(*) FROM tag WHERE key = 'sante'") == 0


def test_apply_is_all_or_nothing(client, world, db):
    content = csv_bytes([row(world), row(world, titre="Mauvais", contact_personne="x")])
    response = upload(client, world, world.org_a, content, dry_run=False)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(f["field"] == "row 3.contact_personne" for f in body["fields"])
    assert body["report"]["summary"]["reject"] == 1
    assert dataset_count(db) == 0
    assert db.scalar("SELECT count(*) FROM history_entry") == 0


def test_reimport_changes_nothing_and_corrections_update(client, world, db):
    content = csv_bytes([row(world), row(world, titre="Deuxième jeu")])
    first = upload(client, world, world.org_a, content, dry_run=False).json()
    assert first["summary"]["create"] == 2
    versions = db.execute("SELECT id, version, updated_at FROM dataset ORDER BY id")
    again = upload(client, world, world.org_a, content, dry_run=False).json()
    assert again["summary"]["unchanged"] == 2
    assert db.execute("SELECT id, version, updated_at FROM dataset ORDER BY id") == versions
    corrected = csv_bytes(
        [row(world, description="Description corrigée."), row(world, titre="Deuxième jeu")]
    )
    third = upload(client, world, world.org_a, corrected, dry_run=False).json()
    assert third["summary"]["update"] == 1 and third["summary"]["unchanged"] == 1
    assert dataset_count(db) == 2
    changed = third["rows"][0]
    assert changed["changes"] == {
        "description": ["Résultats du contrôle sanitaire des eaux.", "Description corrigée."]
    }
    assert db.scalar("SELECT version FROM dataset WHERE id = :i", i=changed["dataset_id"]) == 2
    history = client.get(
        f"/datasets/{changed['dataset_id']}/history", headers=world.headers("editor_a")
    ).json()
    assert history[-1]["changes"] == {
        "description": ["Résultats du contrôle sanitaire des eaux.", "Description corrigée."]
    }


def test_id_column_matches_even_when_the_title_changes(client, world, db):
    dataset = create_dataset(client, world, title="Ancien titre")
    content = csv_bytes([{"id": dataset["id"], **row(world, titre="Nouveau titre")}])
    report = upload(client, world, world.org_a, content, dry_run=False).json()
    assert report["rows"][0]["action"] == "update"
    assert report["rows"][0]["changes"]["titre"] == ["Ancien titre", "Nouveau titre"]
    assert dataset_count(db) == 1
    other = create_dataset(client, world, "editor_b", organization_siret=world.org_b)
    foreign = csv_bytes([{"id": other["id"], **row(world)}])
    rejected = upload(client, world, world.org_a, foreign).json()
    assert rejected["rows"][0]["errors"][0]["field"] == "id"


def test_file_level_problems_are_reported(client, world, db):
    unknown = csv_bytes([{**row(world), "commentaire": "?"}])
    report = upload(client, world, world.org_a, unknown).json()
    assert report["errors"] == [
        {
            "field": "commentaire",
            "message": "unknown column: neither a column of the schema nor an extra field "
            "of this catalog",
        }
    ]
    assert upload(client, world, world.org_a, unknown, dry_run=False).status_code == 422
    missing = csv_bytes([{k: v for k, v in row(world).items() if k != "format"}])
    assert upload(client, world, world.org_a, missing).json()["errors"][0]["field"] == "format"
    assert dataset_count(db) == 0


def test_extra_field_columns_are_validated_with_the_catalog_rules(client, world):
    client.put(
        f"/catalogs/{world.org_a}/extra-fields",
        json={
            "extra_fields": [
                {"name": "theme", "label": "Thème", "type": "enum", "choices": ["Eau"]},
                {"name": "ouvert", "label": "Ouvert", "type": "boolean"},
            ]
        },
        headers=world.headers("manager_a"),
    ).raise_for_status()
    content = csv_bytes(
        [
            {**row(world), "theme": "Eau", "ouvert": "oui"},
            {**row(world, titre="B"), "theme": "Feu", "ouvert": "peut-être"},
        ]
    )
    report = upload(client, world, world.org_a, content).json()
    assert report["rows"][0]["action"] == "create"
    assert {p["field"] for p in report["rows"][1]["errors"]} == {"theme", "ouvert"}


def test_permissions(client, world):
    content = csv_bytes([row(world)])
    assert upload(client, world, world.org_a, content, role="anonymous").status_code == 401
    assert upload(client, world, world.org_a, content, role="editor_b").status_code == 403
    assert upload(client, world, world.org_a, content, role="admin").status_code == 200


def _round_trip(client, world, db, extension: str) -> None:
    client.put(
        f"/catalogs/{world.org_a}/extra-fields",
        json={
            "extra_fields": [
                {"name": "theme", "label": "Thème", "type": "enum", "choices": ["Eau", "Air"]},
                {"name": "revue", "label": "Revue", "type": "date"},
                {"name": "ouvert", "label": "Ouvert", "type": "boolean"},
            ]
        },
        headers=world.headers("manager_a"),
    ).raise_for_status()
    create_dataset(client, world, extra_fields={"theme": "Eau", "ouvert": False})
    create_dataset(
        client,
        world,
        title="=Formule piégée",
        description="Texte sur\nplusieurs lignes, avec « guillemets » et ; point-virgule",
        keywords=["Forêt", "eau"],
        contact_emails=["a@example.gouv.fr", "b@example.gouv.fr"],
        update_frequency=None,
        license=None,
        url=None,
        technical_source=None,
        service_contact_email=None,
        first_publication_date=None,
        last_update_date=None,
        extra_fields={"revue": "2024-02-29"},
    )
    create_dataset(client, world, title="Brouillon", visibility="draft")
    url = f"/catalogs/{world.org_a}/export.{extension}"
    before = client.get(url, headers=world.headers("editor_a")).content
    db.execute("DELETE FROM history_entry")
    db.execute("DELETE FROM dataset")
    response = upload(
        client, world, world.org_a, before, dry_run=False, filename=f"export.{extension}"
    )
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["create"] == 3
    after = client.get(url, headers=world.headers("editor_a")).content
    if extension == "csv":
        assert after == before
    else:

        def table(content: bytes) -> list[list[object]]:
            sheet = openpyxl.load_workbook(io.BytesIO(content)).active
            return [[cell.value for cell in r] for r in sheet.iter_rows()]

        assert table(after) == table(before)


def test_round_trip_csv(client, world, db):
    _round_trip(client, world, db, "csv")


def test_round_trip_xlsx(client, world, db):
    _round_trip(client, world, db, "xlsx")


# -- hostile files ------------------------------------------------------------------


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    return buffer.getvalue()


def xml_entity_bomb() -> bytes:
    workbook = openpyxl.Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = bomb.encode()
            archive.writestr(item, data)
    return out.getvalue()


def hostile_files(world) -> dict[str, tuple[bytes, str]]:
    good = csv_bytes([row(world)])
    return {
        "huge": (good + b"x" * (reader.MAX_FILE_BYTES + 1), "c.csv"),
        "zip bomb": (zip_bomb(), "c.xlsx"),
        "xml entity bomb": (xml_entity_bomb(), "c.xlsx"),
        "binary garbage": (bytes(range(256)) * 50, "c.csv"),
        "utf-16": ("titre,description\n".encode("utf-16"), "c.csv"),
        "too many rows": (
            good + b"\n".join([good.splitlines()[1]] * reader.MAX_ROWS),
            "c.csv",
        ),
        "too many columns": (",".join(f"c{i}" for i in range(500)).encode(), "c.csv"),
        "damaged xlsx": (b"PK\x03\x04" + b"\x00" * 100, "c.xlsx"),
        "not a zip": (b"hello", "c.xlsx"),
        "legacy xls": (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "c.xls"),
        "empty": (b"   \n", "c.csv"),
        "cell too long": (
            csv_bytes([row(world, description="x" * (reader.MAX_CELL_CHARS + 1))]),
            "c.csv",
        ),
    }


def test_hostile_files_are_rejected_cleanly(client, world, db):
    create_dataset(client, world)
    counts = (dataset_count(db), db.scalar("SELECT count(*) FROM history_entry"))
    for name, (content, filename) in hostile_files(world).items():
        for dry_run in (True, False):
            response = upload(
                client, world, world.org_a, content, dry_run=dry_run, filename=filename
            )
            assert response.status_code in (200, 413, 422), (name, response.text)
            body = response.json()
            if response.status_code == 200:
                assert dry_run and body["errors"], name
                message = body["errors"][0]["message"]
            else:
                assert not dry_run or response.status_code == 413, name
                message = body["message"]
            assert message and "Traceback" not in message, name
        assert (dataset_count(db), db.scalar("SELECT count(*) FROM history_entry")) == counts


def test_upload_without_a_file_part(client, world):
    response = client.post(
        f"/catalogs/{world.org_a}/import",
        files={"other": ("c.csv", b"titre\n")},
        headers=world.headers("editor_a"),
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "file"
    response = client.post(
        f"/catalogs/{world.org_a}/import",
        content=b"titre\n",
        headers={**world.headers("editor_a"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 415


# -- concurrency --------------------------------------------------------------------


def test_concurrent_import_is_refused_while_one_runs(client, world, db, database_url):
    """A second import into a catalog whose lock is held answers 409 and writes nothing."""
    from catalogage.interop.changes import CATALOG_WRITE_LOCK

    holding = threading.Event()
    release = threading.Event()

    async def hold_lock() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:n, hashtext(:s))"),
                    {"n": CATALOG_WRITE_LOCK, "s": world.org_a},
                )
                holding.set()
                await asyncio.to_thread(release.wait, 30)
        finally:
            await engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(hold_lock()))
    thread.start()
    try:
        assert holding.wait(10)
        response = upload(client, world, world.org_a, csv_bytes([row(world)]), dry_run=False)
        assert response.status_code == 409
        assert "import" in response.json()["message"]
        other_catalog = csv_bytes([row(world, nom_orga="Agence B", siret_orga=world.org_b)])
        assert (
            upload(client, world, world.org_b, other_catalog, role="admin", dry_run=False)
        ).status_code == 200
    finally:
        release.set()
        thread.join()
    assert dataset_count(db, world.org_a) == 0
    ok = upload(client, world, world.org_a, csv_bytes([row(world)]), dry_run=False)
    assert ok.status_code == 200


def test_simultaneous_imports_never_interleave(client, world, db, server):
    import httpx

    content = csv_bytes([row(world, titre=f"Jeu {n}") for n in range(300)])
    results: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=server, timeout=60) as http:
            results.append(upload(http, world, world.org_a, content, dry_run=False).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {200, 409} and 200 in results
    # Whatever the interleaving of requests, each title exists once.
    assert dataset_count(db) == 300


def test_imports_keep_search_and_counts_exact(client, world, db):
    """Bulk writes go through COPY and one UPDATE: the row trigger still indexes every
    dataset for search and the statement triggers keep `dataset_count` exact."""
    from tests.test_search_counts import RECOUNT, STORED

    def found(q: str) -> list[str]:
        response = client.get("/search/datasets", params={"q": q, "facets": "false"})
        assert response.status_code == 200, response.text
        body = response.json()
        return [] if body["corrected"] else sorted(hit["title"] for hit in body["items"])

    content = csv_bytes([row(world), row(world, titre="Forêts domaniales", mots_cles="forêt,bois")])
    report = upload(client, world, world.org_a, content, dry_run=False, visibility="public")
    assert report.json()["summary"]["create"] == 2
    assert found("foret") == ["Forêts domaniales"]
    assert db.execute(STORED) == db.execute(RECOUNT)
    corrected = csv_bytes(
        [
            row(world, description="Analyses des nappes phréatiques."),
            row(world, titre="Forêts domaniales", description="Inventaire forestier."),
        ]
    )
    report = upload(client, world, world.org_a, corrected, dry_run=False)
    assert report.json()["summary"]["update"] == 2
    assert found("nappes") == ["Qualité de l'eau potable"]
    assert found("controle") == []
    assert db.execute(STORED) == db.execute(RECOUNT)
    versions = db.execute("SELECT version, updated_at > created_at FROM dataset")
    assert versions == [(2, True), (2, True)]
    entries = db.execute("SELECT action, count(*) FROM history_entry GROUP BY 1 ORDER BY 1")
    assert entries == [("create", 2), ("update", 2)]


@pytest.mark.parametrize(
    "address",
    [
        "marie.curie@example.gouv.fr",
        "  Marie.Curie@EXAMPLE.gouv.fr ",
        "pierre@forêt.fr",
        "not-an-address",
        "a@b",
        "two@@example.fr",
        "Marie <marie@example.fr>",
        "x" * 70 + "@example.fr",
    ],
)
def test_cached_email_check_matches_dataset_fields(address):
    """Imports check each distinct address once; results and errors must be the API's."""
    from pydantic import ValidationError

    from catalogage.datasets.schemas import DatasetFields
    from catalogage.interop.changes import _RowFields

    values = dict(
        title="T",
        description="D",
        keywords=["k"],
        service="S",
        geographical_coverage="France",
        formats=["CSV"],
        contact_emails=[address],
        service_contact_email=address,
    )
    outcomes = []
    for model in (DatasetFields, _RowFields, _RowFields):  # the second _RowFields hits the cache
        try:
            data = model.model_validate(values)
            outcomes.append((data.contact_emails, data.service_contact_email))
        except ValidationError as exc:
            outcomes.append([(e["loc"], e["msg"], e["type"]) for e in exc.errors()])
    assert outcomes[0] == outcomes[1] == outcomes[2]
