"""The schema.org `Dataset` description embedded in each dataset page (JSON-LD)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from catalogage.datasets.models import Dataset


def dataset_json_ld(request: Request, dataset: Dataset) -> dict[str, Any]:
    page = str(request.url_for("dataset_page", dataset_id=dataset.id))
    organization = {
        "@type": "GovernmentOrganization",
        "name": dataset.organization.name,
        "identifier": dataset.organization.siret,
    }
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": page,
        "url": page,
        "identifier": str(dataset.id),
        "name": dataset.title,
        "description": dataset.description,
        "keywords": list(dataset.keywords),
        "publisher": organization,
        "creator": {
            **organization,
            "department": {"@type": "Organization", "name": dataset.service},
        },
        "spatialCoverage": dataset.geographical_coverage,
        "dateModified": dataset.updated_at.isoformat(),
        "isAccessibleForFree": True,
        "encodingFormat": list(dataset.formats),
    }
    if dataset.first_publication_date:
        data["datePublished"] = dataset.first_publication_date.isoformat()
    if dataset.last_update_date:
        data["dateModified"] = dataset.last_update_date.isoformat()
    if dataset.license:
        data["license"] = dataset.license
    if dataset.service_contact_email:
        data["contactPoint"] = {
            "@type": "ContactPoint",
            "contactType": dataset.service,
            "email": dataset.service_contact_email,
        }
    if dataset.url:
        data["distribution"] = [
            {"@type": "DataDownload", "contentUrl": dataset.url, "encodingFormat": f}
            for f in dataset.formats
        ]
    return data
