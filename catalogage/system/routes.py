"""`/health` (for load balancers and deploys) and `/version` (what is deployed)."""

from __future__ import annotations

import asyncio
import subprocess
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from catalogage import __version__
from catalogage.accounts.auth import AnyCaller
from catalogage.config import PROJECT_DIR

router = APIRouter(tags=["system"])

HEALTH_TIMEOUT_SECONDS = 2.0


@cache
def deployed_commit() -> str | None:
    """The commit being served: a `REVISION` file in the working directory (written by
    deploys) or the project directory, else `git rev-parse HEAD`, else None."""
    for path in (Path.cwd() / "REVISION", PROJECT_DIR / "REVISION"):
        if path.is_file():
            return path.read_text().strip() or None
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH is intended
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


async def _database_revision(request: Request) -> str | None:
    async with request.app.state.db.engine.connect() as connection:
        result = await connection.execute(text("SELECT version_num FROM alembic_version"))
        revision: str | None = result.scalar()
        return revision


@router.get("/health")
async def health(request: Request, user: AnyCaller) -> JSONResponse:
    """200 when the database answers within 2 s, 503 otherwise. JSON either way."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            revision = await _database_revision(request)
    except Exception as exc:  # any failure to reach the database means unhealthy
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "migration": revision})


@router.get("/version")
async def version(request: Request, user: AnyCaller) -> dict[str, str | None]:
    """Package version, deployed git commit, and the database's migration revision."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            revision = await _database_revision(request)
    except Exception:
        revision = None
    return {"version": __version__, "commit": deployed_commit(), "migration": revision}
