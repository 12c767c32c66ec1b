"""Regressions found by the reliability harness (`make reliability`), kept in the suite."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import rdflib
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from catalogage.app import create_app
from tests.conftest import free_port
from tests.factories import create_dataset


def test_a_url_with_markup_does_not_break_the_dcat_catalog(client, world) -> None:
    """One editor's URL with `<`, `"` or `|` used to make every RDF serialisation of the
    catalog fail with a 500; the IRI is now percent-encoded and the JSON keeps it as typed."""
    typed = 'https://example.gouv.fr/?q=<script>"x|{}'
    dataset = create_dataset(client, world, url=typed)
    assert client.get(f"/datasets/{dataset['id']}").json()["url"] == typed
    for path in ("/catalog.ttl", f"/datasets/{dataset['id']}.ttl"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        graph = rdflib.Graph().parse(data=answer.text, format="turtle")
        urls = {str(o) for o in graph.objects()}
        assert "https://example.gouv.fr/?q=%3Cscript%3E%22x%7C%7B%7D" in urls


def test_a_statement_timeout_answers_503_not_500(client, world, settings, database_url) -> None:
    """A query cancelled by the statement timeout (here: waiting for a row lock another
    transaction holds) means the database cannot serve now: 503 with Retry-After."""
    dataset = create_dataset(client, world)
    impatient = settings.model_copy(update={"db_statement_timeout_ms": 300})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(impatient), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    async def hold_lock(locked: threading.Event, release: threading.Event) -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("SELECT 1 FROM dataset WHERE id = :id FOR UPDATE"), {"id": dataset["id"]}
                )
                locked.set()
                await asyncio.to_thread(release.wait, 30)
        finally:
            await engine.dispose()

    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=asyncio.run, args=(hold_lock(locked, release),))
    holder.start()
    try:
        assert locked.wait(10)
        while not server.started:
            time.sleep(0.02)
        answer = httpx.patch(
            f"http://127.0.0.1:{port}/datasets/{dataset['id']}",
            json={"title": "Bloqué"},
            headers={**world.headers("editor_a"), "If-Match": '"1"'},
            timeout=10,
        )
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "service_unavailable"
        assert answer.headers["Retry-After"] == "5"
    finally:
        release.set()
        holder.join(timeout=10)
        server.should_exit = True
        thread.join(timeout=10)
