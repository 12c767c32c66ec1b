"""Sample requests for every route, used by `tests/test_permissions.py`.

Each area registers, in its own module here, one builder per (method, path
template) with `@sample(...)`. A builder receives a `Context` (the caller's role
and ways to create data) and returns the `Call` to make. The call must succeed
(status < 400) for every role the route's access level allows, with organization
ORG_A as the target of organization-scoped routes; the permission test then
checks that the other roles get 401 or 403.

Modules are imported by `load_all()`: add yours to `AREAS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import World, create_dataset


@dataclass
class Call:
    url: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Multipart files or form data, for upload routes.
    files: Any = None
    data: Any = None


@dataclass
class Context:
    role: str
    client: httpx.Client
    world: World
    db: Any

    def public_dataset(self, **overrides: Any) -> dict[str, Any]:
        """A public dataset of ORG_A, created by its manager (visible to every role)."""
        return create_dataset(
            self.client, self.world, "manager_a", visibility="public", **overrides
        )


Builder = Callable[[Context], Call]
SAMPLES: dict[tuple[str, str], Builder] = {}
AREAS = ("core", "search", "interop", "web")


def sample(method: str, path: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        key = (method.upper(), path)
        assert key not in SAMPLES, f"two samples for {key}"
        SAMPLES[key] = builder
        return builder

    return register


def load_all() -> dict[tuple[str, str], Builder]:
    for area in AREAS:
        importlib.import_module(f"tests.route_samples.{area}")
    return SAMPLES
