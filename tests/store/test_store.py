from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import ConnectionPool, UnixDomainSocketConnection

from edge.store import keys
from edge.store.identity import Identity, Visitor
from edge.store.imports import Contact, save_contact
from edge.store.partcache import NOT_READ
from edge.store.profile import Profile
from edge.store.server import RedisHandle
from edge.store.store import Store
from tests.store.factories import add_events, head, make_settings


class CountingConnection(UnixDomainSocketConnection):
    """A real connection that counts what it writes to the socket: one write, one round trip."""

    writes = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.writes += 1
        await super().send_packed_command(command, check_health)


@pytest.fixture
async def counting_redis(redis: Any, redis_handle: RedisHandle) -> Any:
    path = redis_handle.url.removeprefix("unix://")
    client = aioredis.Redis(connection_pool=ConnectionPool(
        connection_class=CountingConnection, path=path))
    await client.ping()  # connect (and the handshake) before counting
    yield client
    await client.aclose()


async def test_loading_a_profile_is_one_round_trip(counting_redis: Any, redis: Any) -> None:
    store = Store(redis, make_settings())
    await add_events(store, "v1", {"type": "page_view", "url": "https://s.test/"},
                     {"type": "add_to_cart", "sku": "A"}, {"type": "like", "sku": "B"},
                     {"type": "impression", "placement": "hero"})
    counting = Store(counting_redis, make_settings())
    stats_before = await redis.info("commandstats")
    CountingConnection.writes = 0
    profile = await counting.load("v1")
    assert CountingConnection.writes == 1
    stats_after = await redis.info("commandstats")

    def calls(stats: dict[str, Any], name: str) -> int:
        return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))

    # one transaction that reads every part a profile holds
    assert calls(stats_after, "exec") - calls(stats_before, "exec") == 1
    reads = sum(calls(stats_after, c) - calls(stats_before, c)
                for c in ("hgetall", "lrange", "zrevrange"))
    assert reads == len([p for p in keys.PROFILE_PARTS if p not in ("aliases", *NOT_READ)])
    assert profile.page_views and profile.cart and profile.likes and profile.placements


async def test_a_client_without_the_raw_path_loads_the_same_profile_through_the_script(
        redis: Any, redis_handle: RedisHandle) -> None:
    store = Store(redis, make_settings())
    await add_events(store, "v1", {"type": "page_view", "url": "https://s.test/"},
                     {"type": "add_to_cart", "sku": "A"}, {"type": "like", "sku": "B"},
                     {"type": "impression", "placement": "hero"},
                     {"type": "consent", "name": "marketing", "granted": True})
    single = aioredis.Redis.from_url(redis_handle.url, single_connection_client=True)
    try:
        scripted = Store(single, make_settings())
        assert not scripted.loads_pages
        for recent in (None, {"views": 1, "likes": 0}):
            plain, via_script = await store.load("v1", recent), await scripted.load("v1", recent)
            assert via_script.to_json() == plain.to_json()
            assert plain.page_views and plain.cart and plain.consents
        assert (await store.load("v1", {"likes": 0})).likes == []
    finally:
        await single.aclose()


async def test_an_unknown_or_invalid_id_is_an_empty_profile(store: Store) -> None:
    for pid in ("nobody", "../etc", "x" * 100, ""):
        profile = await store.load(pid)
        assert profile.is_empty and not profile.known and profile.page_views == []


async def test_known_profiles_do_not_expire_and_anonymous_ones_do(store: Store, redis: Any) -> None:
    pid = await save_contact(redis, Contact(contact_id="c-1"))
    await add_events(store, pid, {"type": "like", "sku": "A"})
    await add_events(store, "anon", {"type": "like", "sku": "A"})
    assert await redis.ttl(keys.profile_key(pid, "likes")) == -1
    ttl = await redis.ttl(keys.profile_key("anon", "likes"))
    assert 89 * 86400 < ttl <= 90 * 86400


async def test_a_known_profiles_write_clears_any_expiry_left_on_its_keys(
    store: Store, redis: Any
) -> None:
    # E.g. a new visitor's claim landing after the login that made the profile known.
    pid = await save_contact(redis, Contact(contact_id="c-2"))
    await add_events(store, pid, {"type": "like", "sku": "A"})
    for part in ("p", "likes"):
        await redis.expire(keys.profile_key(pid, part), 3600)
    await add_events(store, pid, {"type": "like", "sku": "B"})
    for part in ("p", "likes"):
        assert await redis.ttl(keys.profile_key(pid, part)) == -1


