"""HTTP helpers shared by routes: conditional requests and pagination headers."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response

from catalogage.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def required_version(if_match: str | None) -> int:
    """The version an `If-Match` header names; 428 when absent, 412 when unusable."""
    if not if_match:
        raise PreconditionRequired(
            "This request needs an If-Match header with the ETag of the version you edited"
        )
    value = if_match.strip()
    if value.startswith('"') and value.endswith('"') and value[1:-1].isdigit():
        return int(value[1:-1])
    raise PreconditionFailed("If-Match does not name a version of this resource")


def optional_version(if_match: str | None) -> int | None:
    return required_version(if_match) if if_match else None


def set_pagination_headers(
    request: Request, response: Response, *, page: int, page_size: int, total: int
) -> None:
    """`X-Total-Count` and an RFC 8288 `Link` header (first, prev, next, last)."""
    response.headers["X-Total-Count"] = str(total)
    last = max(1, -(-total // page_size))
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    base = str(request.url.replace(query=""))

    def link(number: int, rel: str) -> str:
        query = urlencode([*params, ("page", str(number))])
        return f'<{base}?{query}>; rel="{rel}"'

    links = [link(1, "first")]
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links.append(link(page + 1, "next"))
    links.append(link(last, "last"))
    response.headers["Link"] = ", ".join(links)
