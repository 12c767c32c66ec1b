"""Concurrent writers: If-Match read-modify-write loops, and simultaneous catalog imports."""

from __future__ import annotations

import csv
import io
import itertools
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from reliability.instance import ORG_A, Instance, dataset_body


@dataclass
class EditResult:
    clients: int
    writes_acknowledged: int
    precondition_failed: int
    other_statuses: dict[int, int]
    lost_updates: int
    history_consistent: bool


def edit_race(instance: Instance, clients: int = 50, records: int = 2) -> EditResult:
    """`clients` threads each append their own marker to the description of every record
    with GET + PATCH If-Match, retrying on 412. With no lost update, every record ends
    with every client's marker, its version grew by exactly the number of 2xx writes, and its
    history holds one entry per acknowledged write."""
    headers = instance.headers("editor_a")
    ids = []
    with httpx.Client(base_url=instance.url, headers=headers, timeout=60) as client:
        for number in range(records):
            body = dataset_body(title=f"Course d'édition {number} {uuid.uuid4().hex[:6]}")
            created = client.post("/datasets/", json=body)
            created.raise_for_status()
            ids.append(created.json()["id"])
    acknowledged = failed = 0
    others: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client_loop(number: int) -> None:
        nonlocal acknowledged, failed
        marker = f"[client{number:02d}]"
        with httpx.Client(base_url=instance.url, headers=headers, timeout=60) as client:
            start.wait()
            for dataset_id in ids:
                for _attempt in range(500):
                    current = client.get(f"/datasets/{dataset_id}")
                    if current.status_code != 200:
                        with lock:
                            others[current.status_code] = others.get(current.status_code, 0) + 1
                        time.sleep(0.1)
                        continue
                    description = current.json()["description"] + marker
                    answer = client.patch(
                        f"/datasets/{dataset_id}",
                        json={"description": description},
                        headers={"If-Match": current.headers["ETag"]},
                    )
                    with lock:
                        if answer.status_code == 200:
                            acknowledged += 1
                        elif answer.status_code == 412:
                            failed += 1
                        else:
                            others[answer.status_code] = others.get(answer.status_code, 0) + 1
                    if answer.status_code == 200:
                        break

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client_loop, range(clients)))
    lost = 0
    consistent = True
    with httpx.Client(base_url=instance.url, headers=headers, timeout=60) as client:
        for dataset_id in ids:
            final = client.get(f"/datasets/{dataset_id}").json()
            lost += sum(f"[client{n:02d}]" not in final["description"] for n in range(clients))
            history = client.get(f"/datasets/{dataset_id}/history").json()
            consistent &= final["version"] == 1 + clients and len(history) == 1 + clients
    return EditResult(clients, acknowledged, failed, others, lost, consistent)


@dataclass
class ImportResult:
    imports: int
    applied: int
    refused_409: int
    other_statuses: dict[int, int]
    interleaved: int


def _catalog_csv(instance: Instance, tag: str, rows: int) -> bytes:
    name = httpx.get(f"{instance.url}/organizations/{ORG_A}", timeout=30).json()["name"]
    buffer = io.StringIO()
    template = {
        "titre": "",
        "description": "",
        "mots_cles": "eau,santé",
        "nom_orga": name,
        "siret_orga": ORG_A,
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
    writer = csv.DictWriter(buffer, fieldnames=list(template))
    writer.writeheader()
    for number in range(rows):
        writer.writerow(
            {
                **template,
                "titre": f"Import {tag} ligne {number}",
                "description": f"Ligne {number} de l'import {tag}.",
            }
        )
    return buffer.getvalue().encode()


def import_race(instance: Instance, imports: int = 8, rows: int = 50) -> ImportResult:
    """`imports` clients apply different files to one catalog at the same moment. Each
    answer must be 200 (the whole file written) or 409 (nothing written): a file seen
    partially written, or two files' rows written by interleaved transactions, fails."""
    tags = [uuid.uuid4().hex[:8] for _ in range(imports)]
    files = {tag: _catalog_csv(instance, tag, rows) for tag in tags}
    start = threading.Barrier(imports)

    def apply(tag: str) -> int:
        with httpx.Client(
            base_url=instance.url, headers=instance.headers("editor_a"), timeout=120
        ) as client:
            start.wait()
            answer = client.post(
                f"/catalogs/{ORG_A}/import",
                params={"dry_run": "false", "visibility": "public"},
                files={"file": (f"{tag}.csv", files[tag], "text/csv")},
            )
            return answer.status_code

    with ThreadPoolExecutor(max_workers=imports) as pool:
        statuses = dict(zip(tags, pool.map(apply, tags), strict=True))
    interleaved = 0
    spans: list[tuple[str, str]] = []
    with httpx.Client(
        base_url=instance.url, headers=instance.headers("admin"), timeout=60
    ) as client:
        for tag, status in statuses.items():
            found = client.get("/datasets/", params={"q": f"Import {tag}", "page_size": 100})
            mine = [d for d in found.json() if d["title"].startswith(f"Import {tag} ")]
            expected = rows if status == 200 else 0
            if len(mine) != expected:
                interleaved += 1
            if mine:
                stamps = sorted(d["created_at"] for d in mine)
                spans.append((stamps[0], stamps[-1]))
    spans.sort()
    # Serialised transactions: one file's rows all precede the next file's.
    interleaved += sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    others = {s: list(statuses.values()).count(s) for s in set(statuses.values()) - {200, 409}}
    return ImportResult(
        imports,
        list(statuses.values()).count(200),
        list(statuses.values()).count(409),
        others,
        interleaved,
    )
