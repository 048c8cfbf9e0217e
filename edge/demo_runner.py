"""``edge demo``: the demo shop as the origin, the edge in front of it, one embedded Redis."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path
from typing import Any

import uvicorn

from edge.settings import Settings

log = logging.getLogger("edge.demo")

DEMO_SHOP_SECRET = "demo-shop-secret"
ROOT = Path(__file__).resolve().parent.parent
DEMO_RULES = ROOT / "rules" / "examples" / "demo"


class _Server(uvicorn.Server):
    """Lets two servers share one event loop and one Ctrl-C."""

    def install_signal_handlers(self) -> None:
        pass


async def seed(redis: Any, settings: Settings | None = None) -> dict[str, Any]:
    """Load the demo catalog and contacts (with their past orders) into Redis (rows are
    upserts), and, on a fresh Redis, a few hundred earlier shopper sessions, so bestsellers and
    viewed/bought-together have data from the start."""
    from edge.demo.catalog import products
    from edge.demo.contacts import contacts
    from edge.store.imports import import_catalog, import_contacts

    catalog_report = await import_catalog(redis, products(), fmt="dicts")
    contacts_report = await import_contacts(redis, contacts(), fmt="dicts")
    report: dict[str, Any] = {"catalog": catalog_report, "contacts": contacts_report}
    if settings is not None and await redis.set("edge:demo:history-seeded", "1", nx=True):
        report["sessions"] = await seed_history(redis, settings)
    return report


async def seed_history(redis: Any, settings: Settings, sessions: int = 300) -> int:
    """Replay synthetic shopper sessions through the real event pipeline (deterministic).
    The contacts' own past orders come with the contacts import."""
    import random

    from edge.demo.catalog import products
    from edge.store.event_models import parse_batch
    from edge.store.events import EventWriter
    from edge.store.signing import new_visitor_id

    writer = EventWriter(redis, settings)
    rng = random.Random(7)
    catalog = [p for p in products() if p["stock"] > 0]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for p in catalog:
        by_category.setdefault(p["category"], []).append(p)
    # Some categories and products are simply more popular.
    categories = sorted(by_category)
    cat_weights = [rng.random() ** 2 + 0.05 for _ in categories]
    for n in range(sessions):
        category = rng.choices(categories, cat_weights)[0]
        pool = by_category[category]
        viewed = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
        events: list[dict[str, Any]] = [{"type": "product_view", "sku": p["sku"]} for p in viewed]
        if rng.random() < 0.35:
            bought = viewed[: rng.randint(1, min(2, len(viewed)))]
            items = [{"sku": p["sku"], "qty": 1, "price": p["price"]} for p in bought]
            events.append(
                {
                    "type": "purchase",
                    "order_id": f"demo-{n}",
                    "items": items,
                    "value": round(sum(i["price"] for i in items), 2),
                    "currency": "PLN",
                }
            )
        await writer.apply(new_visitor_id(), parse_batch({"events": events}, len(events)))
    return sessions


def demo_settings(
    *, host: str, port: int, shop_url: str, redis_url: str, data_dir: str, admin_token: str
) -> Settings:
    return Settings(
        host=host,
        port=port,
        origin=shop_url,
        redis_url=redis_url,
        data_dir=data_dir,
        shop_secret=DEMO_SHOP_SECRET,
        admin_token=admin_token,
        default_language="pl",
        rules_dir=str(DEMO_RULES) if DEMO_RULES.is_dir() else "",
        cors_origins=(f"http://{host}:{port}",),
    )


async def run_demo(
    *, port: int, shop_port: int, data_dir: str, host: str = "127.0.0.1", open_browser: bool = False
) -> int:
    from edge.app import create_app
    from edge.cli import UVICORN_DEFAULTS
    from edge.demo.catalog import products
    from edge.demo.shop import create_shop
    from edge.store.server import start_redis

    handle = start_redis("", data_dir)
    redis = handle.client(timeout=5)
    try:
        shop_url = f"http://{host}:{shop_port}"
        admin_token = secrets.token_urlsafe(18)
        settings = demo_settings(
            host=host,
            port=port,
            shop_url=shop_url,
            redis_url=handle.url,
            data_dir=data_dir,
            admin_token=admin_token,
        )
        report = await seed(redis, settings)
        log.info("seeded the demo data: %s", report)
        shop = create_shop(products(), shop_secret=DEMO_SHOP_SECRET)
        uv = {
            k: v for k, v in UVICORN_DEFAULTS.items() if k not in ("server_header", "date_header")
        }
        shop_server = _Server(uvicorn.Config(shop, host=host, port=shop_port, **uv))
        edge_server = _Server(
            uvicorn.Config(create_app(settings), host=host, port=port, **UVICORN_DEFAULTS)
        )
        shop_task = asyncio.create_task(shop_server.serve())
        edge_task = asyncio.create_task(edge_server.serve())
        while not (shop_server.started and edge_server.started):
            if shop_task.done() or edge_task.done():
                break
            await asyncio.sleep(0.05)
        if shop_server.started and edge_server.started:
            print(
                "\n  The demo shop behind the edge is running.\n"
                f"  Open  http://{host}:{port}/\n"
                f"  (the shop itself, unpersonalized: {shop_url}/)\n"
                "  Demo logins: see the shop's /login page (password: demo)\n"
                f"  Admin token for /_edge/api: {admin_token}\n"
                "  Ctrl-C stops it.\n",
                flush=True,
            )
        try:
            await asyncio.gather(shop_task, edge_task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            shop_server.should_exit = edge_server.should_exit = True
        return 0
    finally:
        await redis.aclose()
        handle.close()
