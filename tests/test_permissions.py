"""Every route declares an access level, and every level holds for every role.

The route table is walked: a route that declares no `Requires(...)` dependency,
or that has no sample request in `tests/route_samples/`, fails here. Then each
route is called as each role (anonymous, editor of another organization, editor,
manager, admin) and the answer must match the declared level.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from catalogage.accounts.auth import Access, Requires
from catalogage.app import create_app
from catalogage.config import Settings
from tests.factories import ROLES
from tests.route_samples import Context, load_all

#: Roles allowed by each access level (target: ORG_A). The others must get 401 or 403.
ALLOWED = {
    Access.PUBLIC: set(ROLES),
    Access.AUTHENTICATED: {"editor_b", "editor_a", "manager_a", "admin"},
    Access.ORG_EDITOR: {"editor_a", "manager_a", "admin"},
    Access.ORG_MANAGER: {"manager_a", "admin"},
    Access.ADMIN: {"admin"},
}


def _declared(dependant: Dependant) -> set[Access]:
    levels = set()
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Requires):
            levels.add(dependency.call.access)
        levels |= _declared(dependency)
    return levels


def _routes(settings: Settings) -> list[tuple[str, str, set[Access]]]:
    app = create_app(settings)
    routes = []
    # Included routers are kept nested; `iter_route_contexts` gives each route its full path.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                routes.append((method, str(context.path), _declared(route.dependant)))
    return routes


def test_every_route_declares_one_access_level(settings: Settings) -> None:
    undeclared = [(m, p, levels) for m, p, levels in _routes(settings) if len(levels) != 1]
    assert undeclared == [], "routes must depend on exactly one Requires(...)"


def test_every_route_has_a_sample_request(settings: Settings) -> None:
    samples = load_all()
    routes = {(method, path) for method, path, _ in _routes(settings)}
    assert sorted(routes - samples.keys()) == [], "add samples in tests/route_samples/"
    assert sorted(samples.keys() - routes) == [], "samples for routes that do not exist"


def _matrix(settings: Settings) -> list[Any]:
    return [
        pytest.param(method, path, next(iter(levels)), role, id=f"{method} {path} as {role}")
        for method, path, levels in _routes(settings)
        if len(levels) == 1
        for role in ROLES
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ == "test_route_permission":
        settings = Settings(
            database_url="postgresql+asyncpg://collect-only/none",
            secret_key="x" * 40,
            _env_file=None,  # type: ignore[call-arg]
        )
        metafunc.parametrize(("method", "path", "access", "role"), _matrix(settings))


def test_route_permission(
    method: str, path: str, access: Access, role: str, client: httpx.Client, world, db
) -> None:
    build = load_all()[(method, path)]
    call = build(Context(role=role, client=client, world=world, db=db))
    response = client.request(
        method,
        call.url,
        json=call.json,
        files=call.files,
        data=call.data,
        headers={**world.headers(role), **call.headers},
    )
    if role in ALLOWED[access]:
        assert response.status_code < 400, response.text
    elif role == "anonymous":
        assert response.status_code == 401, response.text
    else:
        assert response.status_code == 403, response.text
