"""Shared set-up of the interop benchmarks: a throwaway PostgreSQL cluster, migrated."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catalogage.db.cluster import EmbeddedCluster
from catalogage.db.migrate import upgrade

ORG = "11000000000015"
ORG_NAME = "Direction des données A"


@contextmanager
def throwaway_database() -> Iterator[tuple[EmbeddedCluster, str]]:
    root = Path(tempfile.mkdtemp(prefix="catalogage-bench-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root / "postgres", database="bench")
    cluster.start()
    try:
        url = cluster.url()
        upgrade(url)
        cluster.psql(
            f"INSERT INTO organization (siret, name) VALUES ('{ORG}', '{ORG_NAME}');"
            f"INSERT INTO catalog (organization_siret) VALUES ('{ORG}');"
        )
        yield cluster, url
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
