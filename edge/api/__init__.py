"""The edge's own HTTP API, under /_edge/. Route lists are collected here explicitly."""

from __future__ import annotations

from starlette.routing import BaseRoute

from edge.api import embed, events, explain, health, identify, imports, inbox, privacy


def api_routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *events.routes,
        *identify.routes,
        *imports.routes,
        *privacy.routes,
        *inbox.routes,
        *explain.routes,
        # last: its OPTIONS catch-all answers CORS preflights for every API route
        *embed.routes,
    ]
