"""The edge in front of the small test shop, plus a second origin that embeds the script."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.app import EdgeApp, create_app
from edge.settings import Settings
from edge.store.catalog import Product, save_products
from tests.browser.support import PRODUCTS, PagePersonalizer, Profiles, create_embedder, create_shop
from tests.support.servers import free_port, serve

SHOP_SECRET = "test-shop-secret"


def add_routes(app: EdgeApp) -> None:
    """The API routes the script talks to, unless the app already lists them."""
    from edge.api import embed, events, inbox

    routes = app.api.router.routes
    present = {(getattr(r, "path", None), tuple(sorted(getattr(r, "methods", None) or ())))
               for r in routes}
    for route in [*events.routes, *inbox.routes, *embed.routes]:
        if (route.path, tuple(sorted(route.methods or ()))) not in present:  # type: ignore[attr-defined]
            routes.append(route)


@dataclass
class Stack:
    shop: str
    edge: str
    embedder: str
    settings: Settings
    profiles: Profiles
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def personalizer(self) -> PagePersonalizer:
        return self.config["personalizer"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def run_stack(redis_url: str, data_dir: Path, *, banners: Mapping[str, Mapping[str, Any]],
              popups: Mapping[str, Mapping[str, Any]] | None = None,
              script_config: Mapping[str, Any] | None = None,
              **overrides: Any) -> Iterator[Stack]:
    edge_port = free_port()
    edge_url = f"http://127.0.0.1:{edge_port}"
    with serve(create_shop()) as shop_url, serve(create_embedder(edge_url)) as embedder_url:
        settings = Settings(origin=shop_url, redis_url=redis_url, data_dir=str(data_dir),
                            cors_origins=(embedder_url,), shop_secret=SHOP_SECRET,
                            # a shared, busy test machine: generous budgets, no flaky fail-open
                            personalize_timeout=5.0, redis_timeout=5.0, **overrides)
        holder: dict[str, Any] = {}

        def factory(state: Any) -> PagePersonalizer:
            holder["personalizer"] = PagePersonalizer(
                state, banners=banners, popups=popups or {},
                script_config={"flush_ms": 200, "exit_delay_ms": 0, **(script_config or {})})
            return holder["personalizer"]

        app = create_app(settings, factory)
        add_routes(app)
        profiles = Profiles(redis_url, settings)
        # each stack starts from an empty Redis: the catalog and co-occurrence data are shared
        profiles.run(lambda r: r.flushall())
        profiles.run(lambda r: save_products(r, [Product(**p) for p in PRODUCTS]))
        with serve(app, port=edge_port) as url:
            yield Stack(shop=shop_url, edge=url, embedder=embedder_url, settings=settings,
                        profiles=profiles, config=holder)
