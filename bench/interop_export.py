"""Export benchmark: streams /export.csv and /export.xlsx from a real server process
and samples that process's resident memory, for growing numbers of datasets.

    .venv/bin/python -m bench.interop_export [--sizes 10000,100000,1000000] [--xlsx-max N]

Memory that stays flat while the row count grows 100-fold is what "streamed" means.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

import httpx

from bench.interop_common import ORG, throwaway_database

# Realistic sizes: ~600 bytes per exported row.
INSERT_SQL = """
INSERT INTO dataset (id, organization_siret, title, description, keywords, service,
    technical_source, service_contact_email, contact_emails, first_publication_date,
    last_update_date, update_frequency, geographical_coverage, url, formats, license,
    visibility, extra_fields)
SELECT gen_random_uuid(), '{org}', 'Jeu de données numéro ' || n,
    'Description du jeu de données ' || n || ' : ' || repeat('données publiques ', 12),
    ARRAY['environnement', 'eau', 'mot' || (n % 500)], 'Service des données',
    'Système ' || (n % 20), 'service@example.gouv.fr',
    ARRAY['agent' || (n % 1000) || '@example.gouv.fr'],
    DATE '2015-01-01' + (n % 3000), DATE '2023-01-01' + (n % 600), 'monthly',
    'Région ' || (n % 13), 'https://example.gouv.fr/jeux/' || n, ARRAY['CSV', 'JSON'],
    'Licence Ouverte 2.0', 'public', '{{}}'
FROM generate_series({start}, {stop}) AS n
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(base: str, path: str, pid: int) -> tuple[int, float, int, int]:
    """(bytes, seconds, RSS before, peak RSS during) for one download."""
    before = rss_kib(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", base + path, timeout=3600) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return size, elapsed, before, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--xlsx-max", type=int, default=1_000_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with throwaway_database() as (cluster, url):
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "b" * 40}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "catalogage.app:create_app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            loaded = 0
            print(
                f"{'rows':>9} {'format':>6} {'MB':>8} {'s':>7} {'rows/s':>8} "
                f"{'RSS before MiB':>15} {'RSS peak MiB':>13}"
            )
            for size in sizes:
                cluster.psql(INSERT_SQL.format(org=ORG, start=loaded + 1, stop=size))
                cluster.psql("VACUUM ANALYZE dataset")
                loaded = size
                for fmt in ("csv", "xlsx"):
                    if fmt == "xlsx" and size > args.xlsx_max:
                        continue
                    n, seconds, before, peak = measure(base, f"/export.{fmt}", server.pid)
                    print(
                        f"{size:>9} {fmt:>6} {n / 1e6:>8.1f} {seconds:>7.1f} "
                        f"{size / seconds:>8.0f} {before / 1024:>15.1f} {peak / 1024:>13.1f}",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
