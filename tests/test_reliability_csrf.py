"""CSRF on every state-changing route, generated from the route table: with a signed-in
browser session and no CSRF token, every POST, PUT, PATCH and DELETE is refused (403) before
it does anything. A new form or write route is covered without being listed."""

from __future__ import annotations

import re

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from catalogage.app import create_app
from tests.factories import ORG_A, World, create_dataset
from tests.web.test_pages import signed_in

#: Credentials exchanges carry no ambient authority: they are not CSRF targets.
#: (The login form is, and its refusal is tested in tests/web/test_pages.py.)
NOT_AMBIENT = {("POST", "/auth/token")}


def test_every_write_route_refuses_a_session_without_csrf_token(
    client: httpx.Client, world: World, settings
) -> None:
    dataset = create_dataset(client, world)
    values = {"dataset_id": dataset["id"], "siret": ORG_A}
    signed_in(client, world, "admin")
    checked = []
    for context in iter_route_contexts(create_app(settings).routes):
        route, template = context.route, str(context.path)
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods - {"GET", "HEAD", "OPTIONS"}):
            if (method, template) in NOT_AMBIENT:
                continue
            path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), template)
            response = client.request(method, path, data={"title": "CSRF"})
            checked.append((method, template, response.status_code))
    refused = [c for c in checked if c[2] == 403]
    assert len(checked) >= 20
    assert refused == checked, [c for c in checked if c[2] != 403]
    assert client.get(f"/datasets/{dataset['id']}").json()["title"] == dataset["title"]
