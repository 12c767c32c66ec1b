"""The fast pieces of the reliability harness (the rest runs with `make reliability`):
the secrets scan, and the OpenAPI documentation of error shapes that fuzzing relies on."""

from __future__ import annotations

from catalogage.app import create_app
from catalogage.config import Settings
from reliability.security import scan_text, secrets_scan
from tests.conftest import SECRET_KEY


def test_the_repository_holds_no_secrets() -> None:
    assert secrets_scan() == []


def test_the_scanner_finds_planted_secrets() -> None:
    text = "\n".join(
        [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            'password = "Tr0ub4dor-and-more"',
            "token: ctg_" + "a" * 43,
            "AKIA" + "ABCDEFGHIJKLMNOP",
        ]
    )
    kinds = [finding.split(": ", 1)[1] for finding in scan_text("x", text)]
    assert kinds == ["private key", "AWS key", "API token", "password in plain text"]


def test_templated_and_placeholder_passwords_are_not_secrets() -> None:
    text = 'password: "{{ vault_password }}"\nSECRET_KEY=$SECRET_KEY\npassword = "<choose one>"'
    assert scan_text("x", text) == []


def _schema(tmp_path) -> dict:
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@/nowhere?host=/nonexistent",
        secret_key=SECRET_KEY,
        var_dir=tmp_path,
        _env_file=None,  # type: ignore[call-arg]
    )
    return create_app(settings).openapi()


def test_ckan_errors_are_documented_in_ckan_shape(tmp_path) -> None:
    """CKAN actions answer errors in CKAN's envelope; the schema must say so, or every
    conforming client (and schemathesis) reads them as violations."""
    schema = _schema(tmp_path)
    responses = schema["paths"]["/api/3/action/package_show"]["get"]["responses"]
    for status in ("404", "409", "503"):
        ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/CkanErrorBody"
    ckan_error = schema["components"]["schemas"]["CkanErrorDetail"]
    assert ckan_error["required"] == ["__type", "message"]


def test_import_documents_its_upload_statuses(tmp_path) -> None:
    responses = _schema(tmp_path)["paths"]["/catalogs/{siret}/import"]["post"]["responses"]
    assert {"411", "413", "415", "422"} <= set(responses)
