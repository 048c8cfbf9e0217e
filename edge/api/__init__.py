"""The edge's own HTTP API, under /_edge/. Route lists are collected here explicitly."""

from __future__ import annotations

from starlette.routing import BaseRoute

from edge.api import health


def api_routes() -> list[BaseRoute]:
    return [*health.routes]
