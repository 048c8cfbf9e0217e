"""CPU per profile load: the bench's rich profile against an empty one, on a real embedded Redis.

    python loadtests/bench_profile.py [--loads 1000] [--rounds 7]

Builds the rich known profile the page benchmark uses (``loadtests.servers.prepare_full``: a
contact with an advisor and loyalty points, 60 product views, a cart, likes, purchases), gives
it a few page views and placement impressions as a browsing visitor has, then times
``Store.load(pid, PAGE_LOAD_LIMITS)`` in this process (CPU time, so Redis's own work is not
counted) for:

rich            the same profile loaded again and again (nothing changed in between)
rich+pageview   a page view is recorded between two loads (not timed), as on a real visit
rich-cold       every load with an empty parse cache: what the first page of a visitor costs
empty           an id with no profile
redis-py        the floor: one EVALSHA of a script that returns an empty string, and a PING,
                through the client, and the same EVALSHA pre-packed on a pooled connection

Prints µs CPU per call (best of ``--rounds`` interleaved rounds) and the rich/empty ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def _cpu_us(call: Callable[[], Awaitable[Any]], n: int,
                  between: Callable[[], Awaitable[Any]] | None = None,
                  before: Callable[[], None] | None = None) -> float:
    """CPU µs per call over ``n`` calls; ``between`` and ``before`` run untimed before each."""
    spent = 0.0
    for _ in range(n):
        if between is not None:
            await between()
        if before is not None:
            before()
        started = time.process_time()
        await call()
        spent += time.process_time() - started
    return spent / n * 1e6


async def _best(cases: dict[str, Callable[[], Awaitable[float]]], rounds: int
                ) -> dict[str, float]:
    """Each case once per round, interleaved (the machine's load drifts), best round kept."""
    best = {name: float("inf") for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            best[name] = min(best[name], await case())
    return best


async def run(loads: int, rounds: int) -> None:
    from edge.demo.contacts import contacts
    from edge.demo_runner import DEMO_SHOP_SECRET
    from edge.page import RequestHead
    from edge.personalize import PAGE_LOAD_LIMITS
    from edge.settings import Settings
    from edge.store import keys
    from edge.store.identity import Visitor
    from edge.store.profile import text
    from edge.store.server import start_redis
    from edge.store.store import Store
    from loadtests.servers import prepare_full

    with tempfile.TemporaryDirectory() as data_dir:
        handle = start_redis("", data_dir)
        try:
            assert handle.embedded is not None
            handle.embedded.config_set("appendfsync", "no")  # writes are not what is measured
            settings = Settings(data_dir=data_dir, redis_url=handle.url,
                                shop_secret=DEMO_SHOP_SECRET)
            await prepare_full(handle, settings)
            redis = handle.client(timeout=5)
            pid = text(await redis.get(keys.contact_key(contacts()[0]["contact_id"])))
            store = Store(redis, settings)
            assert store.events is not None
            visitor = Visitor(id=pid, visitor_id=pid, known=True)
            n_page = 0

            async def page_view() -> None:
                nonlocal n_page
                n_page += 1
                head = RequestHead("GET", f"/p/{n_page % 40}", "", {"user-agent": "bench"},
                                   "127.0.0.1", host="shop.test")
                await store.record_page_view(visitor, head, f"Page {n_page % 40}")

            for _ in range(15):
                await page_view()
            from edge.store.event_models import parse_batch

            await store.events.apply(pid, parse_batch({"events": [
                {"type": "impression", "placement": p, "variant": "a"}
                for p in ("hero", "advisor", "recommendations")]}, 10))

            profile = await store.load(pid, PAGE_LOAD_LIMITS)
            print(f"rich profile: {len(profile.product_views)} product views, "
                  f"{len(profile.page_views)} page views, {len(profile.cart)} cart lines, "
                  f"{len(profile.likes)} likes, {len(profile.purchases)} purchases, "
                  f"{len(profile.placements)} placements, known={profile.known}")

            def load(who: str) -> Callable[[], Awaitable[Any]]:
                return lambda: store.load(who, PAGE_LOAD_LIMITS)

            clear = getattr(store, "clear_cache", None)
            empty_sha = await redis.script_load("return ''")
            cases: dict[str, Callable[[], Awaitable[float]]] = {
                "rich": lambda: _cpu_us(load(pid), loads),
                "rich+pageview": lambda: _cpu_us(load(pid), loads // 4, between=page_view),
                "rich-cold": lambda: _cpu_us(load(pid), loads // 4, before=clear),
                "empty": lambda: _cpu_us(load("nobody-here"), loads),
                "redis-py evalsha": lambda: _cpu_us(lambda: redis.evalsha(empty_sha, 0), loads),
                "redis-py ping": lambda: _cpu_us(redis.ping, loads),
            }
            try:  # the pre-packed call on a pooled connection (the profile load's path)
                from edge.store import rawcall

                packed = rawcall.pack(b"EVALSHA", empty_sha.encode(), b"0")
                cases["pooled raw evalsha"] = lambda: _cpu_us(
                    lambda: rawcall.call(redis, packed), loads)
            except ImportError:
                pass
            results = await _best(cases, rounds)
            if clear is None:
                print("(no parse cache in this version: rich-cold is the same path as rich)")
            for name, us in results.items():
                print(f"{name:18s} {us:8.1f} µs CPU per call")
            empty = results["empty"]
            for name in ("rich", "rich+pageview", "rich-cold"):
                print(f"{name} / empty: {results[name] / empty:.2f}x")
            await redis.aclose()
        finally:
            handle.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    uvloop.run(run(args.loads, args.rounds))  # the edge's event loop


if __name__ == "__main__":
    main()
