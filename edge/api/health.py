"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    """Ready when the origin answers at all and Redis answers PING."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2):
            async with await state.origin_client.request("HEAD", "/") as resp:
                checks["origin"] = "ok" if resp.status < 500 else f"status {resp.status}"
    except Exception as exc:
        checks["origin"] = f"unreachable: {type(exc).__name__}"
    redis = getattr(state, "redis", None)
    if redis is None:
        checks["redis"] = "not configured"
    else:
        try:
            async with asyncio.timeout(1):
                await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)


routes: list[BaseRoute] = [
    Route("/_edge/health", health, methods=["GET", "HEAD"]),
    Route("/_edge/ready", ready, methods=["GET", "HEAD"]),
]
