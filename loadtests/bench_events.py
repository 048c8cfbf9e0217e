"""Events ingest through the real events API: events/s at 16 concurrent connections.

    python loadtests/bench_events.py [--connections 16] [--batch 10] [--seconds 10]
                                     [--appendfsync always|everysec]

Starts an embedded Redis (AOF, fsync always, as the edge runs it) in a temp dir and the events
API under uvicorn in its own process on loopback; then 16 clients, each one visitor with its own
cookie and one keep-alive connection, post batches of mixed events as fast as answers come back.
Prints requests/s, events/s and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def batch(i: int, size: int) -> dict[str, Any]:
    kinds = [
        {"type": "page_view", "url": f"https://shop.test/p/{i % 50}", "title": "Product",
         "duration_ms": 3000},
        {"type": "product_view", "sku": f"SKU-{i % 50:04d}"},
        {"type": "impression", "placement": "hero", "variant": "ab"[i % 2]},
        {"type": "add_to_cart", "sku": f"SKU-{i % 7:04d}", "qty": 1, "price": 99.0},
        {"type": "custom", "name": "calc", "params": {"amount": i}},
    ]
    return {"events": [kinds[(i + k) % len(kinds)] for k in range(size)]}


def serve(port: int, data_dir: str, appendfsync: str) -> None:
    """The server process: the events API on a fresh embedded Redis."""
    import contextlib

    import uvicorn
    from starlette.applications import Starlette

    from edge.api import events
    from edge.settings import Settings
    from edge.store.identity import Identity
    from edge.store.server import start_redis
    from edge.store.store import Store

    settings = Settings(rate_limit_per_visitor=10**9, rate_limit_per_ip=10**9, fingerprint=False)
    handle = start_redis("", data_dir)
    if appendfsync != "always" and handle.embedded is not None:
        # Only to see what durability costs; the edge runs "always".
        handle.embedded.config_set("appendfsync", appendfsync)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        from redis.asyncio import BlockingConnectionPool, Redis

        pool = BlockingConnectionPool.from_url(handle.url, max_connections=64, timeout=5)
        redis = Redis(connection_pool=pool)
        app.state.settings, app.state.redis = settings, redis
        app.state.store, app.state.identity = Store(redis, settings), Identity(settings, redis)
        yield
        await redis.aclose()

    app = Starlette(routes=events.routes, lifespan=lifespan)
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop",
                    http="httptools", access_log=False)
    finally:
        handle.close()


async def client(url: str, n: int, size: int, until: float, latencies: list[float]) -> int:
    import aiohttp

    accepted = 0
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        i = n * 1000
        while time.perf_counter() < until:
            started = time.perf_counter()
            async with session.post(url, json=batch(i, size)) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}: {body}")
            latencies.append(time.perf_counter() - started)
            accepted += body["accepted"]
            i += 1
    return accepted


async def run(base: str, connections: int, size: int, seconds: float) -> None:
    latencies: list[float] = []
    # a short warm-up, then the measured run
    await asyncio.gather(*[client(base + "/_edge/api/events", n, size, time.perf_counter() + 1,
                                  []) for n in range(connections)])
    started = time.perf_counter()
    counts = await asyncio.gather(*[
        client(base + "/_edge/api/events", n, size, started + seconds, latencies)
        for n in range(connections)])
    elapsed = time.perf_counter() - started
    events = sum(counts)
    lat = sorted(latencies)
    print(f"connections={connections} batch={size} seconds={elapsed:.1f}")
    print(f"requests/s {len(lat) / elapsed:,.0f}")
    print(f"events/s {events / elapsed:,.0f}")
    print(f"latency ms p50={statistics.median(lat) * 1000:.2f} "
          f"p99={lat[int(len(lat) * 0.99) - 1] * 1000:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--appendfsync", choices=["always", "everysec"], default="always",
                        help="Redis fsync policy (the edge runs always; everysec to compare)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data, args.appendfsync)
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--data", data,
                                   "--appendfsync", args.appendfsync],
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the events API server did not start") from None
                    time.sleep(0.1)
            asyncio.run(run(f"http://127.0.0.1:{port}", args.connections, args.batch,
                            args.seconds))
        finally:
            server.terminate()
            server.wait(15)


if __name__ == "__main__":
    main()
