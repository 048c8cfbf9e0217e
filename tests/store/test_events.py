from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from edge.errors import ApiError
from edge.store import keys
from edge.store.catalog import Product, save_products
from edge.store.event_models import parse_batch
from edge.store.events import BatchContext, bestsellers, compile_batch, placement_stats, related
from edge.store.identity import Visitor
from edge.store.recs import popular
from edge.store.store import Store
from tests.store.factories import add_events, head

MIN = 60_000


async def seed_catalog(redis: Any) -> None:
    await save_products(redis, [
        Product(sku="FLAT-3", name="Flat", url="/f3", price=500000, currency="PLN",
                category="flats/gdansk", attributes={"rooms": 3, "floor": 2}),
        Product(sku="FLAT-2", name="Flat", url="/f2", price=400000, currency="PLN",
                category="flats/gdynia", attributes={"rooms": 2}),
        Product(sku="HOUSE", name="House", url="/h", price=900000, currency="PLN",
                category="houses", attributes={"rooms": 3}),
    ])


def test_compile_is_pure_and_enriches_from_the_catalog() -> None:
    events = parse_batch({"events": [{"type": "product_view", "sku": "A"}]}, 10)
    ctx = BatchContext(now_ms=1_800_000_000_000, visit_skus=["B"],
                       catalog={"A": {"category": "x/y", "attributes": {"rooms": 3}}})
    plan = compile_batch(events, ctx)
    assert plan == compile_batch(events, ctx)
    fields = [op[2] for op in plan.ops if op[0] == "hincr"]
    assert fields == ["cat:x", "cat:x/y", "attr:rooms=3"]
    touched = {args[0] for _, args in plan.shared}
    assert {keys.POP_KEY, keys.co_key("view", "A"), keys.co_key("view", "B")} <= touched


def test_client_times_far_off_are_replaced() -> None:
    now = 1_800_000_000_000
    events = parse_batch({"events": [{"type": "like", "sku": "A", "ts": 5},
                                     {"type": "like", "sku": "B", "ts": now - 1000}]}, 10)
    plan = compile_batch(events, BatchContext(now_ms=now))
    assert [op[2] for op in plan.ops] == [now, now - 1000]  # ["zadd", key, ts, sku, cap]


async def test_profile_histories_and_aggregates(store: Store, redis: Any) -> None:
    await seed_catalog(redis)
    now = int(time.time() * 1000)
    await add_events(
        store, "v1",
        {"type": "page_view", "url": "https://shop.test/", "title": "Home", "duration_ms": 4000},
        {"type": "product_view", "sku": "FLAT-3"},
        {"type": "product_view", "sku": "HOUSE"},
        {"type": "product_view", "sku": "FLAT-2"},
        {"type": "add_to_cart", "sku": "FLAT-2"},
        {"type": "add_to_cart", "sku": "FLAT-2", "qty": 2, "price": 399000},
        {"type": "add_to_cart", "sku": "HOUSE"},
        {"type": "remove_from_cart", "sku": "HOUSE"},
        {"type": "form_submit", "form": "contact", "fields": {"topic": "loan"}},
        {"type": "custom", "name": "loan_calc", "params": {"amount": 300000, "years": 25}},
        {"type": "preference", "name": "colors", "value": ["blue", "black"]},
        {"type": "like", "sku": "FLAT-3"}, {"type": "like", "sku": "HOUSE"},
        {"type": "unlike", "sku": "FLAT-3"},
        now_ms=now,
    )
    p = await store.load("v1")
    assert p.visit.number == 1 and p.visit.page_views == 1 and p.visit.time_on_site_ms == 4000
    assert [v["sku"] for v in p.product_views] == ["FLAT-2", "HOUSE", "FLAT-3"]
    assert p.product_views[2]["attributes"] == {"rooms": 3, "floor": 2}
    assert p.categories == {"flats": 2, "flats/gdansk": 1, "flats/gdynia": 1, "houses": 1}
    assert p.top_attribute_value("rooms") == "3"
    assert [(c["sku"], c["qty"], c["price"]) for c in p.cart] == [("FLAT-2", 3, 399000)]
    assert p.forms[0]["fields"] == {"topic": "loan"}
    assert p.custom_events[0] == {"name": "loan_calc", "params": {"amount": 300000, "years": 25},
                                  "ts": now}
    assert p.preferences == {"colors": ["blue", "black"]}
    assert p.likes == ["HOUSE"]
    assert await redis.ttl(keys.profile_key("v1", "p")) > 80 * 86400  # anonymous: expires


