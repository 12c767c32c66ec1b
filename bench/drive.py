"""Processes of a benchmark run: the service (as production runs it), nginx, wrk, pgbench."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from catalogage.config import PROJECT_DIR

WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_tools(install: bool) -> list[str]:
    """Install nginx and wrk from Debian when missing (and allowed); names still missing."""
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing and install and os.geteuid() == 0:
        # policy-rc.d (Debian) or no init system: the packaged nginx service is not started.
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *missing],
            check=False,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        missing = [tool for tool in missing if shutil.which(tool) is None]
    return missing


@dataclass
class Service:
    """`catalogage serve` with WORKERS workers, behind nginx when available."""

    process: subprocess.Popen[bytes]
    port: int
    nginx: subprocess.Popen[bytes] | None
    nginx_port: int | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port or self.port}"

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes: children of the serve process started by
        multiprocessing's spawn (not its resource tracker)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and b"spawn_main" in cmdline:
                children.append(int(stat.parent.name))
        return children or [self.process.pid]

    def peak_rss_mb(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of each worker, in MB."""
        result = {}
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    result[pid] = int(line.split()[1]) / 1024
        return result

    def stop(self) -> None:
        for process in (self.nginx, self.process):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream catalogage {{ server 127.0.0.1:{app_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://catalogage;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def start_service(
    database_url: str, workdir: Path, *, workers: int, cache_entries: int, use_nginx: bool
) -> Service:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "WORKERS": str(workers),
        "LOG_LEVEL": "warning",
        "BENCH_CEILING_ENDPOINT": "true",
        "SEARCH_CACHE_ENTRIES": str(cache_entries),
        "VAR_DIR": str(workdir / "var"),
    }
    log = (workdir / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [str(PROJECT_DIR / ".venv/bin/catalogage"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    nginx = nginx_port = None
    if use_nginx and shutil.which("nginx"):
        nginx_port = free_port()
        root = workdir / f"nginx-{nginx_port}"
        root.mkdir(parents=True, exist_ok=True)
        (root / "nginx.conf").write_text(
            NGINX_CONF.format(root=root, app_port=port, port=nginx_port)
        )
        nginx = subprocess.Popen(
            ["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    service = Service(process, port, nginx, nginx_port)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(service.base_url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            service.stop()
            raise RuntimeError(f"the service did not start; see {log.name}")
        time.sleep(0.2)
    # Both workers must be up before measuring: wait until each has answered.
    time.sleep(1.0)
    return service


@dataclass
class Measure:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def run_wrk(
    base_url: str, paths: list[str], *, seconds: int, connections: int, workdir: Path
) -> Measure:
    """wrk over `paths` (round robin), open connections kept busy; errors are socket
    errors plus non-2xx answers."""
    paths_file = workdir / f"paths-{time.monotonic_ns()}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    try:
        result = _wrk(base_url, paths_file, seconds=seconds, connections=connections)
    finally:
        paths_file.unlink()
    line = next((x for x in result.stdout.splitlines() if x.startswith("REPORT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    report = json.loads(line.removeprefix("REPORT "))
    return Measure(
        requests_per_second=report["requests"] / report["seconds"],
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["errors"],
        requests=report["requests"],
    )


def _wrk(
    base_url: str, paths_file: Path, *, seconds: int, connections: int
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            base_url,
            str(paths_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def run_pgbench(
    socket_dir: str,
    user: str,
    database: str,
    script: str,
    *,
    seconds: int,
    connections: int,
    workdir: Path,
) -> Measure:
    """pgbench with `script` as each transaction; latency percentiles from its log."""
    run_dir = workdir / f"pgbench-{time.monotonic_ns()}"
    run_dir.mkdir(parents=True)
    (run_dir / "script.sql").write_text(script)
    command = [
        "pgbench",
        "-n",
        "-h",
        socket_dir,
        "-U",
        user,
        "-c",
        str(connections),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-l",
        "-f",
        "script.sql",
        database,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=run_dir)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed: {result.stderr.strip()}")
    latencies: list[int] = []
    for log in run_dir.glob("pgbench_log.*"):
        for row in log.read_text().splitlines():
            latencies.append(int(row.split()[2]))
    latencies.sort()
    failed = next(
        (
            int(x.split(":")[1].split()[0])
            for x in result.stdout.splitlines()
            if x.startswith("number of failed transactions")
        ),
        0,
    )

    def percentile(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(len(latencies) * p))] / 1000 if latencies else 0.0
        )

    tps = next(
        (
            float(x.split("=")[1].split()[0])
            for x in result.stdout.splitlines()
            if x.startswith("tps =")
        ),
        0.0,
    )
    shutil.rmtree(run_dir, ignore_errors=True)
    return Measure(tps, percentile(0.5), percentile(0.99), failed, len(latencies))
