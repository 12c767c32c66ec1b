"""The seed's contract: `/datasets/` answers `[]` on an empty database; health and version."""

import httpx


def test_empty_catalog_lists_no_dataset(client: httpx.Client) -> None:
    response = client.get("/datasets/")
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "0"


def test_health_reports_database(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_version_names_package_commit_and_migration(client: httpx.Client, db) -> None:
    body = client.get("/version").json()
    assert body["version"] == "0.1.0"
    assert body["migration"] == db.scalar("SELECT version_num FROM alembic_version")
    assert "commit" in body


def test_unknown_route_is_json_404(client: httpx.Client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_security_headers(client: httpx.Client) -> None:
    headers = client.get("/datasets/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
