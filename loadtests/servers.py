"""The servers a benchmark run compares, each started as its own process:

origin     a static origin: fixed 100 KB pages from memory (raw ASGI); ``?origin_ms=N``
           answers after N ms, as a shop that renders its pages does
bare       a bare pass-through proxy on aiohttp's client, nothing else: the hand-rolled proxy
           (design.md measured aiohttp the fastest general client to the origin)
lean       the same pass-through on the edge's own origin client (``edge.origin``): what the
           edge's proxying alone costs, so that edge/lean is what personalizing costs on top
httpx      a bare Starlette + plain httpx pass-through proxy, the naive baseline
edge       the edge itself (``--mode static``: fixed fills; ``--mode full``: the whole pipeline)

python -m loadtests.servers KIND --port N [--origin URL] [--mode static|full]
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

import uvicorn

from edge.cli import UVICORN_DEFAULTS

PAGE_SIZE = 100 * 1024


def bench_product() -> dict[str, Any]:
    """The demo catalog's first product: the page the benchmark serves is its product page."""
    from edge.demo.catalog import products

    return products()[0]


def make_page(slots: int) -> bytes:
    """A ~100 KB shop-like page; ``slots`` of its blocks are marked as slots."""
    product = bench_product()
    head = (
        "<!doctype html><html lang=pl><head><meta charset=utf-8><title>Sklep — buty</title>"
        '<meta name="edge:page-type" content="product">'
        f'<meta name="edge:product" content="{product["sku"]}">'
        f'<meta name="edge:category" content="{product["category"]}">'
        "<style>body{font-family:sans-serif}.card{display:inline-block;width:200px}</style>"
        "</head><body><header><nav><a href=/>Home</a> <a href=/c/shoes>Shoes</a></nav></header>"
        "<main>"
    )
    names = ["hero", "advisor", "recommendations"][:slots]
    parts = [head]
    for name in names:
        parts.append(f'<section data-edge-slot="{name}"><p>Default {name} content</p></section>')
    i = 0
    while sum(len(p) for p in parts) < PAGE_SIZE - 200:
        parts.append(
            f'<div class="card" id="p{i}"><a href="/p/SKU-{i:04d}"><img src="/img/{i}.jpg" '
            f'alt="Product {i}" width=200 height=200></a><h3>Trail runner model {i}</h3>'
            f"<p class=price>{199 + i % 300},99 zł</p><p>Lekki but do biegania w terenie, "
            f"amortyzacja, bieżnik {i % 7} mm.</p></div>\n"
        )
        i += 1
    parts.append("</main><footer>© Sklep</footer></body></html>")
    return "".join(parts).encode()


