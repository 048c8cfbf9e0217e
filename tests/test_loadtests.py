"""The load-test visitor mix runs against the demo shop behind the edge without a failure."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.app import create_app
from edge.demo.catalog import products
from edge.demo.shop import create_shop
from edge.demo_runner import DEMO_RULES, DEMO_SHOP_SECRET
from edge.settings import Settings
from edge.store.server import RedisHandle
from tests.support.servers import serve

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture
def edge(redis_handle: RedisHandle, tmp_path: Path) -> Iterator[str]:
    with serve(create_shop(products(), shop_secret=DEMO_SHOP_SECRET)) as shop:
        settings = Settings(origin=shop, redis_url=redis_handle.url, data_dir=str(tmp_path),
                            rules_dir=str(DEMO_RULES), shop_secret=DEMO_SHOP_SECRET,
                            rate_limit_per_ip=100000)
        with serve(create_app(settings)) as url:
            yield url


def test_locust_visitor_mix_runs_clean(edge: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"),
         "--headless", "-u", "6", "-r", "6", "-t", "6s", "--host", edge, "--only-summary",
         "--exit-code-on-error", "1"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "home" in out and "product" in out and "events" in out
    assert "0(0.00%)" in out  # the aggregated line: no failed request


def test_bench_proxies_pass_the_query_on_to_the_origin() -> None:
    """The benchmark's slow-origin runs (``?origin_ms=N``) reach the origin through the bare
    and lean proxies, which serve the page its path names."""
    from loadtests.servers import bare_app, lean_app, make_page, origin_app

    seen: list[bytes] = []
    inner = origin_app()

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope.get("query_string") or b"")
        await inner(scope, receive, send)

    with serve(recording, lifespan="off") as origin:
        for make in (bare_app, lean_app):
            with serve(make(origin)) as proxy:
                seen.clear()
                page = httpx.get(f"{proxy}/slots?origin_ms=1", timeout=10)
                assert page.status_code == 200
                assert page.content == make_page(3)
                assert seen == [b"origin_ms=1"]
                # A delay that is not a number is ignored: the page comes at once.
                assert httpx.get(f"{origin}/noslot?origin_ms=soon").content == make_page(0)
