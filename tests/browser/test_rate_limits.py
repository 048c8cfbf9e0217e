"""The public API calls the script makes are rate-limited per address (real server, real Redis).

A module of its own: its stack starts from an empty Redis, which must not pull the data from
under another module's stack.
"""

from __future__ import annotations

import httpx
import pytest

from edge.store.server import RedisHandle
from tests.browser.stack import run_stack


def test_public_calls_are_rate_limited_per_address(redis_handle: RedisHandle,
                                                   tmp_path_factory: pytest.TempPathFactory
                                                   ) -> None:
    with run_stack(redis_handle.url, tmp_path_factory.mktemp("limited"), banners={},
                   rate_limit_per_ip=4) as limited, \
            httpx.Client(base_url=limited.edge, timeout=10) as client:
        answers = [client.get("/_edge/api/inbox").status_code for _ in range(3)]
        answers += [client.get("/_edge/api/slots", params={
            "url": "https://shop.example/", "slots": "hero"}).status_code for _ in range(2)]
        assert answers == [200, 200, 200, 200, 429]
        limited_answer = client.get("/_edge/api/inbox")
        assert limited_answer.status_code == 429
        assert "try again" in limited_answer.json()["error"]
