"""POST /_edge/api/import/contacts and /_edge/api/import/catalog (admin token).

The body streams in (``?format=jsonl`` or ``csv``) and is imported line by line; the answer
reports counts and bad rows by line number: ``{"imported", "failed", "bad_rows": [...]}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from edge.api.common import api_endpoint, iter_lines, json_response, require_admin
from edge.errors import ApiError
from edge.store.imports import import_catalog, import_contacts

MAX_IMPORT_BYTES = 512 * 1024 * 1024  # a sanity cap; the body is never held in memory whole


def _format(request: Request) -> str:
    fmt = request.query_params.get("format", "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise ApiError("format: must be jsonl or csv", field="format")
    return fmt


@api_endpoint
async def post_contacts(request: Request) -> Response:
    require_admin(request)
    fmt = _format(request)
    report = await import_contacts(request.app.state.redis, iter_lines(request, MAX_IMPORT_BYTES),
                                   fmt)
    return json_response(report.to_json())


@api_endpoint
async def post_catalog(request: Request) -> Response:
    require_admin(request)
    fmt = _format(request)
    report = await import_catalog(request.app.state.redis, iter_lines(request, MAX_IMPORT_BYTES),
                                  fmt)
    return json_response(report.to_json())


routes: list[BaseRoute] = [
    Route("/_edge/api/import/contacts", post_contacts, methods=["POST"]),
    Route("/_edge/api/import/catalog", post_catalog, methods=["POST"]),
]
