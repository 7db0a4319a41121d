"""Response helpers shared by the route modules: JSON, GitHub error bodies, paging."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from localhub.access import HUB_KEY
from localhub.errors import GitHubError, validation_failed

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, headers=headers,
                        content_type="application/json", charset="utf-8")


def error_response(error: GitHubError) -> web.Response:
    return json_response(error.body(), error.status, error.headers)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, refused as GitHub refuses bad bodies."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(body, dict):
        raise GitHubError(400, "Body should be a JSON object")
    return body


def require(body: dict[str, Any], resource: str, *fields: str) -> None:
    for name in fields:
        if body.get(name) in (None, ""):
            raise validation_failed(resource, name, "missing_field")


def int_param(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        raise GitHubError(422, "Invalid request", [f"{name} is not a number"]) from None


def paginate(request: web.Request, items: list[Any]) -> web.Response:
    """One page of `items` with a GitHub `Link` header (next/last, prev/first when useful);
    no page is longer than the hub's `max_per_page`."""
    largest = request.app[HUB_KEY].max_per_page
    per_page = max(1, min(largest, int_param(request, "per_page", min(largest, DEFAULT_PER_PAGE))))
    page = max(1, int_param(request, "page", 1))
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []

    def link(number: int, rel: str) -> str:
        query = dict(request.query)
        query.update({"per_page": str(per_page), "page": str(number)})
        return f'<{request.url.with_query(query)}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    return json_response(chunk, headers={"Link": ", ".join(links)} if links else None)
