"""A private PostgreSQL cluster for development and tests.

The cluster listens only on a unix socket inside its own directory
(`listen_addresses=''`), so it can never clash with a PostgreSQL server already
running on port 5432, and only its owner (and root) may connect: the socket
directory is mode 0700 and authentication is `trust` on that socket alone.

`initdb` refuses to run as root, so when we are root every server binary runs as
the `postgres` system user through `runuser`, and the cluster directory belongs
to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

from catalogage.config import ConfigError

#: The socket name is `.s.PGSQL.<port>` inside the private socket directory; no
#: TCP port is opened, so any number works. We keep the usual one.
SOCKET_PORT = 5432
SERVER_USER = "postgres"


def _check_identifier(name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")


def find_bindir() -> Path:
    """Locate the PostgreSQL server binaries (initdb, pg_ctl, postgres)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run(  # noqa: S603 - fixed argument list
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates.extend(Path(p) for p in versions)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise ConfigError(
        "no PostgreSQL server binaries found (initdb, pg_ctl): install Debian's "
        "'postgresql' package, or set DATABASE_URL to use an existing server"
    )


class EmbeddedCluster:
    """A PostgreSQL cluster in `root` (data in `root/data`, socket in `root/run`)."""

    def __init__(self, root: Path, database: str = "catalogage") -> None:
        self.root = root.resolve()
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "postgres.log"
        self.database = database
        self.bindir = find_bindir()
        self._as_root = os.geteuid() == 0
        self.user = SERVER_USER if self._as_root else pwd.getpwuid(os.geteuid()).pw_name

    # -- URLs ---------------------------------------------------------------

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL reaching the cluster through its unix socket."""
        name = database or self.database
        return f"postgresql+asyncpg://{self.user}@/{name}?host={self.socket_dir}&port={SOCKET_PORT}"

    # -- lifecycle ----------------------------------------------------------

    def ensure_initialized(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self._prepare_dirs()
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--username",
            self.user,
        )

    def start(self) -> None:
        """Start the server (initialising the cluster on first use) and create the database."""
        self.ensure_initialized()
        self._prepare_dirs()
        if not self.is_running():
            options = (
                f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
                f"-c port={SOCKET_PORT} -c fsync=on -c max_connections=200 "
                "-c shared_buffers=256MB"
            )
            self._run(
                "pg_ctl",
                "start",
                "--wait",
                "--timeout",
                "60",
                "--pgdata",
                str(self.data_dir),
                "--log",
                str(self.log_file),
                "-o",
                options,
            )
        self._wait_ready()
        self.create_database(self.database)

    def stop(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "stop", "--wait", "--mode", "fast", "--pgdata", str(self.data_dir))

    def is_running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        result = self._run("pg_ctl", "status", "--pgdata", str(self.data_dir), check=False)
        return result.returncode == 0

    def create_database(self, name: str) -> None:
        _check_identifier(name)
        query = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"  # noqa: S608 - checked name
        exists = self.psql(query, "postgres")
        if exists.strip() != "1":
            self.psql(f'CREATE DATABASE "{name}"', "postgres")

    def drop_database(self, name: str) -> None:
        _check_identifier(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', "postgres")

    def psql(self, sql: str, database: str | None = None) -> str:
        result = self._run(
            "psql",
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(SOCKET_PORT),
            "-U",
            self.user,
            "-d",
            database or self.database,
            "-c",
            sql,
        )
        return result.stdout

    # -- helpers ------------------------------------------------------------

    def _prepare_dirs(self) -> None:
        for path in (self.root, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        self.socket_dir.chmod(0o700)
        if self._as_root:
            self._check_reachable_by_server_user()
            uid = pwd.getpwnam(SERVER_USER).pw_uid
            gid = pwd.getpwnam(SERVER_USER).pw_gid
            for path in (self.root, self.socket_dir, self.data_dir, self.log_file):
                if path.exists():
                    os.chown(path, uid, gid)

    def _check_reachable_by_server_user(self) -> None:
        """The `postgres` user must be able to traverse every parent directory."""
        for parent in reversed(self.root.parents):
            mode = parent.stat().st_mode
            if not mode & 0o001:
                raise ConfigError(
                    f"the PostgreSQL cluster directory {self.root} is not reachable by the "
                    f"'{SERVER_USER}' user ({parent} is not world-traversable): move the "
                    "checkout, or set VAR_DIR to a directory such as /var/lib/catalogage"
                )

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._run(
                "pg_isready", "-q", "-h", str(self.socket_dir), "-p", str(SOCKET_PORT), check=False
            )
            if result.returncode == 0:
                return
            time.sleep(0.05)
        raise ConfigError(f"embedded PostgreSQL did not start; see {self.log_file}")

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        binary = self.bindir / program
        command = [str(binary) if binary.exists() else program, *args]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(  # noqa: S603 - arguments are built here, not from input
            command, capture_output=True, text=True, check=False, cwd="/"
        )
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ConfigError(f"{program} failed: {detail[-1] if detail else result.returncode}")
        return result
