"""The events API under a real uvicorn server on loopback, many clients at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette

from edge.api import events
from edge.store.events import placement_stats
from edge.store.identity import Identity
from edge.store.server import RedisHandle
from edge.store.store import Store
from tests.store.factories import make_settings
from tests.support.servers import serve


def server_app(handle: RedisHandle) -> Starlette:
    settings = make_settings(rate_limit_per_visitor=10_000, rate_limit_per_ip=10_000)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # the server's own client, on the server's event loop
        redis = handle.client(timeout=5)
        app.state.settings, app.state.redis = settings, redis
        app.state.store, app.state.identity = Store(redis, settings), Identity(settings, redis)
        yield
        await redis.aclose()

    return Starlette(routes=events.routes, lifespan=lifespan)


async def test_concurrent_visitors_through_a_real_server(
    redis: Any, redis_handle: RedisHandle
) -> None:
    with serve(server_app(redis_handle)) as base:

        async def visitor(n: int) -> str:
            async with httpx.AsyncClient(base_url=base) as client:
                for i in range(4):
                    r = await client.post("/_edge/api/events", json={"events": [
                        {"type": "impression", "placement": "hero", "variant": "ab"[n % 2]},
                        {"type": "page_view", "url": f"https://shop.test/{n}/{i}"},
                        {"type": "like", "sku": f"S{n}-{i}"},
                    ]})
                    assert r.status_code == 200, r.text
                return client.cookies["edge_vid"].split(".")[1]

        ids = await asyncio.gather(*[visitor(n) for n in range(20)])
    assert len(set(ids)) == 20  # each client kept its own cookie and visitor
    stats = await placement_stats(redis)
    assert stats["hero"]["a"]["impressions"] + stats["hero"]["b"]["impressions"] == 80
    store = Store(redis)
    for n, vid in enumerate(ids):
        profile = await store.load(vid)
        assert profile.page_views_total == 4
        assert sorted(profile.likes) == [f"S{n}-{i}" for i in range(4)]
