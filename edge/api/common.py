"""What every API module shares: ApiError → JSON 4xx, the admin-token check, size-limited body
reading, and the request as the store sees it (``RequestHead``).

Endpoints are wrapped with ``@api_endpoint`` so errors become JSON in one place:
``{"error": "events[3].sku: field required", "field": "events[3].sku"}``.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from edge.errors import ApiError, AuthError, StoreError
from edge.page import RequestHead

log = logging.getLogger("edge.api")
Endpoint = Callable[[Request], Awaitable[Response]]


def error_response(exc: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    headers = {"Retry-After": "60"} if exc.status_code == 429 else None
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def api_endpoint(func: Endpoint) -> Endpoint:
    """Map ApiError to its 4xx JSON answer and a Redis failure to 503."""

    @functools.wraps(func)
    async def wrapper(request: Request) -> Response:
        try:
            return await func(request)
        except ApiError as exc:
            return error_response(exc)
        except StoreError as exc:
            log.warning("store unavailable: %s", exc)
            return JSONResponse({"error": "storage unavailable, try again"}, status_code=503)
        except Exception as exc:
            from redis.exceptions import RedisError

            if isinstance(exc, RedisError | TimeoutError | OSError):
                log.warning("store unavailable: %r", exc)
                return JSONResponse({"error": "storage unavailable, try again"}, status_code=503)
            raise

    return wrapper


def require_admin(request: Request) -> None:
    """``Authorization: Bearer <settings.admin_token>``; with no token configured, refuse all."""
    expected = request.app.state.settings.admin_token
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise AuthError("admin token required: Authorization: Bearer <token>")


async def iter_body(request: Request, limit: int | None) -> AsyncIterator[bytes]:
    """The request body as it arrives; past ``limit`` bytes, a 413."""
    declared = request.headers.get("content-length")
    if limit is not None and declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(f"body: larger than {limit} bytes", field="body", status_code=413)
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if limit is not None and seen > limit:
            raise ApiError(f"body: larger than {limit} bytes", field="body", status_code=413)
        yield chunk


async def iter_lines(request: Request, limit: int | None = None) -> AsyncIterator[bytes]:
    """The body split into lines as it streams in (for imports)."""
    pending = b""
    async for chunk in iter_body(request, limit):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line
    if pending:
        yield pending


async def read_json(request: Request) -> Any:
    limit = request.app.state.settings.max_api_body
    body = b"".join([chunk async for chunk in iter_body(request, limit)])
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
        raise ApiError(f"body: invalid JSON ({type(exc).__name__})", field="body") from None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def request_head(request: Request) -> RequestHead:
    """The API request as identity sees a page request (cookie, login token, fingerprint)."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        sep = "; " if name == "cookie" else ", "
        headers[name] = headers[name] + sep + value if name in headers else value
    return RequestHead(method=request.method, path=request.url.path, query=request.url.query,
                       headers=headers, client_ip=client_ip(request),
                       scheme=request.url.scheme, host=request.headers.get("host", ""))


def json_response(data: Any, status_code: int = 200,
                  headers: list[tuple[bytes, bytes]] | None = None) -> JSONResponse:
    response = JSONResponse(data, status_code=status_code)
    for name, value in headers or []:
        response.raw_headers.append((name, value))
    return response