async def test_a_new_visit_starts_after_30_idle_minutes(store: Store) -> None:
    t0 = int(time.time() * 1000) - 120 * MIN
    view = {"type": "page_view", "url": "https://shop.test/"}
    await add_events(store, "v1", view, view, now_ms=t0)
    await add_events(store, "v1", view, now_ms=t0 + 29 * MIN)
    await add_events(store, "v1", view, now_ms=t0 + 60 * MIN)
    assert store.events is not None
    p = await store.load("v1")
    assert p.visits == 2 and p.page_views_total == 4
    assert p.visit.number == 2 and not p.visit.active  # last seen an hour ago
    await add_events(store, "v1", view)
    p = await store.load("v1")
    assert p.visits == 3 and p.visit.active and p.visit.page_views == 1


async def test_a_profiles_first_write_sets_what_a_later_one_would(
        store: Store, redis: Any) -> None:
    # The first write (nothing under p yet) takes a shorter path in APPLY; the fields it
    # leaves are those the general path leaves on a profile whose p holds no visit yet (here
    # only a fingerprint link).
    now = int(time.time() * 1000)
    view = {"type": "page_view", "url": "https://shop.test/"}
    await redis.hset(keys.profile_key("v2", "p"), "fp", "f")
    await add_events(store, "v1", view, now_ms=now)
    await add_events(store, "v2", view, now_ms=now)
    first = await redis.hgetall(keys.profile_key("v1", "p"))
    general = await redis.hgetall(keys.profile_key("v2", "p"))
    assert general.pop(b"fp") == b"f"
    assert first.pop(b"stable") == b"v1" and general.pop(b"stable") == b"v2"
    assert first == general == {
        b"visit_no": b"1", b"visit_start": b"%d" % now, b"pv_visit": b"1", b"tos_visit": b"0",
        b"visits": b"1", b"last_seen": b"%d" % now, b"created": b"%d" % now, b"pv_total": b"1"}


async def test_an_anonymous_write_expires_every_key_the_profile_has(
        store: Store, redis: Any) -> None:
    # Keys written outside a batch (an experiment arm kept before the first page view, an
    # inbox offer) take the profile's expiry with the next write, whatever it wrote.
    view = {"type": "page_view", "url": "https://shop.test/"}
    await store.assign_experiment("v1", "hero", "b")
    await add_events(store, "v1", view)
    await redis.hset(keys.profile_key("v1", "inbox"), "offer", b"x")
    await redis.persist(keys.profile_key("v1", "views"))
    await add_events(store, "v1", view)
    for part in ("p", "views", "exp", "inbox"):
        assert 89 * 86400 < await redis.ttl(keys.profile_key("v1", part)) <= 90 * 86400, part
    assert await redis.ttl(keys.profile_key("v1", "cart")) == -2  # never written: no key


async def test_histories_keep_their_newest_items_up_to_their_cap(store: Store) -> None:
    cap = keys.CAPS["views"]
    now = int(time.time() * 1000)
    views = [{"type": "page_view", "url": f"https://shop.test/{i}", "ts": now - 1000 + i}
             for i in range(cap + 5)]
    for i in range(0, len(views), 100):
        await add_events(store, "v1", *views[i:i + 100], now_ms=now)
    p = await store.load("v1")
    assert [v["url"] for v in p.page_views] == [
        f"https://shop.test/{i}" for i in reversed(range(5, cap + 5))]


async def test_placement_history_per_visit_day_and_lifetime(store: Store) -> None:
    now = int(time.time() * 1000)
    seen = {"type": "impression", "placement": "promo", "variant": "a"}
    await add_events(store, "v1", seen, seen, {"type": "close", "placement": "promo"},
                     now_ms=now - 2 * 86_400_000)
    await add_events(store, "v1", seen, now_ms=now - 40 * MIN)
    await add_events(store, "v1", seen, {"type": "click", "placement": "promo", "variant": "a"},
                     now_ms=now)
    h = (await store.load("v1")).placements["promo"]
    # 40 minutes ago is yesterday in the first 40 minutes of a UTC day
    earlier_today = (now - 40 * MIN) // 86_400_000 == now // 86_400_000
    assert (h.seen.lifetime, h.seen.today, h.seen.this_visit) == (4, 1 + earlier_today, 1)
    assert (h.click.lifetime, h.click.this_visit, h.click.last_ts) == (1, 1, now)
    assert (h.close.lifetime, h.close.today) == (1, 0)


