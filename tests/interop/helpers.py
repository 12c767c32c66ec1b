"""Shared helpers for the interoperability tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.factories import World

REFERENCE = Path("/work/shared/reference")
SCHEMA_DIR = REFERENCE / "schema-catalogue-donnees"
SHACL_DIR = REFERENCE / "dcat-ap-3.0.1-shacl"
#: The example file's organization (IGN).
IGN_SIRET = "18006701900430"
IGN_NAME = "Institut national de l'information géographique et forestière"


def upload(
    client: httpx.Client,
    world: World,
    siret: str,
    content: bytes,
    *,
    role: str = "editor_a",
    dry_run: bool = True,
    filename: str = "catalogue.csv",
    **params: str,
) -> httpx.Response:
    return client.post(
        f"/catalogs/{siret}/import",
        params={"dry_run": str(dry_run).lower(), **params},
        files={"file": (filename, content)},
        headers=world.headers(role),
    )


def dataset_count(db: Any, siret: str | None = None) -> int:
    if siret is None:
        return int(db.scalar("SELECT count(*) FROM dataset"))
    return int(db.scalar("SELECT count(*) FROM dataset WHERE organization_siret = :s", s=siret))
