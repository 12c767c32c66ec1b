"""Loads `data.json`: a small realistic French catalog for demos and manual testing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.catalogs.schemas import ExtraFieldDefinition
from catalogage.catalogs.service import get_catalog, replace_extra_fields
from catalogage.datasets.models import Dataset
from catalogage.datasets.schemas import DatasetCreate
from catalogage.datasets.service import create_dataset
from catalogage.organizations.models import Organization
from catalogage.organizations.schemas import OrganizationCreate
from catalogage.organizations.service import create_organization

DATA_FILE = Path(__file__).with_name("data.json")


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


async def load_demo(session: AsyncSession) -> int:
    """Create what is missing (matched by SIRET, and by title within an organization);
    return the number of datasets created."""
    data = demo_data()
    for organization in data["organizations"]:
        if await session.get(Organization, organization["siret"]) is None:
            await create_organization(session, OrganizationCreate(**organization))
    for siret, fields in data["extra_fields"].items():
        catalog = await get_catalog(session, siret)
        if not catalog.extra_fields:
            definitions = [ExtraFieldDefinition(**field) for field in fields]
            await replace_extra_fields(session, None, siret, definitions, force=False)
    created = 0
    for item in data["datasets"]:
        exists = await session.scalar(
            select(Dataset.id).where(
                Dataset.organization_siret == item["organization_siret"],
                Dataset.title == item["title"],
            )
        )
        if exists is None:
            dataset = DatasetCreate(**item)
            await create_dataset(session, None, dataset.organization_siret, dataset)
            created += 1
    return created
