"""The edge as one ASGI app: /_edge/* goes to the edge's own API, everything else to the shop.

Everything stateful (the origin connection pool, Redis, the personalizer) is created in the
lifespan from the one ``Settings`` object and lives on the app's state: no globals.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette

from edge.api import api_routes
from edge.page import NullPersonalizer, Personalizer
from edge.proxy import Proxy, make_origin_client
from edge.settings import Settings
from edge.slots import SlotPlanner

log = logging.getLogger("edge")

# Builds the personalizer once the app's state (settings, redis, ...) exists.
PersonalizerFactory = Callable[[Any], Personalizer]


class EdgeApp:
    def __init__(self, settings: Settings, personalizer: PersonalizerFactory | None = None,
                 *, use_redis: bool = True):
        settings.require_origin()
        self.settings = settings
        self._personalizer_factory = personalizer
        self._use_redis = use_redis
        self.proxy: Proxy | None = None
        self.api = Starlette(routes=api_routes(), lifespan=self._lifespan)
        self.state = self.api.state
        self.state.settings = settings

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        settings = self.settings
        state = self.state
        state.origin_client = make_origin_client(settings)
        state.redis = None
        handle = None
        if self._use_redis:
            from edge.store.server import start_redis

            handle = start_redis(settings.redis_url, settings.data_dir)
            state.redis_handle = handle
            state.redis = handle.client(timeout=settings.redis_timeout)
            from edge.store.identity import Identity
            from edge.store.store import Store

            state.identity = Identity(settings, state.redis)
            state.store = Store(state.redis, settings)
        personalizer = (self._personalizer_factory(state) if self._personalizer_factory
                        else default_personalizer(state))
        state.personalizer = personalizer
        starter = getattr(personalizer, "start", None)
        if starter is not None:
            await starter()
        self.proxy = Proxy(settings, state.origin_client, personalizer,
                           SlotPlanner(verify=settings.verify_slots,
                                       cache_size=settings.slot_plan_cache_size))
        try:
            yield
        finally:
            closer = getattr(personalizer, "aclose", None)
            if closer is not None:
                await closer()
            await state.origin_client.close()
            if state.redis is not None:
                from edge.store.mux import close_for

                await close_for(state.redis)
                await state.redis.aclose()
            if handle is not None:
                handle.close()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith("/_edge/"):
                await self.api(scope, receive, send)
            elif self.proxy is not None:
                await self.proxy(scope, receive, send)
            else:  # served without a lifespan: nothing is wired
                await self.api(scope, receive, send)
        elif kind == "lifespan":
            await self.api(scope, receive, send)
        else:  # websockets are not proxied
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1003})


def default_personalizer(state: Any) -> Personalizer:
    """The full pipeline when its parts are available, else a plain proxy."""
    if getattr(state, "redis", None) is None:
        log.warning("no Redis: the edge runs as a plain proxy")
        return NullPersonalizer()
    from edge.personalize import build_personalizer

    return build_personalizer(state)


def create_app(settings: Settings, personalizer: PersonalizerFactory | None = None,
               *, use_redis: bool = True) -> EdgeApp:
    return EdgeApp(settings, personalizer, use_redis=use_redis)
