"""A returning visitor's page: profile, alias and fingerprint read in one round trip, with the
same outcome as full identification followed by a load."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from edge.page import RequestHead
from edge.personalize import PAGE_LOAD_LIMITS, EdgePersonalizer
from edge.settings import Settings
from edge.store import keys
from edge.store.identity import AMBIGUOUS, Identity, fingerprint
from edge.store.signing import make_login_token
from edge.store.store import Store
from tests.store.factories import SHOP_SECRET, add_events, cookie_of, head


@pytest.fixture
async def owner(redis: Any, redis_handle: Any, settings: Settings) -> Any:
    state = SimpleNamespace(settings=settings, redis=redis, redis_handle=redis_handle,
                            identity=Identity(settings, redis), store=Store(redis, settings))
    personalizer = EdgePersonalizer(state)
    yield personalizer
    await personalizer.aclose()


async def _returning(identity: Identity, store: Store) -> tuple[str, str]:
    """A visitor with a cookie and some history: (profile id, Cookie header value)."""
    first = await identity.identify(head())
    await add_events(store, first.id, {"type": "product_view", "sku": "A1"},
                     {"type": "add_to_cart", "sku": "A1", "qty": 1, "price": 10})
    return first.id, cookie_of(first.cookie_header)


async def test_load_page_reads_the_same_profile_as_load(identity: Identity, store: Store) -> None:
    pid, _ = await _returning(identity, store)
    loaded = await store.load_page(pid, PAGE_LOAD_LIMITS)
    plain = await store.load(pid, PAGE_LOAD_LIMITS)
    assert loaded.alias is None and loaded.fingerprint_owner is None
    assert loaded.profile == plain
    assert [line["sku"] for line in loaded.profile.cart] == ["A1"]


async def test_load_page_names_the_profile_a_merged_id_stands_for(
    identity: Identity, store: Store
) -> None:
    anon, _ = await _returning(identity, store)
    contact = await identity.identify(head(ua="Other device"))
    known_pid, _ = await identity.link(contact.id, "c-1", None)
    assert (await store.load_page(anon, PAGE_LOAD_LIMITS)).alias is None
    assert await identity.link(anon, "c-1", None) == (known_pid, "merged")
    assert (await store.load_page(anon, PAGE_LOAD_LIMITS)).alias == known_pid


async def test_load_page_reads_the_fingerprint_in_the_same_round_trip(
    identity: Identity, store: Store
) -> None:
    pid, _ = await _returning(identity, store)
    fp = fingerprint(head())
    assert fp is not None
    loaded = await store.load_page(pid, PAGE_LOAD_LIMITS, fp)
    assert loaded.fingerprint_owner == pid.encode()
    assert (await store.load_page(pid, PAGE_LOAD_LIMITS, "0" * 32)).fingerprint_owner is None


async def test_a_lost_script_cache_is_loaded_again(redis: Any, store: Store,
                                                   identity: Identity) -> None:
    pid, _ = await _returning(identity, store)
    await redis.script_flush()
    assert (await store.load_page(pid, PAGE_LOAD_LIMITS)).profile.cart


async def test_begin_for_a_returning_visitor_matches_full_identification(
    owner: Any, identity: Identity, store: Store
) -> None:
    pid, cookie = await _returning(identity, store)
    session = await owner.begin(head(cookie))
    expected = await identity.identify(head(cookie))
    assert (session.visitor.id, session.visitor.visitor_id, session.visitor.known) == (
        expected.id, expected.visitor_id, expected.known)
    assert session.visitor.cookie_header is None  # a fresh cookie is not re-issued
    assert (await session.profile()) == await store.load(pid, PAGE_LOAD_LIMITS)


async def test_begin_follows_a_merge_and_moves_the_cookie_to_the_profile(
    owner: Any, identity: Identity, store: Store
) -> None:
    anon, cookie = await _returning(identity, store)
    contact = await identity.identify(head(ua="Other device"))
    known_pid, _ = await identity.link(contact.id, "c-9", None)
    merged_pid, outcome = await identity.link(anon, "c-9", None)
    assert outcome == "merged" and merged_pid == known_pid
    session = await owner.begin(head(cookie))
    assert session.visitor.id == known_pid and session.visitor.known
    new_cookie = cookie_of(session.visitor.cookie_header).split("=", 1)[1]
    assert identity.read_cookie(new_cookie) == known_pid == session.visitor.visitor_id
    assert [line["sku"] for line in (await session.profile()).cart] == ["A1"]


async def test_begin_links_a_login_token_for_another_contact(
    owner: Any, identity: Identity, store: Store
) -> None:
    pid, cookie = await _returning(identity, store)
    token = make_login_token(SHOP_SECRET, "c-5")
    session = await owner.begin(head(f"{cookie}; edge_login={token}"))
    assert session.visitor.known and session.visitor.contact_id == "c-5"
    # the same contact again: nothing more to link, the one-round-trip path serves it
    again = await owner.begin(head(f"{cookie}; edge_login={token}"))
    assert again.visitor.id == session.visitor.id and again.visitor.contact_id == "c-5"


async def test_a_cookieless_twin_of_a_live_profile_makes_the_fingerprint_ambiguous(
    identity: Identity, store: Store, redis: Any
) -> None:
    first_pid, _ = await _returning(identity, store)
    fp = fingerprint(head())
    assert await redis.get(keys.fingerprint_key(fp)) == first_pid.encode()
    second = await identity.identify(head())  # an identical phone, cookieless, while first browses
    assert second.id != first_pid and second.is_new
    # two live profiles share the fingerprint: it never re-links again, to either of them
    assert await redis.get(keys.fingerprint_key(fp)) == AMBIGUOUS
    third = await identity.identify(head())
    assert third.is_new and third.id not in (first_pid, second.id)
    assert await redis.get(keys.fingerprint_key(fp)) == AMBIGUOUS


async def test_a_fingerprint_held_by_another_live_profile_becomes_ambiguous(
    owner: Any, identity: Identity, store: Store, redis: Any
) -> None:
    first_pid, first_cookie = await _returning(identity, store)
    fp = fingerprint(head())
    # meanwhile the fingerprint came to point at another profile (claimed while this one idled)
    await redis.set(keys.fingerprint_key(fp), "another-profile")
    await owner.begin(head(first_cookie))  # the first phone comes back with its cookie
    for _ in range(50):
        if await redis.get(keys.fingerprint_key(fp)) == AMBIGUOUS:
            break
        await asyncio.sleep(0.01)
    assert await redis.get(keys.fingerprint_key(fp)) == AMBIGUOUS


async def test_a_bad_cookie_takes_the_full_path_and_gets_a_new_visitor(owner: Any) -> None:
    session = await owner.begin(head("edge_vid=v1.forged.value"))
    assert session.visitor.is_new and session.visitor.cookie_header


async def test_redis_down_serves_the_page_unpersonalized(
    redis_handle: Any, settings: Settings
) -> None:
    import redis.asyncio as aioredis

    dead = aioredis.Redis(unix_socket_path="/nonexistent/redis.sock", socket_timeout=0.2)
    state = SimpleNamespace(settings=settings, redis=dead, redis_handle=None,
                            identity=Identity(settings, dead), store=Store(dead, settings))
    personalizer = EdgePersonalizer(state)
    identity = Identity(settings, dead)
    cookie = cookie_of(identity.cookie_header("v1"))
    session = await personalizer.begin(RequestHead("GET", "/", "", {"cookie": cookie},
                                                   "127.0.0.1", host="shop.test"))
    assert session.response_headers() == []
    await personalizer.aclose()
    await dead.aclose()
