"""A constant JSON answer through the full HTTP stack: the benchmark's HTTP ceiling.

Mounted only when `BENCH_CEILING_ENDPOINT=true` (the `bench/` harness sets it): it
measures what nginx, uvicorn, FastAPI, the middlewares and the caller dependency
cost without any database work, so that each endpoint's req/s can be read as a
fraction of it.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from catalogage.accounts.auth import AnyCaller

router = APIRouter(tags=["benchmark"])

#: About the size of a small search answer.
BODY = b'{"total":0,"items":[],"facets":{},"suggestion":null,"padding":"' + b"x" * 400 + b'"}'


@router.get("/_bench/ceiling", include_in_schema=False)
async def ceiling(user: AnyCaller) -> Response:
    return Response(content=BODY, media_type="application/json")
