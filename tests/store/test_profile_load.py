"""Loading profiles: parsed parts kept by their exact bytes, shared read-only, never across
different data; the one-command load path and its fallbacks."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import msgpack
import pytest
import redis.asyncio as aioredis

from edge.store import keys, rawcall
from edge.store.frozen import FrozenDict, FrozenList, unpack_frozen
from edge.store.partcache import PartCache
from edge.store.profile import PARTS, Profile, parse_part
from edge.store.server import RedisHandle
from edge.store.store import LOAD_PARTS, Store, load_spec
from tests.store.factories import add_events, make_settings

PAGE = {"views": 10, "pviews": 40, "forms": 10, "events": 20}


async def rich(store: Store, pid: str, sku: str = "A") -> None:
    await add_events(store, pid, {"type": "page_view", "url": "https://s.test/"},
                     {"type": "add_to_cart", "sku": sku, "qty": 1, "price": 10},
                     {"type": "like", "sku": sku}, {"type": "impression", "placement": "hero"},
                     {"type": "preference", "name": "size", "value": "42"},
                     {"type": "consent", "name": "newsletter", "granted": True})


async def test_unchanged_parts_are_reused_and_changed_ones_parsed_again(store: Store) -> None:
    await rich(store, "v1")
    first = await store.load("v1", PAGE)
    again = await store.load("v1", PAGE)
    assert again.cart is first.cart and again.likes is first.likes  # nothing changed
    await add_events(store, "v1", {"type": "add_to_cart", "sku": "B", "qty": 2, "price": 5})
    after = await store.load("v1", PAGE)
    assert after.cart is not first.cart
    assert sorted(line["sku"] for line in after.cart) == ["A", "B"]
    assert after.likes is first.likes and after.preferences is first.preferences
    # a page view changes the counters and the page-view log, and both are read again
    await store.record_page_view(_visitor("v1"), "https://s.test/next", "Next")
    viewed = await store.load("v1", PAGE)
    assert [v["url"] for v in viewed.page_views][:2] == ["https://s.test/next", "https://s.test/"]
    assert viewed.visit.page_views == after.visit.page_views + 1


async def test_visitors_share_a_parse_only_of_identical_data(store: Store, redis: Any) -> None:
    await rich(store, "va", sku="A")
    await rich(store, "vb", sku="B")
    a, b = await store.load("va", PAGE), await store.load("vb", PAGE)
    assert [line["sku"] for line in a.cart] == ["A"] and [line["sku"] for line in b.cart] == ["B"]
    assert a.likes == ["A"] and b.likes == ["B"]
    # the same stored bytes (a copied preference) may share one read-only parse
    await redis.hset(keys.profile_key("vc", "prefs"),
                     mapping=await redis.hgetall(keys.profile_key("va", "prefs")))
    await redis.hset(keys.profile_key("vc", "p"), "created", "1")
    c = await store.load("vc", PAGE)
    assert c.preferences == a.preferences and c.cart == [] and c.likes == []


async def test_loaded_profiles_are_read_only(store: Store) -> None:
    await rich(store, "v1")
    await add_events(store, "v1", {"type": "product_view", "sku": "A"})
    profile = await store.load("v1", PAGE)
    changes = [
        lambda: profile.cart.append({"sku": "X"}),
        lambda: profile.cart[0].update(qty=99),
        lambda: profile.likes.sort(),
        lambda: profile.preferences.__setitem__("size", "1"),
        lambda: profile.consents.pop("newsletter"),
        lambda: profile.page_views[0].__setitem__("url", "x"),
        lambda: profile.categories.clear(),
    ]
    for change in changes:
        with pytest.raises(TypeError):
            change()
    # a copy is an ordinary container a reader may change
    cart = list(profile.cart)
    cart.append({"sku": "X"})
    prefs = dict(profile.preferences)
    prefs["size"] = "1"
    assert (await store.load("v1", PAGE)).preferences == {"size": "42"}


def test_frozen_containers_behave_as_dicts_and_lists() -> None:
    value = unpack_frozen(msgpack.packb({"a": [1, {"b": 2}], 3: "x"}))
    assert isinstance(value, dict) and isinstance(value["a"], list)
    assert value == {"a": [1, {"b": 2}], 3: "x"} and json.dumps({"a": value["a"]})
    assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value
    assert value | {"c": 1} == {"a": [1, {"b": 2}], 3: "x", "c": 1}
    assert value["a"] + [5] == [1, {"b": 2}, 5]
    for change in (lambda: value["a"].__iadd__([1]), lambda: value.__ior__({"c": 1}),
                   lambda: value["a"][1].setdefault("c", 1), lambda: value.popitem()):
        with pytest.raises(TypeError):
            change()
    assert unpack_frozen(b"\xc1") is None and unpack_frozen(None) is None


async def test_export_returns_plain_json_with_whole_histories(store: Store) -> None:
    await rich(store, "v1")
    for i in range(15):
        await store.record_page_view(_visitor("v1"), f"https://s.test/{i}", "")
    paged = await store.load("v1", PAGE)
    assert len(paged.page_views) == 10
    data = await store.export("v1")
    assert data is not None and len(data["page_views"]) == 16
    assert type(data["cart"]) is list and type(data["cart"][0]) is dict
    assert type(data["preferences"]) is dict and data["likes"] == ["A"]
    data["cart"].append({"sku": "mine"})  # the export is the caller's to change
    assert json.loads(json.dumps(data))["consents"]["newsletter"]["granted"] is True


async def test_history_limits(store: Store) -> None:
    for i in range(5):
        await store.record_page_view(_visitor("v1"), f"https://s.test/{i}", "")
    await add_events(store, "v1", *({"type": "like", "sku": s} for s in "ABC"))
    assert len((await store.load("v1")).page_views) == 5
    two = await store.load("v1", {"views": 2, "likes": 1})
    assert [v["url"] for v in two.page_views] == ["https://s.test/4", "https://s.test/3"]
    assert len(two.likes) == 1
    none = await store.load("v1", {"views": 0})
    assert none.page_views == [] and len(none.likes) == 3
    assert load_spec({"views": 0}).startswith("p:h:-1,attrs:h:-1,")


async def test_broken_stored_values_are_skipped_on_load(store: Store, redis: Any) -> None:
    await rich(store, "v1")
    await redis.hset(keys.profile_key("v1", "p"), mapping={
        "advisor": b"\xc1", "visit_no": b"nan", "points": b"inf", "tos_ms": b"x"})
    await redis.hset(keys.profile_key("v1", "consents"), "broken", b"\xc1")
    await redis.hset(keys.profile_key("v1", "attrs"), "broken", b"\xc1")
    await redis.lpush(keys.profile_key("v1", "views"), b"\xc1", b"\x93\x01\x02\x03")
    await redis.hset(keys.profile_key("v1", "agg"), mapping={"cat:x": b"?", "junk": b"1"})
    profile = await store.load("v1", PAGE)
    assert profile.advisor is None and profile.visit.number == 0 and profile.time_on_site_ms == 0
    assert "broken" not in profile.consents and "broken" not in profile.attributes
    assert [v["url"] for v in profile.page_views] == ["https://s.test/"]
    assert profile.categories["x"] == 0 and profile.cart and profile.likes == ["A"]


async def test_a_flushed_script_and_dropped_connections_still_load(
    store: Store, redis: Any, redis_handle: RedisHandle
) -> None:
    await rich(store, "v1")
    assert (await store.load("v1", PAGE)).likes == ["A"]
    await redis.script_flush()
    assert (await store.load("v1", PAGE)).likes == ["A"]
    killer = redis_handle.client(timeout=5)
    await killer.client_kill_filter(_type="normal", skipme=True)  # every pooled connection
    await killer.aclose()
    assert (await store.load("v1", PAGE)).likes == ["A"]


async def test_other_clients_load_through_the_script_object(
    redis: Any, redis_handle: RedisHandle
) -> None:
    await rich(Store(redis, make_settings()), "v1")
    single = aioredis.Redis(unix_socket_path=redis_handle.url.removeprefix("unix://"),
                            single_connection_client=True)
    assert rawcall.supported(redis) and not rawcall.supported(single)
    assert not rawcall.supported(redis.pipeline())
    try:
        store = Store(single, make_settings())
        assert (await store.load("v1", PAGE)).likes == ["A"]
    finally:
        await single.aclose()


def test_every_part_parses_and_an_empty_part_parses_as_nothing() -> None:
    cache = PartCache()
    empty = msgpack.packb([])
    parsed = cache.parse(LOAD_PARTS, [empty] * len(LOAD_PARTS))
    built = Profile.from_parts("v1", parsed, now_ms=0)
    assert built == Profile.from_raw("v1", {}, now_ms=0) == Profile(id="v1", stable_id="v1")
    for part in PARTS:
        assert parse_part(part, None) == parse_part(part, []) == parse_part(part, {})
    # the profile's own constructor is bypassed for speed: every field must be set
    assert set(vars(built)) == {f.name for f in dataclasses.fields(Profile)}


def test_plain_replies_share_a_parse_only_when_their_items_are_identical() -> None:
    cache = PartCache()

    def load(attrs: list[bytes]) -> dict[str, Any]:
        replies: list[list[bytes]] = [[] for _ in LOAD_PARTS]
        replies[LOAD_PARTS.index("attrs")] = attrs
        return cache.parse_replies(LOAD_PARTS, replies)

    first = load([b"first_name", msgpack.packb("Anna")])
    again = load([b"first_name", msgpack.packb("Anna")])
    other = load([b"first_name", msgpack.packb("Anno")])
    # the same bytes, split into other items: another part, never the kept parse
    split = load([b"first_nam", b"e" + msgpack.packb("Anna")])
    assert first["attrs"] == {"first_name": "Anna"} and again["attrs"] is first["attrs"]
    assert other["attrs"] == {"first_name": "Anno"}
    assert split["attrs"] != first["attrs"]
    assert load([])["attrs"] == {}


def test_the_script_finds_every_part_from_the_first_key() -> None:
    first = keys.profile_key("v-1_x", LOAD_PARTS[0])
    prefix = first[: len(first) - len(LOAD_PARTS[0])]
    assert all(keys.profile_key("v-1_x", part) == prefix + part for part in LOAD_PARTS)


def test_the_caches_stay_within_their_budgets() -> None:
    cache = PartCache(part_budget=4096, item_budget=2048)
    for i in range(200):
        items = [msgpack.packb({"url": f"https://s.test/{i}/{j}", "ts": j}) for j in range(3)]
        blobs = [msgpack.packb([]) for _ in LOAD_PARTS]
        blobs[LOAD_PARTS.index("views")] = msgpack.packb(items)
        blobs[LOAD_PARTS.index("attrs")] = msgpack.packb([b"n", msgpack.packb(i)])
        parsed = cache.parse(LOAD_PARTS, blobs)
        assert parsed["attrs"] == {"n": i}
        assert parsed["views"][2] == {"url": f"https://s.test/{i}/2", "ts": 2}
    assert cache._parts.size <= 4096 and cache._items.size <= 2048
    assert 0 < len(cache._parts.entries) < 200


def test_parsed_parts_are_read_only_values() -> None:
    cart = parse_part("cart", {b"A": msgpack.packb({"qty": 1, "ts": 1}),
                               b"B": msgpack.packb({"qty": 2, "ts": 2}), b"C": b"\xc1"})
    assert cart == [{"sku": "B", "qty": 2, "ts": 2}, {"sku": "A", "qty": 1, "ts": 1}]
    assert isinstance(cart, FrozenList) and isinstance(cart[0], FrozenDict)
    categories, attributes = parse_part("agg", [b"cat:shoes", b"3", b"attr:size=42", b"2"])
    assert categories == {"shoes": 3.0} and attributes == {"size": {"42": 2.0}}
    assert isinstance(attributes["size"], FrozenDict)


def _visitor(pid: str) -> Any:
    from edge.store.identity import Visitor

    return Visitor(id=pid, visitor_id=pid)


def test_placement_counts_follow_the_day_and_the_visit() -> None:
    now = 1_800_000_000_000
    day = str(now // 86_400_000).encode()
    place = {b"hero|seen": b"5", b"hero|seen|d": b"2", b"hero|seen|dk": day,
             b"hero|seen|v": b"1", b"hero|seen|vn": b"3", b"hero|seen|t": b"7",
             b"hero|click": b"1", b"side|close": b"x"}
    p = {b"visit_no": b"3", b"last_seen": str(now - 1000).encode()}
    profile = Profile.from_raw("v1", {"place": place, "p": p}, now_ms=now)
    seen = profile.placements["hero"].seen
    assert (seen.lifetime, seen.today, seen.this_visit, seen.last_ts) == (5, 2, 1, 7)
    assert profile.placements["hero"].click.lifetime == 1
    assert profile.placements["side"].close.lifetime == 0
    tomorrow = Profile.from_raw("v1", {"place": place, "p": p}, now_ms=now + 86_400_000)
    assert tomorrow.placements["hero"].seen.today == 0  # and the visit lapsed
    assert tomorrow.placements["hero"].seen.this_visit == 0
    counts = parse_part("place", place)
    assert counts.at(now, 3) is counts.at(now, 3)  # the same question, the same answer
    assert counts.at(now, 4)["hero"].seen.this_visit == 0 and counts.at(now, 3)
    assert counts == parse_part("place", dict(place))


async def test_a_placement_seen_on_this_page_counts_today_and_this_visit(store: Store) -> None:
    await add_events(store, "v1", {"type": "page_view", "url": "https://s.test/"})
    before = await store.load("v1", PAGE)
    await add_events(store, "v1", {"type": "impression", "placement": "hero"})
    seen = (await store.load("v1", PAGE)).placements["hero"].seen
    assert before.placements == {} and (seen.lifetime, seen.today, seen.this_visit) == (1, 1, 1)


async def test_the_advisor_is_read_with_the_profile(store: Store, redis: Any) -> None:
    advisor = {"name": "Anna", "role": "Doradczyni", "phone": "+48 1", "extra": "ignored"}
    await redis.hset(keys.profile_key("v1", "p"), mapping={
        "contact": "c-1", "advisor": msgpack.packb(advisor)})
    first = await store.load("v1", PAGE)
    assert first.advisor is not None and first.advisor.name == "Anna"
    assert first.advisor.email == "" and first.known
    await redis.hset(keys.profile_key("v1", "p"), "advisor", msgpack.packb({"name": "Ola"}))
    assert (await store.load("v1", PAGE)).advisor.name == "Ola"  # type: ignore[union-attr]


def test_an_empty_profile_is_a_profile_with_nothing_stored() -> None:
    from edge.store.frozen import EMPTY_DICT, EMPTY_LIST

    empty = Profile.empty("v9")
    assert empty == Profile(id="v9", stable_id="v9")
    assert vars(empty) == vars(Profile(id="v9", stable_id="v9"))
    assert list(vars(empty)) == [f.name for f in dataclasses.fields(Profile)]
    assert empty.attributes is EMPTY_DICT and empty.cart is EMPTY_LIST  # shared, read-only
    with pytest.raises(TypeError):
        empty.attributes["x"] = 1  # type: ignore[index]
    assert Profile.empty("v8").id == "v8" and empty.id == "v9"