async def test_co_occurrence_bestsellers_and_conversions(store: Store, redis: Any) -> None:
    await seed_catalog(redis)
    await add_events(store, "v1", {"type": "product_view", "sku": "FLAT-3"},
                     {"type": "product_view", "sku": "FLAT-2"})
    await add_events(store, "v1", {"type": "product_view", "sku": "HOUSE"})
    await add_events(store, "v2", {"type": "product_view", "sku": "FLAT-3"},
                     {"type": "product_view", "sku": "FLAT-2"})
    await add_events(store, "v2", {"type": "impression", "placement": "recs", "variant": "b"},
                     {"type": "click", "placement": "recs", "variant": "b", "sku": "FLAT-2"})
    purchase = {"type": "purchase", "order_id": "o1", "value": 900000, "currency": "pln",
                "items": [{"sku": "FLAT-2", "qty": 1, "price": 400000},
                          {"sku": "HOUSE", "qty": 2, "price": 250000}]}
    await add_events(store, "v2", purchase)
    await add_events(store, "v2", dict(purchase, order_id="o2"))  # a click converts once
    assert [sku for sku, _ in await related(redis, "view", "FLAT-3", 5)] == ["FLAT-2", "HOUSE"]
    assert [score for _, score in await related(redis, "view", "FLAT-3", 5)][0] == \
        pytest.approx(2, rel=1e-3)
    assert [sku for sku, _ in await related(redis, "buy", "HOUSE", 5)] == ["FLAT-2"]
    assert [sku for sku, _ in await bestsellers(redis, 5)] == ["HOUSE", "FLAT-2"]
    assert (await popular(redis, 1))[0][0] in ("FLAT-3", "FLAT-2")
    assert await placement_stats(redis) == {
        "recs": {"b": {"impressions": 1, "clicks": 1, "conversions": 1, "closes": 0}}}
    assert (await store.load("v2")).cart == []  # a purchase empties the cart


async def test_old_behaviour_fades(store: Store, redis: Any) -> None:
    day = 86_400_000
    now = int(time.time() * 1000)
    await add_events(store, "old", {"type": "product_view", "sku": "A"},
                     {"type": "product_view", "sku": "OLD"}, now_ms=now - 90 * day)
    await add_events(store, "new", {"type": "product_view", "sku": "A"},
                     {"type": "product_view", "sku": "NEW"}, now_ms=now)
    (first, new_score), (second, old_score) = await related(redis, "view", "A", 5)
    assert (first, second) == ("NEW", "OLD")
    assert old_score == pytest.approx(new_score / 8, rel=1e-3)  # three half-lives


async def test_consent_revocation_is_on_the_next_load(store: Store) -> None:
    await add_events(store, "v1", {"type": "consent", "name": "marketing", "granted": True})
    assert (await store.load("v1")).consented("marketing", default=False)
    await add_events(store, "v1", {"type": "consent", "name": "marketing", "granted": False})
    assert not (await store.load("v1")).consented("marketing")


async def test_record_page_view(store: Store) -> None:
    visitor = Visitor(id="v1", visitor_id="v1")
    await store.record_page_view(visitor, head(), "Home")
    await store.record_page_view(visitor, "https://shop.test/p/1", "Product")
    p = await store.load("v1")
    assert [(v["url"], v["title"]) for v in p.page_views] == [
        ("https://shop.test/p/1", "Product"), ("http://shop.test/", "Home")]


