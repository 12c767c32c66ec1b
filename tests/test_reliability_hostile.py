"""Regressions found by the reliability harness (`make reliability`), kept in the suite."""

from __future__ import annotations

import rdflib

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
