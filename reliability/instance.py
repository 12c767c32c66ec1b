"""A throwaway `catalogage serve` with 2 workers on the embedded database, demo data loaded,
an admin and editors with API tokens: the system under test of every check."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.drive import free_port
from catalogage.config import PROJECT_DIR
from catalogage.db.cluster import EmbeddedCluster

CATALOGAGE = str(PROJECT_DIR / ".venv/bin/catalogage")
PASSWORD = "reliability-password-1234"  # noqa: S105 - throwaway local account
#: Demo organizations (catalogage/demo/data.json): editors of A must not write in B.
ORG_A = "11000201100044"
ORG_B = "13000250400020"


@dataclass
class Instance:
    root: Path
    port: int
    env: dict[str, str]
    cluster: EmbeddedCluster
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self, role: str) -> dict[str, str]:
        """`anonymous`, `admin`, `fuzzer` (admin), `editor_a` (editor of ORG_A) or `editor_b`."""
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def cli(self, *args: str, password: str | None = None) -> str:
        env = {**self.env, **({"CATALOGAGE_PASSWORD": password} if password else {})}
        result = subprocess.run(  # noqa: S603 - fixed program, arguments built here
            [CATALOGAGE, *args], env=env, cwd=self.root, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"catalogage {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()

    def add_account(self, role: str, siret: str | None) -> None:
        """A user with a token: an editor of `siret`, or an admin when `siret` is None."""
        email = f"{role.replace('_', '-')}@reliability.example.fr"
        admin_flag = ["--admin"] if siret is None else []
        self.cli("createuser", email, "--name", role, *admin_flag, password=PASSWORD)
        if siret is not None:
            self.cli("member", "add", email, siret, "--role", "editor")
        self.tokens[role] = self.cli("token", "create", email, "--name", "reliability")

    def start_server(self) -> None:
        log = (self.root / "serve.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [CATALOGAGE, "serve", "--port", str(self.port), "--workers", "2"],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_healthy(180)

    def wait_healthy(self, timeout: float) -> float:
        """Seconds until /health answers 200; raises after `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.url}/health not 200 within {timeout} s; see {self.root}")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of `serve` started by spawn)."""
        assert self.process is not None
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (stat.parent / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.process.pid and b"spawn_main" in cmdline:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def postgres_pids(self) -> list[int]:
        return cluster_pids(self.cluster.data_dir)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.cluster.stop()


def cluster_pids(data_dir: Path) -> list[int]:
    """The postmaster of the cluster in `data_dir` and its children (backends, background
    workers): the processes to SIGSTOP to freeze that cluster."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def start(extra_env: dict[str, str] | None = None, *, demo: bool = True) -> Instance:
    """Cluster first (so the CLI commands reuse it instead of starting and stopping their
    own), then demo data, accounts and tokens, then `serve`."""
    root = Path(tempfile.mkdtemp(prefix="catalogage-rel-"))
    root.chmod(0o755)  # the embedded cluster runs as `postgres`, which must traverse it
    env = {
        **os.environ,
        "VAR_DIR": str(root / "var"),
        "PORT": str(free_port()),
        "WORKERS": "2",
        "LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    (root / "var").mkdir()
    (root / "var").chmod(0o755)
    cluster = EmbeddedCluster(root / "var" / "postgres")
    cluster.start()
    instance = Instance(root=root, port=int(env["PORT"]), env=env, cluster=cluster)
    try:
        instance.cli("migrate")
        if demo:
            instance.cli("demo")
        # The fuzzer is an admin of its own: its generated requests revoke tokens and
        # deactivate users, which must not disturb the other checks.
        for role, siret in (
            ("admin", None),
            ("fuzzer", None),
            ("editor_a", ORG_A),
            ("editor_b", ORG_B),
        ):
            instance.add_account(role, siret)
        instance.start_server()
    except BaseException:
        instance.stop()
        raise
    return instance


def dataset_body(**overrides: object) -> dict[str, object]:
    """A complete valid dataset of ORG_A (every field the API requires)."""
    body: dict[str, object] = {
        "organization_siret": ORG_A,
        "title": "Qualité de l'air mesurée en continu",
        "description": "Concentrations horaires des polluants réglementés.",
        "keywords": ["air", "pollution"],
        "service": "Service de la surveillance de l'air",
        "technical_source": "Réseau de mesure",
        "service_contact_email": "air@example.gouv.fr",
        "contact_emails": ["claire.dupont@example.gouv.fr"],
        "first_publication_date": "2012-04-02",
        "last_update_date": "2024-06-30",
        "update_frequency": "daily",
        "geographical_coverage": "Région Occitanie",
        "url": "https://example.gouv.fr/air",
        "formats": ["CSV"],
        "license": "Licence Ouverte 2.0",
        "visibility": "public",
    }
    body.update(overrides)
    return body
