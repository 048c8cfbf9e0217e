from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from edge.store.events import placement_stats
from edge.store.store import Store
from tests.api.conftest import build_app
from tests.store.factories import make_settings

URL = "/_edge/api/events"
GOOD = {"type": "page_view", "url": "https://shop.test/", "title": "Home"}


async def snapshot(redis: Any) -> dict[str, Any]:
    """Every key but the rate-limit counters, with its type, to prove nothing was written."""
    names = sorted(k for k in await redis.keys("edge:*") if not k.startswith(b"edge:rl:"))
    return {k: await redis.type(k) for k in names}


async def test_events_are_accepted_and_a_new_visitor_gets_a_cookie(
    client: httpx.AsyncClient, redis: Any
) -> None:
    r = await client.post(URL, json={"events": [GOOD, {"type": "like", "sku": "A"}]})
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "visitor": {"known": False, "visit": 1, "new_visit": True}}
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("edge_vid=") and "HttpOnly" in cookie
    # the same visitor continues with the cookie (httpx keeps it)
    r = await client.post(URL, json={"events": [{"type": "like", "sku": "B"}]})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    vid = client.cookies["edge_vid"].split(".")[1]
    assert (await Store(redis).load(vid)).likes == ["B", "A"]


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"not json", 400, "body"),
    (b"\xff\xfe\x00{", 400, "body"),
    (b"[" * 100_000, 400, "body"),
    (b'{"events": [{"type": "custom", "name": "x", "params": {"a": ' + b"[" * 900 + b"]" * 900
     + b"}}]}", 400, "events[0].params"),
    (b'{"events": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}", 400, "body"),
    (b"[]", 400, "events"),
    (b'{"events": {}}', 400, "events"),
    (b'{"events": []}', 400, "events"),
    (json.dumps({"events": [GOOD, {"type": "like"}]}).encode(), 400, "events[1].sku"),
    (json.dumps({"events": [GOOD, {"type": "nope"}]}).encode(), 400, "events[1].type"),
    (json.dumps({"events": [GOOD, 42]}).encode(), 400, "events[1]"),
    (json.dumps({"events": [{"type": "page_view"}]}).encode(), 400, "events[0].url"),
    (json.dumps({"events": [{"type": "add_to_cart", "sku": "A", "qty": -1}]}).encode(), 400,
     "events[0].qty"),
    (json.dumps({"events": [{"type": "add_to_cart", "sku": "A", "price": "free"}]}).encode(), 400,
     "events[0].price"),
    (json.dumps({"events": [GOOD, {"type": "purchase", "order_id": "1", "value": 5,
                                   "currency": "PLN", "items": [{"qty": 1}]}]}).encode(), 400,
     "events[1].items[0].sku"),
    (json.dumps({"events": [{"type": "consent", "name": "x", "granted": "maybe"}]}).encode(), 400,
     "events[0].granted"),
    (json.dumps({"events": [{"type": "preference", "name": "x", "value": {"a": 1}}]}).encode(),
     400, "events[0].value"),
    (json.dumps({"events": [{"type": "impression", "placement": ""}]}).encode(), 400,
     "events[0].placement"),
    (json.dumps({"events": [GOOD, {"type": "like", "sku": "A", "ts": -5}]}).encode(), 400,
     "events[1].ts"),
    (json.dumps({"events": [GOOD] * 101}).encode(), 413, "events"),
    (json.dumps({"events": [{"type": "custom", "name": "big", "params": {"a": "x" * 3000}}] * 100}
                ).encode(), 413, "body"),
])
async def test_bad_payloads_are_4xx_and_write_nothing(
    client: httpx.AsyncClient, redis: Any, body: bytes, status: int, field: str
) -> None:
    before = await snapshot(redis)
    r = await client.post(URL, content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["field"] == field and r.json()["error"].startswith(field)
    assert await snapshot(redis) == before


async def test_rate_limits(redis: Any) -> None:
    settings = make_settings(rate_limit_per_visitor=5, rate_limit_per_ip=1000)
    transport = httpx.ASGITransport(app=build_app(settings, redis))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        r = await client.post(URL, json={"events": [GOOD] * 4})
        assert r.status_code == 200
        r = await client.post(URL, json={"events": [GOOD] * 2})
        assert r.status_code == 429 and r.headers["retry-after"] == "60"
        vid = client.cookies["edge_vid"].split(".")[1]
        assert (await Store(redis).load(vid)).page_views_total == 4
    settings = make_settings(rate_limit_per_ip=3)
    transport = httpx.ASGITransport(app=build_app(settings, redis), client=("192.0.2.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        codes = [(await client.post(URL, json={"events": [GOOD]})).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


async def test_placement_feedback_counts_for_experiments(
    client: httpx.AsyncClient, redis: Any
) -> None:
    feedback = [{"type": "impression", "placement": "hero", "variant": "a"},
                {"type": "impression", "placement": "hero", "variant": "b"},
                {"type": "click", "placement": "hero", "variant": "b"},
                {"type": "purchase", "order_id": "o1", "value": 10, "currency": "PLN",
                 "items": [{"sku": "A", "qty": 1, "price": 10}]}]
    assert (await client.post(URL, json={"events": feedback})).status_code == 200
    assert await placement_stats(redis) == {"hero": {
        "a": {"impressions": 1, "clicks": 0, "conversions": 0, "closes": 0},
        "b": {"impressions": 1, "clicks": 1, "conversions": 1, "closes": 0}}}


async def test_answers_carry_cors_headers_for_allowed_origins(redis: Any) -> None:
    settings = make_settings(cors_origins=("https://shop.example",))
    transport = httpx.ASGITransport(app=build_app(settings, redis))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge.test") as client:
        ok = await client.post(URL, json={"events": [GOOD]},
                               headers={"origin": "https://shop.example"})
        bad = await client.post(URL, json={"events": []},
                                headers={"origin": "https://shop.example"})
        other = await client.post(URL, json={"events": [GOOD]},
                                  headers={"origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    assert bad.status_code == 400
    assert bad.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in other.headers
