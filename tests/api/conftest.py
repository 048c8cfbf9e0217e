"""A tiny Starlette app with the store's API routes and state, on the real embedded Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from edge.api import events, identify, imports, privacy
from edge.settings import Settings
from edge.store.identity import Identity
from edge.store.store import Store
from tests.store.factories import make_settings

ADMIN = {"authorization": "Bearer admin-token-for-tests"}


def build_app(settings: Settings, redis: Any) -> Starlette:
    app = Starlette(routes=[*events.routes, *identify.routes, *imports.routes, *privacy.routes])
    app.state.settings = settings
    app.state.redis = redis
    app.state.store = Store(redis, settings)
    app.state.identity = Identity(settings, redis)
    return app


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def client(redis: Any, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(settings, redis), client=("198.51.100.4", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
        yield c
