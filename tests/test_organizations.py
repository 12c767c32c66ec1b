"""Organizations (SIRET rules) and catalogs (extra field definitions)."""

from __future__ import annotations

import httpx
import pytest

from catalogage.organizations.siret import is_valid_siret, siret_error
from tests.factories import World, create_dataset


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("18006701900430", True),  # IGN, from the schema's example
        ("11000000000015", True),
        ("11000000000016", False),  # Luhn fails
        ("35600000000048", True),  # La Poste head office: ordinary Luhn
        ("35600000049837", True),  # La Poste establishment: digit sum multiple of 5
        ("35600000049838", False),
        ("1800670190043", False),  # 13 digits
        ("1800670190043A", False),
        ("１８００６７０１９００４３０", False),  # full-width digits
    ],
)
def test_siret_rules(siret: str, valid: bool) -> None:
    assert is_valid_siret(siret) is valid
    assert (siret_error(siret) is None) is valid


def test_admin_creates_organization_with_its_catalog(client: httpx.Client, world: World) -> None:
    body = {"siret": "21000000000039", "name": "Commune de Test", "alternative_id": "W343008792"}
    created = client.post("/organizations/", json=body, headers=world.headers("admin"))
    assert created.status_code == 201
    assert created.json()["dataset_count"] == 0
    catalog = client.get("/catalogs/21000000000039").json()
    assert catalog == {
        "organization": {
            "siret": "21000000000039",
            "name": "Commune de Test",
            "alternative_id": "W343008792",
        },
        "extra_fields": [],
    }
    again = client.post("/organizations/", json=body, headers=world.headers("admin"))
    assert again.status_code == 409


def test_invalid_siret_is_named(client: httpx.Client, world: World) -> None:
    response = client.post(
        "/organizations/",
        json={"siret": "21000000000038", "name": "X"},
        headers=world.headers("admin"),
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "siret"
    assert "Luhn" in response.json()["fields"][0]["message"]


def _set_fields(client, world, fields, force=False, role="manager_a"):
    return client.put(
        f"/catalogs/{world.org_a}/extra-fields",
        params={"force": str(force).lower()},
        json={"extra_fields": fields},
        headers=world.headers(role),
    )


SENSITIVITY = {
    "name": "sensibilite",
    "label": "Sensibilité",
    "type": "enum",
    "choices": ["Public", "Interne", "Secret"],
}
PERSONAL = {"name": "donnees_personnelles", "label": "Données personnelles", "type": "boolean"}


def test_extra_fields_validate_dataset_values(client: httpx.Client, world: World) -> None:
    required_date = {"name": "revue", "label": "Revue", "type": "date", "required": True}
    assert _set_fields(client, world, [SENSITIVITY, PERSONAL, required_date]).status_code == 200
    bad = client.post(
        "/datasets/",
        json={
            **_body(world),
            "extra_fields": {"sensibilite": "Confidentiel", "donnees_personnelles": "oui"},
        },
        headers=world.headers("editor_a"),
    )
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["fields"]} == {
        "extra_fields.sensibilite",
        "extra_fields.donnees_personnelles",
        "extra_fields.revue",
    }
    good = create_dataset(
        client,
        world,
        extra_fields={
            "sensibilite": "Interne",
            "donnees_personnelles": False,
            "revue": "2024-02-01",
        },
    )
    assert good["extra_fields"] == {
        "sensibilite": "Interne",
        "donnees_personnelles": False,
        "revue": "2024-02-01",
    }


def _body(world: World) -> dict:
    from tests.factories import dataset_body

    return dataset_body(world.org_a)


def test_invalid_definitions_are_rejected(client: httpx.Client, world: World) -> None:
    cases = [
        ([{"name": "titre", "label": "T", "type": "text"}], "extra_fields.name"),
        ([{"name": "x", "label": "X", "type": "enum"}], "extra_fields.choices"),
        ([{"name": "x", "label": "X", "type": "text", "choices": ["a"]}], "extra_fields.choices"),
        ([{"name": "Bad Name", "label": "X", "type": "text"}], "extra_fields.name"),
        ([{"name": "x", "label": "X", "type": "colour"}], "extra_fields.type"),
        ([PERSONAL, PERSONAL], "extra_fields"),
    ]
    for fields, expected in cases:
        response = _set_fields(client, world, fields)
        assert response.status_code == 422, fields
        assert expected in {f["field"] for f in response.json()["fields"]}, response.json()


def test_narrowing_needs_force_and_is_recorded(client: httpx.Client, world: World) -> None:
    _set_fields(client, world, [SENSITIVITY, PERSONAL])
    with_values = create_dataset(
        client, world, extra_fields={"sensibilite": "Secret", "donnees_personnelles": True}
    )
    create_dataset(client, world, title="Autre", extra_fields={"sensibilite": "Public"})
    # Adding a field is free; removing a used choice or a used field is not.
    narrowed = {**SENSITIVITY, "choices": ["Public", "Interne"]}
    extra = {"name": "note", "label": "Note", "type": "text"}
    refused = _set_fields(client, world, [narrowed, extra])
    assert refused.status_code == 409
    assert {f["field"] for f in refused.json()["fields"]} == {
        "extra_fields.sensibilite",
        "extra_fields.donnees_personnelles",
    }
    assert len(client.get(f"/catalogs/{world.org_a}").json()["extra_fields"]) == 2

    forced = _set_fields(client, world, [narrowed, extra], force=True)
    assert forced.status_code == 200
    assert [f["name"] for f in forced.json()["extra_fields"]] == ["sensibilite", "note"]
    dataset = client.get(f"/datasets/{with_values['id']}").json()
    assert dataset["extra_fields"] == {}
    assert dataset["version"] == 3  # one update per stripped field
    history = client.get(f"/catalogs/{world.org_a}/history", headers=world.headers("editor_a"))
    last = history.json()[-1]
    assert last["changes"]["forced"] == [None, {"sensibilite": 1, "donnees_personnelles": 1}]
    assert last["actor"]["name"] == "manager_a"
    dataset_history = client.get(f"/datasets/{with_values['id']}/history").json()
    assert [entry["changes"] for entry in dataset_history[1:]] == [
        {"extra_fields.sensibilite": ["Secret", None]},
        {"extra_fields.donnees_personnelles": [True, None]},
    ]


def test_making_a_field_required_needs_force_when_values_are_missing(
    client: httpx.Client, world: World
) -> None:
    _set_fields(client, world, [PERSONAL])
    create_dataset(client, world)
    refused = _set_fields(client, world, [{**PERSONAL, "required": True}])
    assert refused.status_code == 409
    assert "1 dataset(s) have no value" in refused.json()["fields"][0]["message"]
    assert (
        _set_fields(client, world, [{**PERSONAL, "required": True}], force=True).status_code == 200
    )
