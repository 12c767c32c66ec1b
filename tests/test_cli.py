"""The `catalogage` command line, run as a real process against the test database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET_KEY, free_port
from tests.factories import ORG_A, PASSWORD, dataset_body

CLI = str(Path(sys.executable).parent / "catalogage")


def run(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], env=env, input=input, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    # Run from an empty directory so that no .env file is picked up.
    os.chdir(tmp_path)
    return {**base, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "COLUMNS": "200"}


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"DATABASE_URL": "mysql://db/catalogage"}, "DATABASE_URL"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ],
)
def test_invalid_configuration_is_one_clear_line(
    env: dict[str, str], variables: dict[str, str], named: str
) -> None:
    result = run("migrate", env={**env, **variables})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("catalogage: invalid configuration: ") and named in lines[0]


def test_admin_token_dataset_scenario(env: dict[str, str], server: str) -> None:
    """The issue's acceptance scenario, through the CLI and HTTP."""
    created = run(
        "createuser",
        "admin@example.gouv.fr",
        "--name",
        "Admin",
        "--admin",
        env={**env, "CATALOGAGE_PASSWORD": PASSWORD},
    )
    assert created.returncode == 0, created.stderr
    assert run("org", "create", ORG_A, "Direction A", env=env).returncode == 0
    token = run("token", "create", "admin@example.gouv.fr", env=env)
    assert token.returncode == 0, token.stderr
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}

    with httpx.Client(base_url=server, headers=headers) as client:
        posted = client.post("/datasets/", json=dataset_body(ORG_A))
        assert posted.status_code == 201
        assert [d["id"] for d in client.get("/datasets/").json()] == [posted.json()["id"]]
        invalid = client.post("/datasets/", json=dataset_body(ORG_A, contact_emails=["x@"]))
        assert invalid.status_code == 422
        assert invalid.json()["fields"][0]["field"] == "contact_emails"
        url = posted.headers["Location"]
        assert client.patch(url, json={"title": "v2"}, headers={"If-Match": '"1"'}).is_success
        stale = client.put(url, json=dataset_body(ORG_A), headers={"If-Match": '"1"'})
        assert stale.status_code == 412


def test_cli_errors_exit_non_zero_with_a_message(env: dict[str, str]) -> None:
    bad_siret = run("org", "create", "12345678901234", "X", env=env)
    assert bad_siret.returncode == 1
    assert "siret" in bad_siret.stderr and "Luhn" in bad_siret.stderr
    unknown = run("member", "add", "ghost@example.org", ORG_A, env=env)
    assert unknown.returncode == 1 and "Organization not found" in unknown.stderr
    weak = run(
        "createuser", "a@example.org", "--name", "A", env={**env, "CATALOGAGE_PASSWORD": "short"}
    )
    assert weak.returncode == 1 and "password" in weak.stderr
    no_user = run("token", "create", "ghost@example.org", env=env)
    assert no_user.returncode == 1 and "no user" in no_user.stderr


def test_member_add_and_duplicate_user(env: dict[str, str], db) -> None:
    password_env = {**env, "CATALOGAGE_PASSWORD": PASSWORD}
    assert (
        run("createuser", "agent@example.gouv.fr", "--name", "Agent", env=password_env).returncode
        == 0
    )
    again = run("createuser", "AGENT@example.gouv.fr", "--name", "Agent", env=password_env)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert run("org", "create", ORG_A, "Direction A", env=env).returncode == 0
    added = run("member", "add", "agent@example.gouv.fr", ORG_A, "--role", "manager", env=env)
    assert added.returncode == 0, added.stderr
    assert db.scalar("SELECT role FROM membership") == "manager"


def test_demo_loads_a_realistic_catalog_once(env: dict[str, str], db) -> None:
    first = run("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "30 dataset(s) created" in first.stderr
    assert db.scalar("SELECT count(*) FROM dataset") == 30
    assert db.scalar("SELECT count(*) FROM organization") == 4
    assert db.scalar("SELECT count(*) FROM dataset WHERE visibility = 'public'") >= 20
    second = run("demo", env=env)
    assert "0 dataset(s) created" in second.stderr
    assert db.scalar("SELECT count(*) FROM dataset") == 30


@pytest.fixture
def var_dir() -> Iterator[Path]:
    # The postgres user must traverse it: pytest's tmp_path lives under a 0700 directory.
    path = Path(tempfile.mkdtemp(prefix="catalogage-var-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_serve_with_embedded_database(var_dir: Path) -> None:
    """No DATABASE_URL: a private cluster in VAR_DIR/postgres, started and stopped with the
    app, migrated automatically, keeping its data across restarts."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    port = free_port()
    env.update({"VAR_DIR": str(var_dir), "PORT": str(port)})
    server = subprocess.Popen(
        [CLI, "serve"], env=env, cwd=var_dir, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become healthy"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/datasets/").json() == []
        # A CLI command while the server runs shares the running cluster.
        created = run(
            "createuser",
            "dev@example.org",
            "--name",
            "Dev",
            env={**env, "CATALOGAGE_PASSWORD": PASSWORD},
        )
        assert created.returncode == 0, created.stderr
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    assert not (var_dir / "postgres" / "data" / "postmaster.pid").exists()
    assert (var_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    # Data survived: the CLI starts the cluster by itself, and stops it again.
    again = run(
        "createuser",
        "dev@example.org",
        "--name",
        "Dev",
        env={**env, "CATALOGAGE_PASSWORD": PASSWORD},
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    assert not (var_dir / "postgres" / "data" / "postmaster.pid").exists()
