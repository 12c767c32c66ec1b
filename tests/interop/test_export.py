"""CSV and XLSX exports: schema-conforming (frictionless), visibility-aware, formula-safe."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
from frictionless import Resource, Schema

from tests.factories import create_dataset
from tests.interop.helpers import SCHEMA_DIR

SCHEMA_COLUMNS = [f["name"] for f in json.loads((SCHEMA_DIR / "schema.json").read_text())["fields"]]


def schema_descriptor(extra: list[str] = ()) -> dict:
    """The official schema, plus one string column per extra field; its `custom_checks`
    (a SIRET checksum plugin frictionless does not ship) is left out."""
    descriptor = json.loads((SCHEMA_DIR / "schema.json").read_text())
    descriptor.pop("custom_checks")
    descriptor["fields"] += [{"name": name, "type": "string"} for name in extra]
    return descriptor


def frictionless_errors(content: bytes, extra: list[str] = ()) -> list[str]:
    resource = Resource(
        data=content,
        format="csv",
        encoding="utf-8",
        schema=Schema.from_descriptor(schema_descriptor(extra)),
    )
    report = resource.validate()
    return [error.message for task in report.tasks for error in task.errors] + [
        error.message for error in report.errors
    ]


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_site_export_validates_against_the_schema(client, world):
    create_dataset(client, world)
    create_dataset(
        client,
        world,
        title="Bornes wifi",
        update_frequency=None,
        first_publication_date=None,
        last_update_date=None,
        url=None,
        technical_source=None,
        service_contact_email=None,
        license=None,
    )
    create_dataset(client, world, "editor_b", organization_siret=world.org_b, title="Budget")
    response = client.get("/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert frictionless_errors(response.content) == []
    exported = rows(response.content)
    assert list(exported[0]) == SCHEMA_COLUMNS
    assert len(exported) == 3
    forest = next(r for r in exported if r["titre"] == "Arbres vivants inventoriés en forêt")
    assert forest["nom_orga"] == "Direction des données A"
    assert forest["siret_orga"] == world.org_a
    assert forest["mots_cles"] == "arbre,forêt,écologie"
    assert forest["format"] == "CSV,XLSX"
    assert forest["date_pub"] == "2005-01-14"
    assert forest["freq_maj"] == "Annuelle ou plusieurs fois par an"


def test_validation_is_not_vacuous():
    broken = (
        ",".join(SCHEMA_COLUMNS) + "\n" + ",".join(["x"] * 10 + ["pas une date"] + [""] * 6)
    ).encode()
    assert frictionless_errors(broken)


def test_catalog_export_adds_extra_field_columns(client, world):
    client.put(
        f"/catalogs/{world.org_a}/extra-fields",
        json={
            "extra_fields": [
                {"name": "theme", "label": "Thème", "type": "enum", "choices": ["Eau", "Air"]},
                {"name": "ouvert", "label": "Ouvert", "type": "boolean"},
            ]
        },
        headers=world.headers("manager_a"),
    ).raise_for_status()
    create_dataset(client, world, extra_fields={"theme": "Eau", "ouvert": True})
    response = client.get(f"/catalogs/{world.org_a}/export.csv")
    assert response.status_code == 200
    exported = rows(response.content)
    assert list(exported[0]) == [*SCHEMA_COLUMNS, "theme", "ouvert"]
    assert exported[0]["theme"] == "Eau"
    assert exported[0]["ouvert"] == "true"
    assert frictionless_errors(response.content, ["theme", "ouvert"]) == []
    assert client.get("/catalogs/00000000000000/export.csv").status_code == 404


def test_exports_show_only_what_the_caller_may_see(client, world):
    create_dataset(client, world, title="Public")
    create_dataset(client, world, title="Brouillon", visibility="draft")
    create_dataset(client, world, title="Restreint", visibility="restricted")
    anonymous = {r["titre"] for r in rows(client.get("/export.csv").content)}
    assert anonymous == {"Public"}
    member = client.get("/export.csv", headers=world.headers("editor_a")).content
    assert {r["titre"] for r in rows(member)} == {"Public", "Brouillon", "Restreint"}
    other = client.get(f"/catalogs/{world.org_a}/export.csv", headers=world.headers("editor_b"))
    assert {r["titre"] for r in rows(other.content)} == {"Public"}


def test_formulas_are_neutralised_in_csv_and_xlsx(client, world):
    create_dataset(
        client,
        world,
        title='=HYPERLINK("http://evil.example","clic")',
        description="+33 1 23 45 67 89",
        service="@SUM(A1:A2)",
        technical_source="-2+3",
    )
    exported = rows(client.get("/export.csv").content)[0]
    assert exported["titre"] == '\'=HYPERLINK("http://evil.example","clic")'
    assert exported["description"] == "'+33 1 23 45 67 89"
    assert exported["service"] == "'@SUM(A1:A2)"
    assert exported["si"] == "'-2+3"
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/export.xlsx").content))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    values = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert values["titre"].startswith("'=")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_has_the_csv_columns_and_values(client, world):
    create_dataset(client, world)
    create_dataset(client, world, title="Deuxième", description="Ligne 1\nLigne 2")
    csv_rows = rows(client.get(f"/catalogs/{world.org_a}/export.csv").content)
    response = client.get(f"/catalogs/{world.org_a}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    table = [[cell.value or "" for cell in row] for row in sheet.iter_rows()]
    assert table[0] == list(csv_rows[0])
    assert [dict(zip(table[0], row, strict=True)) for row in table[1:]] == csv_rows
