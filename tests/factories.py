"""Test data: organizations, users of every role with tokens, valid dataset bodies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx

from catalogage.accounts.passwords import hash_password
from catalogage.accounts.tokens import token_hash

if TYPE_CHECKING:
    from tests.conftest import TestDatabase

ORG_A = "11000000000015"
ORG_B = "13000000000021"
PASSWORD = "correct horse battery staple"
ROLES = ("anonymous", "editor_b", "editor_a", "manager_a", "admin")


@cache
def password_hash() -> str:
    """Hashed once per session: argon2 is deliberately slow."""
    return hash_password(PASSWORD)


@dataclass
class World:
    org_a: str = ORG_A
    org_b: str = ORG_B
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def email(self, role: str) -> str:
        return f"{role.replace('_', '.')}@example.gouv.fr"


Statement = tuple[str, dict[str, Any]]


def user_statement(
    user_id: uuid.UUID, email: str, *, name: str = "Camille Test", is_admin: bool = False
) -> Statement:
    sql = (
        'INSERT INTO "user" (id, email, name, password_hash, is_admin) '
        "VALUES (:id, :email, :name, :hash, :admin)"
    )
    return sql, {
        "id": user_id,
        "email": email,
        "name": name,
        "hash": password_hash(),
        "admin": is_admin,
    }


def token_statement(user_id: uuid.UUID, plain: str, *, expires_in_seconds: int) -> Statement:
    sql = (
        "INSERT INTO api_token (id, user_id, name, token_hash, prefix, expires_at) "
        "VALUES (:id, :user_id, 'test', :hash, :prefix, now() + make_interval(secs => :seconds))"
    )
    return sql, {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "hash": token_hash(plain),
        "prefix": plain[:10],
        "seconds": expires_in_seconds,
    }


def organization_statements(siret: str, name: str) -> list[Statement]:
    return [
        ("INSERT INTO organization (siret, name) VALUES (:s, :n)", {"s": siret, "n": name}),
        ("INSERT INTO catalog (organization_siret) VALUES (:s)", {"s": siret}),
    ]


def add_user(
    db: TestDatabase, email: str, *, name: str = "Camille Test", is_admin: bool = False
) -> uuid.UUID:
    user_id = uuid.uuid4()
    db.run([user_statement(user_id, email, name=name, is_admin=is_admin)])
    return user_id


def add_token(db: TestDatabase, user_id: uuid.UUID, *, expires_in_seconds: int = 86400) -> str:
    plain = f"ctg_test_{uuid.uuid4().hex}"
    db.run([token_statement(user_id, plain, expires_in_seconds=expires_in_seconds)])
    return plain


def add_organization(db: TestDatabase, siret: str, name: str) -> None:
    db.run(organization_statements(siret, name))


def build_world(db: TestDatabase) -> World:
    world = World()
    statements = [
        *organization_statements(ORG_A, "Direction des données A"),
        *organization_statements(ORG_B, "Agence B"),
    ]
    memberships = {
        "editor_a": (ORG_A, "editor"),
        "manager_a": (ORG_A, "manager"),
        "editor_b": (ORG_B, "editor"),
    }
    for role in ROLES[1:]:
        user_id = uuid.uuid4()
        world.users[role] = user_id
        world.tokens[role] = f"ctg_test_{uuid.uuid4().hex}"
        statements.append(
            user_statement(user_id, world.email(role), name=role, is_admin=role == "admin")
        )
        statements.append(token_statement(user_id, world.tokens[role], expires_in_seconds=86400))
        if role in memberships:
            siret, member_role = memberships[role]
            statements.append(
                (
                    "INSERT INTO membership (user_id, organization_siret, role) "
                    "VALUES (:u, :s, :r)",
                    {"u": user_id, "s": siret, "r": member_role},
                )
            )
    db.run(statements)
    return world


def dataset_body(organization_siret: str = ORG_A, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization_siret": organization_siret,
        "title": "Arbres vivants inventoriés en forêt",
        "description": "Données brutes de l'inventaire forestier national.",
        "keywords": ["arbre", "forêt", "écologie"],
        "service": "Service de l'inventaire forestier",
        "technical_source": "Inventaire forestier",
        "service_contact_email": "inventaire@example.gouv.fr",
        "contact_emails": ["jean.martin@example.gouv.fr"],
        "first_publication_date": "2005-01-14",
        "last_update_date": "2019-05-28",
        "update_frequency": "yearly",
        "geographical_coverage": "France métropolitaine",
        "url": "https://example.gouv.fr/inventaire",
        "formats": ["CSV", "XLSX"],
        "license": "Licence Ouverte 2.0",
        "visibility": "public",
    }
    body.update(overrides)
    return body


def create_dataset(
    client: httpx.Client, world: World, role: str = "editor_a", **overrides: Any
) -> dict[str, Any]:
    response = client.post(
        "/datasets/", json=dataset_body(**overrides), headers=world.headers(role)
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
