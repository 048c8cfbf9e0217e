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


async def seed(redis: Any) -> dict[str, Any]:
    """Load the demo catalog and contacts into Redis (idempotent: rows are upserts)."""
    from edge.demo.catalog import products
    from edge.demo.contacts import contacts
    from edge.store.imports import import_catalog, import_contacts

    catalog_report = await import_catalog(redis, products(), fmt="dicts")
    contacts_report = await import_contacts(redis, contacts(), fmt="dicts")
    return {"catalog": catalog_report, "contacts": contacts_report}


def demo_settings(*, host: str, port: int, shop_url: str, redis_url: str, data_dir: str,
                  admin_token: str) -> Settings:
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


async def run_demo(*, port: int, shop_port: int, data_dir: str, host: str = "127.0.0.1",
                   open_browser: bool = False) -> int:
    from edge.app import create_app
    from edge.cli import UVICORN_DEFAULTS
    from edge.demo.catalog import products
    from edge.demo.shop import create_shop
    from edge.store.server import start_redis

    handle = start_redis("", data_dir)
    redis = handle.client(timeout=5)
    try:
        report = await seed(redis)
        log.info("seeded the demo data: %s", {k: getattr(v, "ok", v) for k, v in report.items()})
        shop_url = f"http://{host}:{shop_port}"
        admin_token = secrets.token_urlsafe(18)
        settings = demo_settings(host=host, port=port, shop_url=shop_url, redis_url=handle.url,
                                 data_dir=data_dir, admin_token=admin_token)
        shop = create_shop(products(), shop_secret=DEMO_SHOP_SECRET)
        uv = {k: v for k, v in UVICORN_DEFAULTS.items() if k not in ("server_header", "date_header")}
        shop_server = _Server(uvicorn.Config(shop, host=host, port=shop_port, **uv))
        edge_server = _Server(uvicorn.Config(create_app(settings), host=host, port=port,
                                             **UVICORN_DEFAULTS))
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
