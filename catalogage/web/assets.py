"""URLs of the built static files (`make assets` writes them with hashed names)."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).with_name("static")
DIST_DIR = STATIC_DIR / "dist"
MANIFEST = DIST_DIR / "manifest.json"
STATIC_URL = "/static/"

logger = logging.getLogger("catalogage.web")


@cache
def manifest() -> dict[str, str]:
    """Logical name -> hashed path under `dist/`; empty (and logged) when not built."""
    try:
        data: dict[str, str] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError:
        logger.warning("static assets are not built (no %s): run `make assets`", MANIFEST)
        return {}
    return data


def asset_url(name: str) -> str:
    """The URL of a built file, e.g. `asset_url("dsfr/dsfr.min.css")`."""
    return f"{STATIC_URL}dist/{manifest().get(name, name)}"


class _StaticFiles(StaticFiles):
    """Static files; those with hashed names (under `dist/`) are cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if (
            path.startswith("dist/")
            and path != "dist/manifest.json"
            and response.status_code == 200
        ):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_static(app: FastAPI) -> None:
    """Serve `static/` at `/static/` (in production nginx serves it, see README)."""
    app.mount(STATIC_URL.rstrip("/"), _StaticFiles(directory=STATIC_DIR), name="static")