async def test_1000_concurrent_events_from_50_visitors_are_all_counted(
    store: Store, redis: Any
) -> None:
    assert store.events is not None
    writer = store.events

    gate = asyncio.Semaphore(64)  # the client's connection pool is bounded

    async def send(visitor: int, batch: int) -> None:
        events = parse_batch({"events": [
            {"type": "impression", "placement": "hero", "variant": f"v{batch % 2}"},
            {"type": "custom", "name": "tick", "params": {"n": batch}},
            {"type": "page_view", "url": f"https://shop.test/{batch}"},
            {"type": "product_view", "sku": f"S{batch}"},
        ]}, 100)
        async with gate:
            await writer.apply(f"visitor{visitor}", events)

    # 50 visitors x 5 batches x 4 events = 1,000 events, all at once
    await asyncio.gather(*[send(v, b) for v in range(50) for b in range(5)])
    stats = await placement_stats(redis)
    assert sum(v["impressions"] for v in stats["hero"].values()) == 250
    assert sum(score for _, score in await popular(redis, 10)) == pytest.approx(250)
    for v in range(50):
        p = await store.load(f"visitor{v}")
        assert p.page_views_total == 5 and p.placements["hero"].seen.lifetime == 5
        assert sorted(e["params"]["n"] for e in p.custom_events) == [0, 1, 2, 3, 4]
        assert sorted(pv["sku"] for pv in p.product_views) == ["S0", "S1", "S2", "S3", "S4"]


def test_bad_batches_are_refused_naming_the_field() -> None:
    cases = {
        "events[1].sku: field required": [{"type": "like", "sku": "A"}, {"type": "like"}],
        "events[0].type": [{"type": "teleport"}],
        "events[0].items[1].qty": [{"type": "purchase", "order_id": "1", "value": 1,
                                    "currency": "PLN",
                                    "items": [{"sku": "A"}, {"sku": "B", "qty": 0}]}],
        "events[0].currency": [{"type": "purchase", "order_id": "1", "value": 1,
                                "currency": "zł", "items": []}],
        "events[0].params": [{"type": "custom", "name": "x", "params": {"a": "b" * 5000}}],
        "events[0].placement": [{"type": "click", "placement": "a|b"}],
        "events[0]: must be an object": ["page_view"],
    }
    for expected, events in cases.items():
        with pytest.raises(ApiError) as err:
            parse_batch({"events": events}, 10)
        assert str(err.value).startswith(expected), (expected, str(err.value))
    with pytest.raises(ApiError) as err:
        parse_batch({"events": [{"type": "like", "sku": "A"}] * 11}, 10)
    assert err.value.status_code == 413


async def test_visitor_named_fields_stay_bounded(store: Store) -> None:
    await add_events(store, "v1", *[{"type": "preference", "name": f"p{i}", "value": i}
                                    for i in range(keys.MAX_NAMED + 20)])
    await add_events(store, "v1", *[{"type": "consent", "name": f"c{i}", "granted": True}
                                    for i in range(keys.MAX_NAMED + 20)])
    await add_events(store, "v1", *[{"type": "add_to_cart", "sku": f"S{i}"}
                                    for i in range(keys.MAX_CART_LINES + 20)])
    await add_events(store, "v1", {"type": "preference", "name": "p0", "value": "changed"},
                     {"type": "add_to_cart", "sku": "S0"})
    p = await store.load("v1")
    assert len(p.preferences) == len(p.consents) == keys.MAX_NAMED
    assert len(p.cart) == keys.MAX_CART_LINES
    assert p.preferences["p0"] == "changed"  # existing names still update
    assert next(line["qty"] for line in p.cart if line["sku"] == "S0") == 2


async def test_page_views_and_impressions_are_applied_without_a_read(
    store: Store, redis: Any
) -> None:
    assert store.events is not None
    await add_events(store, "v1", {"type": "page_view", "url": "https://shop.test/"})
    await redis.config_resetstat()
    await add_events(store, "v1", {"type": "page_view", "url": "https://shop.test/a"},
                     {"type": "impression", "placement": "hero", "variant": "control"},
                     {"type": "click", "placement": "hero", "variant": "control"})
    stats = await redis.info("commandstats")
    assert "cmdstat_lrange" not in stats and "cmdstat_hgetall" not in stats  # no context read
    p = await store.load("v1")
    assert p.page_views_total == 2 and p.placements["hero"].click.lifetime == 1
    # a product view still reads the visit first ("viewed together" pairs)
    await redis.config_resetstat()
    await add_events(store, "v1", {"type": "product_view", "sku": "A"})
    assert "cmdstat_lrange" in await redis.info("commandstats")