async def test_an_inbox_takes_the_expiry_of_its_profile_only_if_it_has_one(
    store: Store, redis: Any
) -> None:
    from edge.api.inbox import deliver_offer

    texts = {"en": {"title": "T", "body": "B", "cta": "C"}}
    known = await save_contact(redis, Contact(contact_id="c-3"))
    await add_events(store, "anon-3", {"type": "like", "sku": "A"})
    for pid in (known, "anon-3"):
        assert await deliver_offer(redis, pid, "offer-1", texts=texts)
    assert await redis.ttl(keys.profile_key(known, "inbox")) == -1
    ttl = await redis.ttl(keys.profile_key("anon-3", "inbox"))
    assert 89 * 86400 < ttl <= 90 * 86400


async def test_export_and_delete_remove_every_link(
    store: Store, identity: Identity, redis: Any
) -> None:
    anon = await identity.identify(head())  # leaves a fingerprint link
    await add_events(store, anon.id, {"type": "like", "sku": "A"})
    second = await identity.identify(head(ua="Phone"))
    await identity.link(second.id, "c-1", "ann@example.com")
    await identity.link(anon.id, "c-1", None)
    pid = await store.resolve(anon.id)
    data = await store.export(pid)
    assert data is not None and data["contact_id"] == "c-1" and data["likes"] == ["A"]
    assert anon.id in data["visitor_ids"]
    assert await store.delete(pid)
    assert await redis.keys("edge:*") == []  # no index, alias, fingerprint link or part left
    assert await store.export(pid) is None and not await store.delete(pid)


def test_profile_from_broken_stored_values_is_tolerant() -> None:
    raw = {"p": {b"visit_no": b"x", b"advisor": b"\xc1", b"contact": b"c"},
           "consents": {b"a": b"\xc1", b"b": b"\x80"}, "views": [b"\xc1", b"\x90"],
           "cart": {b"A": b"\x90"}, "agg": {b"cat:x": b"nan?", b"junk": b"1"},
           "place": {b"p|seen": b"2", b"|click": b"1", b"p|nope": b"3"}}
    profile = Profile.from_raw("v1", raw)
    assert profile.known and profile.visit.number == 0 and profile.consents == {}
    assert profile.page_views == [] and profile.cart == [{"sku": "A"}]
    assert profile.placements["p"].seen.lifetime == 2 and list(profile.placements) == ["p"]
    assert profile.to_json()["known"] is True


async def test_experiment_assignments_and_inbox_state(store: Store) -> None:
    assert await store.assign_experiment("v1", "hero-test", "b") == "b"
    assert await store.assign_experiment("v1", "hero-test", "a") == "b"  # the first one stays
    await store.set_inbox("v1", "offer-1", {"status": "read", "ts": 5})
    profile = await store.load("v1")
    assert profile.experiments == {"hero-test": "b"}
    assert profile.inbox == {"offer-1": {"status": "read", "ts": 5}}


async def test_recording_a_page_view_never_raises(tmp_path: Any, caplog: Any) -> None:
    dead = aioredis.from_url(f"unix://{tmp_path}/none.sock", socket_connect_timeout=0.2)
    store = Store(dead, make_settings())
    await store.record_page_view(Visitor(id="v1", visitor_id="v1"), "https://shop.test/", "Home")
    assert "page view not recorded for v1" in caplog.text
    await dead.aclose()


def test_visit_numbers_and_time_on_site() -> None:
    now = 1_800_000_000_000
    raw = {"p": {b"visit_no": b"3", b"visit_start": str(now - 300_000).encode(),
                 b"last_seen": str(now - 60_000).encode(), b"tos_visit": b"90000"}}
    visit = Profile.from_raw("v1", raw, now_ms=now).visit
    assert visit.active and visit.current_number == 3 and visit.seconds_on_site == 240
    idle = Profile.from_raw("v1", raw, now_ms=now + 3_600_000).visit
    assert not idle.active and idle.current_number == 4 and idle.seconds_on_site == 0
    assert Profile.from_raw("v1", {}).visit.current_number == 1