def origin_app() -> Any:
    """The pages from memory, at once; ``?origin_ms=N`` answers after N ms instead, as a shop
    that renders its pages does (up to 5 s)."""
    import asyncio
    from urllib.parse import parse_qs

    pages = {b"/noslot": make_page(0), b"/slots": make_page(3)}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = pages.get(scope.get("raw_path") or b"", pages[b"/noslot"])
        query = scope.get("query_string") or b""
        if query:
            delay = parse_qs(query.decode("latin-1")).get("origin_ms", ["0"])[0]
            with contextlib.suppress(ValueError):
                await asyncio.sleep(min(max(float(delay), 0.0), 5000.0) / 1000)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def bare_app(origin: str) -> Any:
    """The least a proxy can do with aiohttp: forward, copy status, headers and body."""
    import aiohttp

    state: dict[str, aiohttp.ClientSession] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    state["s"] = aiohttp.ClientSession(
                        auto_decompress=False, connector=aiohttp.TCPConnector(limit=100)
                    )
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await state["s"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        async with state["s"].request(scope["method"], origin + _target(scope)) as resp:
            await _pass_on(send, resp.status, resp.raw_headers, await resp.read())

    return app


def _target(scope: dict[str, Any]) -> str:
    query = scope.get("query_string") or b""
    return scope["path"] + ("?" + query.decode("latin-1") if query else "")


async def _pass_on(send: Any, status: int, raw_headers: Any, body: bytes) -> None:
    """The origin's response as is, less its hop-by-hop headers."""
    headers = [
        (k.lower(), v)
        for k, v in raw_headers
        if k.lower() not in (b"connection", b"transfer-encoding", b"keep-alive")
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def lean_app(origin: str) -> Any:
    """``bare_app`` on the edge's origin client."""
    from edge.origin import OriginClient

    state: dict[str, OriginClient] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    state["c"] = OriginClient(origin)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await state["c"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        async with await state["c"].request(scope["method"], _target(scope)) as resp:
            await _pass_on(send, resp.status, resp.raw_headers, await resp.read())

    return app


def httpx_app(origin: str) -> Any:
    import contextlib

    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        app.state.client = httpx.AsyncClient(base_url=origin)
        yield
        await app.state.client.aclose()

    async def proxy(request: Request) -> Response:
        r = await request.app.state.client.get(request.url.path)
        return Response(
            r.content,
            status_code=r.status_code,
            headers={"content-type": r.headers["content-type"]},
        )

    return Starlette(routes=[Route("/{path:path}", proxy)], lifespan=lifespan)


def edge_app(origin: str, mode: str, data_dir: str) -> Any:
    from edge.app import create_app
    from edge.page import Fills, StaticPersonalizer
    from edge.settings import Settings

    if mode in ("static", "script"):
        from edge.api.embed import script_tag

        fills = Fills(
            slots={
                "hero": '<div class="edge-w"><h2>Witaj Krzysztofie!</h2><p>-20% na buty</p></div>',
                "advisor": '<div class="edge-w"><p>Twój doradca: Anna, '
                '<a href="tel:+48123">tel</a></p></div>',
                "recommendations": '<div class="edge-w"><ul>'
                + "".join(f'<li><a href="/p/{i}">Produkt {i}</a></li>' for i in range(6))
                + "</ul></div>",
            },
        )
        settings = Settings(origin=origin, inject_script=False)
        if mode == "script":
            # The same fills plus what every proxied page gets before </body>: the script tag.
            fills.body_end = script_tag(settings, language="pl")
        return create_app(settings, lambda state: StaticPersonalizer(fills), use_redis=False)
    import asyncio

    from edge.demo_runner import DEMO_RULES, DEMO_SHOP_SECRET
    from edge.store.server import start_redis

    handle = start_redis(os.environ.get("REDIS_URL", ""), data_dir)
    settings = Settings(
        origin=origin,
        data_dir=data_dir,
        redis_url=handle.url,
        rules_dir=str(DEMO_RULES),
        shop_secret=DEMO_SHOP_SECRET,
    )
    cookie = asyncio.run(prepare_full(handle, settings))
    (Path(data_dir) / "rich-cookie.txt").write_text(cookie)
    if handle.embedded is not None:  # the benchmark counts the Redis's CPU with the edge's
        (Path(data_dir) / "redis.pid").write_text(str(handle.embedded.pid))
    return create_app(settings)


async def prepare_full(handle: Any, settings: Any) -> str:
    """Seed the demo catalog and history, and build one rich known profile: a contact with an
    advisor and loyalty points, 60 product views, a cart, likes and purchases. Returns the
    Cookie header value that makes a request that visitor."""
    from edge.demo.contacts import contacts
    from edge.demo_runner import seed
    from edge.page import RequestHead
    from edge.store.event_models import parse_batch
    from edge.store.events import EventWriter
    from edge.store.identity import Identity
    from edge.store.signing import make_login_token

    redis = handle.client(timeout=10)
    await seed(redis, settings)
    identity = Identity(settings, redis)
    contact = contacts()[0]
    token = make_login_token(settings.shop_secret, contact["contact_id"], email=contact["email"])
    head = RequestHead(
        "GET", "/", "", {"user-agent": "bench", "cookie": f"edge_login={token}"}, "127.0.0.1"
    )
    visitor = await identity.identify(head)
    product = bench_product()
    from edge.demo.catalog import products

    catalog = products()
    events: list[dict[str, Any]] = [{"type": "product_view", "sku": p["sku"]} for p in catalog[:60]]
    events += [
        {"type": "add_to_cart", "sku": p["sku"], "qty": 1, "price": p["price"]}
        for p in catalog[60:63]
    ]
    events += [{"type": "like", "sku": p["sku"]} for p in catalog[63:70]]
    events.append({"type": "product_view", "sku": product["sku"]})
    writer = EventWriter(redis, settings)
    for i in range(0, len(events), 50):
        chunk = events[i : i + 50]
        await writer.apply(visitor.id, parse_batch({"events": chunk}, len(chunk)))
    await redis.aclose()
    # What the browser holds after its first page: a cookie naming the profile itself.
    vid_cookie = identity.cookie_header(visitor.id).split(";")[0]
    return vid_cookie


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["origin", "bare", "lean", "httpx", "edge"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--origin", default="")
    parser.add_argument("--mode", default="static", choices=["static", "script", "full"])
    parser.add_argument("--data-dir", default="var/bench")
    parser.add_argument("--profile", help="write a cProfile of the serving phase to this file")
    args = parser.parse_args()
    if args.kind == "origin":
        app = origin_app()
    elif args.kind == "bare":
        app = bare_app(args.origin)
    elif args.kind == "lean":
        app = lean_app(args.origin)
    elif args.kind == "httpx":
        app = httpx_app(args.origin)
    else:
        app = edge_app(args.origin, args.mode, args.data_dir)
    if args.profile:
        import atexit
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

        def dump() -> None:
            profiler.disable()
            profiler.dump_stats(args.profile)

        atexit.register(dump)
    uvicorn.run(app, host="127.0.0.1", port=args.port, **UVICORN_DEFAULTS)


if __name__ == "__main__":
    main()
