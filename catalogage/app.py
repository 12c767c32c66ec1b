"""The ASGI application: `create_app()` wires settings, database, routes and errors.

Run it with `catalogage serve`, or `uvicorn --factory catalogage.app:create_app`
with `DATABASE_URL` set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from catalogage import __version__
from catalogage.accounts.routes import router as accounts_router
from catalogage.catalogs.routes import router as catalogs_router
from catalogage.config import ConfigError, Settings, load_settings
from catalogage.datasets.routes import router as datasets_router
from catalogage.db import Database
from catalogage.db.session import create_engine
from catalogage.deadline import RequestDeadlineMiddleware
from catalogage.errors import ERROR_RESPONSES, install_error_handlers
from catalogage.interop.ckan import router as ckan_router
from catalogage.interop.routes import rdf_router as dcat_dataset_router
from catalogage.interop.routes import router as interop_router
from catalogage.organizations.routes import router as organizations_router
from catalogage.search import ceiling
from catalogage.search.cache import GenerationCache
from catalogage.search.routes import router as search_router
from catalogage.security import RejectNulMiddleware, SecurityHeadersMiddleware
from catalogage.system.routes import router as system_router
from catalogage.vocabularies.routes import router as vocabularies_router
from catalogage.web import install_web


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    if not settings.database_url:
        raise ConfigError(
            "DATABASE_URL is not set: use `catalogage serve`, which runs the embedded database"
        )
    database = Database(create_engine(settings, settings.database_url))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = FastAPI(
        title="catalogage",
        version=__version__,
        description="Catalogue des données des administrations — API JSON.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    install_error_handlers(app)
    # Innermost of ours: its 503 still gets the security headers.
    app.add_middleware(RequestDeadlineMiddleware, seconds=settings.request_deadline_seconds)
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    # Before the datasets router: /datasets/{id}.ttl must not be read as a dataset id.
    app.include_router(dcat_dataset_router, responses=ERROR_RESPONSES)
    for router in (
        system_router,
        accounts_router,
        organizations_router,
        catalogs_router,
        datasets_router,
        vocabularies_router,
        search_router,
        interop_router,
        ckan_router,
    ):
        app.include_router(router, responses=ERROR_RESPONSES)
    app.state.search_cache = GenerationCache(
        settings.search_cache_entries, settings.search_cache_megabytes * 1024 * 1024
    )
    if settings.bench_ceiling_endpoint:
        app.include_router(ceiling.router)
    install_web(app, settings)
    return app
