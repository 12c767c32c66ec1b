"""Sample requests for the search routes."""

from __future__ import annotations

from tests.route_samples import Call, Context, sample


@sample("GET", "/search/datasets")
def search_datasets(ctx: Context) -> Call:
    ctx.public_dataset()
    return Call("/search/datasets?q=for%C3%AAt&keyword=for%C3%AAt")


@sample("GET", "/search/autocomplete")
def autocomplete(ctx: Context) -> Call:
    ctx.public_dataset()
    return Call("/search/autocomplete?q=arb")
