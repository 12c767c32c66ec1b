"""The benchmark harness runs end to end on a tiny catalog and prints its table.

Figures are not checked (speed is measured by `make bench`, not by tests); the
test checks that every stage ran: COPY load, the service with its workers, wrk
on each endpoint without errors, pgbench on the captured SQL, the ceiling.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from catalogage.config import PROJECT_DIR

ENDPOINTS = ["list page 1 (/search)", "search: rare word", "autocomplete", "get by id"]


@pytest.mark.slow
def test_bench_runs_end_to_end_at_tiny_n() -> None:
    if not (shutil.which("wrk") and shutil.which("pgbench")):
        pytest.skip("wrk and pgbench are needed (apt-get install wrk postgresql-client)")
    # Not pytest's tmp_path: the database cluster needs world-traversable parents.
    workdir = Path(tempfile.mkdtemp(prefix="catalogage-bench-test-"))
    workdir.chmod(0o755)
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "bench.run", "--n", "300", "--seconds", "1",
                "--connections", "4", "--no-uncached", "--no-install",
                "--workdir", str(workdir), "--only", *ENDPOINTS,
            ],
            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "bulk load (COPY" in out
    table = out[out.index("endpoint ") :]
    rows = {
        line[:26].strip(): line[26:].split()
        for line in table.splitlines()[2:]
        if line[:1].isalpha() and not line.startswith(("peak", "note"))
    }
    assert set(rows) == {"ceiling: constant JSON", *ENDPOINTS}
    for name, cells in rows.items():
        assert float(cells[0].replace(",", "")) > 0, name  # req/s
        assert cells[3] == "0", f"{name}: errors"
    assert "peak RSS per worker" in out and "MB" in out
