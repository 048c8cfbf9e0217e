"""The edge's own writes, queued and sent in batches, on the real embedded Redis."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis

from edge.settings import Settings
from edge.store import keys
from edge.store.event_models import Feedback, PageView, ProductView, impression, page_view
from edge.store.events import EventWriter, needs_context, placement_stats
from edge.store.store import Store
from edge.store.writeback import Write, WriteBehind, plan_calls


def _writes(store: Store, redis: Any, **options: Any) -> WriteBehind:
    assert store.events is not None
    return WriteBehind(redis, store.events, **options)


async def _evalsha_calls(redis: Any) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def _dead_client(tmp_path: Any) -> aioredis.Redis:
    # Nothing listens on this socket: every connection attempt fails at once.
    return aioredis.Redis.from_url(f"unix://{tmp_path}/nobody.sock", socket_connect_timeout=1)


def test_only_events_that_read_something_need_the_context() -> None:
    assert not needs_context([page_view("https://shop.test/"), impression("hero", "control")])
    assert not needs_context([Feedback(type="click", placement="hero")])
    assert needs_context([page_view("https://shop.test/"), ProductView(type="product_view",
                                                                       sku="A")])


def test_a_visitors_writes_share_a_call_in_their_order() -> None:
    now = 1_800_000_000_000
    pv = page_view("https://shop.test/")
    seen = impression("hero", "control")
    batch = [
        Write(1, "a", now, [seen]), Write(2, "b", now, [pv]), Write(3, "a", now + 3, [pv]),
        Write(4, "b", now + 5, assign=("exp", "x")), Write(5, "b", now + 6, [pv]),
        Write(6, "a", now + 60_000, [pv]),  # a minute later: a call of its own
    ]
    calls = plan_calls(batch)
    assert [(c.pid, [w.seq for w in c.writes]) for c in calls] == [
        ("a", [1, 3]), ("b", [2]), ("b", [4]), ("b", [5]), ("a", [6])]
    assert calls[0].events == [seen, pv] and calls[0].now_ms == now + 3
    assert calls[2].events is None


async def test_many_page_views_from_many_visitors_are_all_counted(
    store: Store, redis: Any
) -> None:
    writes = _writes(store, redis, max_batch=64)
    await redis.script_load(writes.writer.script.script)
    await redis.config_resetstat()
    for page in range(20):
        for v in range(50):
            writes.impressions(f"v{v}", [("hero", "control"), ("popup", "control")])
            writes.page_view(f"v{v}", f"https://shop.test/p/{page}", "Product")
    assert writes.pending == 2000  # nothing written on the caller's time
    await writes.flush()
    assert writes.written == 2000 and writes.dropped == writes.failed == 0
    # a page's impressions and page view are one script call
    assert await _evalsha_calls(redis) == 1000
    for v in range(50):
        p = await store.load(f"v{v}")
        assert p.visits == 1 and p.page_views_total == 20 and p.visit.page_views == 20
        assert p.placements["hero"].seen.lifetime == 20
        assert p.placements["popup"].seen.this_visit == 20
    stats = await placement_stats(redis)
    assert stats["hero"]["control"]["impressions"] == 1000
    assert stats["popup"]["control"]["impressions"] == 1000
    await writes.aclose()


async def test_each_visitors_order_is_kept_across_batches(store: Store, redis: Any) -> None:
    writes = _writes(store, redis, max_batch=7)
    for i in range(30):
        for v in range(3):
            writes.page_view(f"v{v}", f"https://shop.test/{i}")
        writes.assign("v0", "exp", f"arm{i}")
    await writes.aclose()
    for v in range(3):
        p = await store.load(f"v{v}")
        assert [pv["url"] for pv in reversed(p.page_views)] == [
            f"https://shop.test/{i}" for i in range(30)][-len(p.page_views):]
        assert p.page_views_total == 30
    assert (await store.load("v0")).experiments == {"exp": "arm0"}  # the first arm stays


async def test_close_writes_everything_accepted(store: Store, redis: Any) -> None:
    writes = _writes(store, redis, linger_s=0.5)
    for i in range(100):
        writes.page_view(f"v{i % 10}", f"https://shop.test/{i}")
    await writes.aclose()
    assert writes.pending == 0 and writes.written == 100
    assert sum([(await store.load(f"v{v}")).page_views_total for v in range(10)]) == 100
    writes.page_view("v0", "https://shop.test/late")  # after close: refused, counted
    assert writes.dropped == 1 and writes.pending == 0


async def test_one_visitors_failing_write_does_not_drop_the_others(
    store: Store, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await redis.set(keys.profile_key("broken", "p"), "not a hash")
    writes = _writes(store, redis)
    for v in ("a", "broken", "b"):
        writes.page_view(v, "https://shop.test/")
    with caplog.at_level(logging.WARNING, "edge.store.writeback"):
        await writes.aclose()
    assert (writes.written, writes.failed) == (2, 1)
    assert "broken" in caplog.text
    assert (await store.load("a")).page_views_total == 1
    assert (await store.load("b")).page_views_total == 1


async def test_scripts_lost_by_redis_are_loaded_again(store: Store, redis: Any) -> None:
    writes = _writes(store, redis)
    writes.page_view("v1", "https://shop.test/")
    await writes.flush()
    await redis.script_flush()  # as after a restart
    writes.page_view("v1", "https://shop.test/again")
    writes.assign("v1", "exp", "a")
    await writes.aclose()
    p = await store.load("v1")
    assert p.page_views_total == 2 and p.experiments == {"exp": "a"}
    assert writes.failed == 0


async def test_while_redis_is_down_writes_wait_and_the_oldest_page_views_go(
    store: Store, redis: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert store.events is not None
    dead = _dead_client(tmp_path)
    writes = WriteBehind(dead, store.events, max_queue=10, retry_s=(0.01, 0.05))
    with caplog.at_level(logging.WARNING, "edge.store.writeback"):
        writes.impressions("v1", [("hero", "control")])
        for i in range(15):
            writes.page_view("v1", f"https://shop.test/{i}")
        await asyncio.sleep(0.1)  # a few failed attempts
        assert writes.pending == 10 and writes.dropped == 6
        assert "unreachable" in caplog.text and "queue is full" in caplog.text
        writes.redis = redis  # Redis is back
        await writes.aclose()
        assert "reachable again" in caplog.text
        # the first drop is reported at once, the rest (at most every few seconds) later
        assert "dropped 1 writes" in caplog.text and "dropped 5 writes" in caplog.text
    await dead.aclose()
    p = await store.load("v1")
    # the impression stayed; the six oldest page views went; the rest are in order
    assert p.placements["hero"].seen.lifetime == 1
    assert [v["url"] for v in reversed(p.page_views)] == [
        f"https://shop.test/{i}" for i in range(6, 15)]


async def test_close_while_redis_is_down_gives_up_and_says_so(
    store: Store, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert store.events is not None
    dead = _dead_client(tmp_path)
    writes = WriteBehind(dead, store.events, retry_s=(0.01, 0.05))
    for i in range(5):
        writes.page_view("v1", f"https://shop.test/{i}")
    with caplog.at_level(logging.WARNING, "edge.store.writeback"):
        await writes.aclose(timeout=0.2)
    assert writes.dropped == 5 and writes.pending == 0
    assert "5 writes not written at shutdown" in caplog.text
    await dead.aclose()


async def test_the_personalizer_queues_a_pages_writes_and_writes_them_on_close(
    redis: Any, redis_handle: Any, settings: Settings
) -> None:
    from types import SimpleNamespace

    from edge.page import Page, RequestHead
    from edge.personalize import EdgePersonalizer, EdgeSession
    from edge.store.identity import Identity, Visitor
    from edge.store.profile import Profile
    from rules.decision import Decision, Impression

    state = SimpleNamespace(settings=settings, redis=redis, redis_handle=redis_handle,
                            identity=Identity(settings, redis), store=Store(redis, settings))
    owner = EdgePersonalizer(state)
    visitor = Visitor(id="v1", visitor_id="v1")
    decision = Decision(
        impressions=[Impression("hero", "slot", "exp", "control", shown=False),
                     Impression("recs", "slot", None, None, shown=True)],
        assignments={"exp": "control"})
    loaded: asyncio.Future[Profile] = asyncio.get_running_loop().create_future()
    loaded.set_result(Profile(id="v1", stable_id="v1"))
    for i in range(3):
        request = RequestHead("GET", f"/p/{i}", "", {}, "127.0.0.1", host="shop.test")
        session = EdgeSession(owner, request, visitor, loaded)
        session._record(await session.profile(), decision)
        session.finish(Page(request=request, status=200, slots=(), title=f"P{i}"), 200)
    assert not owner._tasks  # queued, not a task per write
    await owner.aclose()
    p = await Store(redis, settings).load("v1")
    assert p.page_views_total == 3 and p.visits == 1
    assert [v["title"] for v in p.page_views] == ["P2", "P1", "P0"]
    assert p.placements["hero"].seen.lifetime == 3 and "recs" not in p.placements
    assert p.experiments == {"exp": "control"}
    assert (await placement_stats(redis))["hero"]["control"]["impressions"] == 3


def test_writes_the_edge_makes_are_validated_models() -> None:
    assert isinstance(page_view("x" * 3000, "t" * 600), PageView)
    assert len(page_view("x" * 3000).url) == 2048
    assert impression("hero", "a") is impression("hero", "a")  # built once
    with pytest.raises(ValueError):
        impression("a|b", "control")


async def test_events_needing_a_read_are_refused(store: Store, redis: Any) -> None:
    writes = _writes(store, redis)
    with pytest.raises(ValueError):
        writes.events("v1", [ProductView(type="product_view", sku="A")])
    writes.events("v1", [Feedback(type="click", placement="hero", variant="a")])
    await writes.aclose()
    assert (await store.load("v1")).placements["hero"].click.lifetime == 1


def test_writer_keeps_one_script_for_pipelines(store: Store) -> None:
    assert isinstance(store.events, EventWriter)
    assert len(store.events.script.sha) == 40


def test_the_apply_head_kept_with_the_id_left_open_equals_one_packed_for_the_id(
    store: Store, redis: Any
) -> None:
    writes = _writes(store, redis)
    ids = ["a", "b", "visitor-1", "visitor-2", "x" * 64, "p%d%s%b", "Zażółć"]
    for pid in ids * 2:  # the second time from the kept template
        for extra in (6, 7):
            assert writes._open(pid, writes._pack_head, extra) == \
                writes._pack_head(pid, extra)
            assert writes._open(pid, writes._pack_first, extra) == \
                writes._pack_first(pid, extra)
    assert writes._open("", writes._pack_head, 6) == writes._pack_head("", 6)
