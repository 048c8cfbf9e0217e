"""The whole edge: the demo shop as the origin, a real embedded Redis, the demo rules, every
stage wired as ``edge serve`` wires it. What a shop owner would check by hand."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edge.app import create_app
from edge.demo.catalog import products
from edge.demo.shop import create_shop
from edge.demo_runner import DEMO_RULES, DEMO_SHOP_SECRET, seed
from edge.settings import Settings
from edge.store.server import RedisHandle
from tests.support.servers import free_port, serve

ADMIN = "test-admin-token"


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with serve(create_shop(products(), shop_secret=DEMO_SHOP_SECRET)) as url:
        yield url


@pytest.fixture(scope="module")
def seeded(redis_handle: RedisHandle) -> RedisHandle:
    async def run() -> None:
        client = redis_handle.client(timeout=10)
        await client.flushall()
        settings = Settings(origin="http://127.0.0.1:1", redis_url=redis_handle.url)
        await seed(client, settings)
        await client.aclose()

    asyncio.run(run())
    return redis_handle


def _settings(shop: str, redis_url: str, tmp: Path, **over: object) -> Settings:
    values: dict[str, object] = dict(
        origin=shop, redis_url=redis_url, data_dir=str(tmp), rules_dir=str(DEMO_RULES),
        shop_secret=DEMO_SHOP_SECRET, admin_token=ADMIN, default_language="pl",
    )
    values.update(over)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def edge(shop: str, seeded: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = _settings(shop, seeded.url, tmp_path_factory.mktemp("edge"))
    with serve(create_app(settings)) as url:
        yield url


def _slot(html: str, name: str) -> str:
    m = re.search(rf'data-edge-slot="{name}"[^>]*>(.*?)</(?:section|aside|div)>\s*<', html, re.S)
    return m.group(1) if m else ""


def _placements(html: str) -> set[str]:
    return set(re.findall(r'data-edge-placement="([^"]+)"', html))


def test_new_visitor_gets_a_cookie_and_a_personalized_page(edge: str) -> None:
    with httpx.Client(timeout=10) as c:
        r = c.get(edge + "/")
        assert r.status_code == 200
        assert "edge_vid" in r.cookies
        assert r.headers["cache-control"] == "private, no-cache"
        assert "hero_welcome" in _placements(r.text)
        assert "Witaj w Szczycie" in r.text  # the shop's default language is Polish
        assert 'data-edge-end=""' in r.text and "/_edge/static/edge." in r.text
        # The second request is the same visitor: no new cookie.
        again = c.get(edge + "/")
        assert "edge_vid" not in again.cookies


def test_page_views_are_recorded_off_the_response_path(edge: str, seeded: RedisHandle) -> None:
    with httpx.Client(timeout=10) as c:
        c.get(edge + "/")
        sku = products()[3]["sku"]
        c.get(edge + f"/p/{sku}")
        vid = c.cookies["edge_vid"].split(".")[1]

    async def views() -> list[str]:
        from edge.store.store import Store

        client = seeded.client(timeout=5)
        profile = await Store(client).load(vid)
        await client.aclose()
        return [v.get("url", "") for v in profile.page_views]

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        urls = asyncio.run(views())
        if len(urls) >= 2:
            break
        time.sleep(0.05)
    assert any(u.endswith(f"/p/{sku}") for u in urls)
    assert any(u.endswith("/") for u in urls)


def test_known_contact_sees_greeting_advisor_and_loyalty(edge: str) -> None:
    with httpx.Client(timeout=10, follow_redirects=True) as c:
        anonymous = c.get(edge + "/").text
        r = c.post(edge + "/login", data={"email": "krzysztof.nowak@example.com",
                                          "password": "demo"})
        assert r.status_code == 200
        known = c.get(edge + "/").text
    assert "Krzysztofie" in known and "Krzysztof" not in anonymous
    assert "advisor_card" in _placements(known) and "advisor_card" not in _placements(anonymous)
    assert "tel:+48" in known
    assert "pkt" in known  # loyalty points in Polish


def test_one_visitor_never_sees_another_ones_data(edge: str) -> None:
    with httpx.Client(timeout=10, follow_redirects=True) as a, httpx.Client(timeout=10) as b:
        a.post(edge + "/login", data={"email": "anna.kowalska@example.com", "password": "demo"})
        assert "Anno" in a.get(edge + "/").text
        # Same browser traits, no cookie: a stranger on the same network.
        stranger = b.get(edge + "/", headers={"user-agent": a.headers.get("user-agent", "")})
        assert "Anno" not in stranger.text and "Anna" not in stranger.text
        assert "advisor_card" not in _placements(stranger.text)


def test_explain_says_why(edge: str) -> None:
    with httpx.Client(timeout=10) as c:
        c.get(edge + "/")
        vid = c.cookies["edge_vid"].split(".")[1]
        assert c.get(edge + "/_edge/api/explain", params={"visitor": vid, "url": "/"}
                     ).status_code == 401
        r = c.get(edge + "/_edge/api/explain", params={"visitor": vid, "url": "/"},
                  headers={"authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 200
    data = r.json()
    assert data["page"]["facts"]["page-type"] == "home"
    by_id = {p["id"]: p for p in data["placements"]}
    assert "hero_welcome" in by_id and "advisor_card" in by_id
    assert data["decision"]["slots"]["hero"]["placement"] == "hero_welcome"
    assert any(s["id"] == "new_visitor" and s["held"] for s in data["segments"])


def test_redis_down_pages_pass_through_unpersonalized(shop: str, tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = _settings(shop, dead, tmp_path, personalize_timeout=0.3)
    with serve(create_app(settings)) as edge, httpx.Client(timeout=10) as c:
        direct = c.get(shop + "/").content
        r = c.get(edge + "/", timeout=3)  # nothing hangs: a hang would time the client out
        assert r.status_code == 200
        assert b'data-edge-placement="' not in r.content
        assert r.content == direct  # the shop's page, unchanged
        ready = c.get(edge + "/_edge/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("unreachable")
        assert c.get(edge + "/_edge/health").status_code == 200


def test_ready_when_origin_and_redis_answer(edge: str) -> None:
    r = httpx.get(edge + "/_edge/ready", timeout=10)
    assert r.status_code == 200
    assert r.json()["checks"] == {"origin": "ok", "redis": "ok"}


def test_experiment_results_are_counted_per_arm(edge: str) -> None:
    auth = {"authorization": f"Bearer {ADMIN}"}
    with httpx.Client(timeout=10) as c:
        assert c.get(edge + "/_edge/api/experiments").status_code == 401
        before = c.get(edge + "/_edge/api/experiments", headers=auth).json()["experiments"]
        arms = before["hero_copy"]["results"]["arms"]
        assert set(arms) == {"plain", "personal", "control"}
        # The widget script reports what the visitor saw and clicked.
        c.get(edge + "/")
        events = [{"type": "impression", "placement": "hero_big_spender", "variant": "plain"},
                  {"type": "click", "placement": "hero_big_spender", "variant": "plain"},
                  {"type": "impression", "placement": "hero_big_spender", "variant": "personal"}]
        r = c.post(edge + "/_edge/api/events", json={"events": events},
                   headers={"origin": edge})
        assert r.status_code in (200, 202), r.text
        after = c.get(edge + "/_edge/api/experiments", headers=auth).json()["experiments"]
    got = after["hero_copy"]["results"]["arms"]
    assert got["plain"]["impressions"] == arms["plain"]["impressions"] + 1
    assert got["plain"]["clicks"] == arms["plain"]["clicks"] + 1
    assert got["personal"]["impressions"] == arms["personal"]["impressions"] + 1
    assert 0 <= got["plain"]["p_best"] <= 1
    bad = httpx.get(edge + "/_edge/api/experiments?metric=views", headers=auth, timeout=10)
    assert bad.status_code == 400 and bad.json()["field"] == "metric"


def test_events_from_a_foreign_page_are_refused(edge: str) -> None:
    event = {"events": [{"type": "like", "sku": products()[0]["sku"]}]}
    with httpx.Client(timeout=10) as c:
        c.get(edge + "/")
        foreign = c.post(edge + "/_edge/api/events", json=event,
                         headers={"origin": "https://elsewhere.example"})
        assert foreign.status_code == 403
        assert foreign.json()["field"] == "origin"
        own = c.post(edge + "/_edge/api/events", json=event, headers={"origin": edge})
        assert own.status_code in (200, 202)


def test_assets_do_not_mint_visitors(edge: str) -> None:
    with httpx.Client(timeout=10) as c:
        css = c.get(edge + "/static/shop.css", headers={"accept": "text/css,*/*;q=0.1"})
        assert css.status_code == 200 and "edge_vid" not in css.cookies
        img = c.get(edge + "/favicon.ico", headers={"accept": "image/avif,image/webp,*/*"})
        assert "edge_vid" not in img.cookies
        page = c.get(edge + "/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert "edge_vid" in page.cookies
