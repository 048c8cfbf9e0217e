from __future__ import annotations

import asyncio
from typing import Any

from edge.store import keys
from edge.store.identity import Identity
from edge.store.imports import Contact, save_contact
from edge.store.signing import make_login_token
from edge.store.store import Store
from tests.store.factories import SHOP_SECRET, add_events, cookie_of, head


async def known_contact(redis: Any, points: float = 100) -> str:
    return await save_contact(redis, Contact.model_validate({
        "contact_id": "c-1", "email": "ann@example.com",
        "attributes": {"first_name": "Ann", "city": "Gdańsk"},
        "advisor": {"name": "Kate", "phone": "+48 600 000 000"},
        "loyalty": {"points": points, "tier": "silver", "next_tier": "gold",
                    "points_to_next": 400},
        "consents": {"newsletter": {"granted": True, "ts": 1000}},
    }))


async def anonymous_visitor(identity: Identity, store: Store, redis: Any) -> str:
    visitor = await identity.identify(head(ua=""))
    await add_events(
        store, visitor.id,
        {"type": "page_view", "url": "https://shop.test/a", "title": "A"},
        {"type": "product_view", "sku": "S1"},
        {"type": "add_to_cart", "sku": "S1", "qty": 2, "price": 10},
        {"type": "like", "sku": "S2"},
        {"type": "consent", "name": "newsletter", "granted": False},
        {"type": "preference", "name": "size", "value": 42},
        {"type": "click", "placement": "hero", "variant": "b"},
    )
    await redis.hset(keys.profile_key(visitor.id, "exp"), mapping={"hero-test": "b"})
    await redis.hset(keys.profile_key(visitor.id, "p"), mapping={"points": 25})
    return visitor.id


async def test_merge_keeps_everything_the_visitor_did(
    identity: Identity, store: Store, redis: Any
) -> None:
    known = await known_contact(redis)
    await redis.hset(keys.profile_key(known, "exp"), mapping={"popup-test": "a", "hero-test": "a"})
    anon = await anonymous_visitor(identity, store, redis)
    pid, outcome = await identity.link(anon, "c-1", None)
    assert (pid, outcome) == (known, "merged")
    profile = await store.load(known)
    assert [v["url"] for v in profile.page_views] == ["https://shop.test/a"]
    assert [v["sku"] for v in profile.product_views] == ["S1"]
    assert [(line["sku"], line["qty"]) for line in profile.cart] == [("S1", 2)]
    assert profile.likes == ["S2"]
    assert profile.preferences == {"size": 42}
    assert profile.consents["newsletter"].granted is False  # the later answer wins
    assert profile.loyalty.points == 125 and profile.loyalty.tier == "silver"
    assert profile.advisor is not None and profile.advisor.name == "Kate"
    assert profile.experiments == {"popup-test": "a", "hero-test": "a"}  # known wins
    assert profile.attributes["first_name"] == "Ann"
    assert profile.placements["hero"].click.lifetime == 1
    assert profile.visits == 1
    # the anonymous profile is gone; its id now leads to the known one
    assert await redis.exists(*keys.profile_keys(anon)) == 0
    assert await store.resolve(anon) == known


async def test_the_stable_id_survives_a_merge(identity: Identity, store: Store, redis: Any) -> None:
    anon = await anonymous_visitor(identity, store, redis)
    # a contact never seen on the site: the visitor's own stable id carries over
    known = await save_contact(redis, Contact(contact_id="c-2"))
    await identity.link(anon, "c-2", None)
    assert (await store.load(known)).stable_id == anon
    # a contact with a history keeps theirs
    other = await anonymous_visitor(identity, store, redis)
    await identity.link(other, "c-2", None)
    assert (await store.load(known)).stable_id == anon


async def test_merge_claims_the_profile_when_the_contact_is_new(
    identity: Identity, store: Store, redis: Any
) -> None:
    anon = await anonymous_visitor(identity, store, redis)
    assert await identity.link(anon, "c-new", "New@Example.com") == (anon, "claimed")
    profile = await store.load(anon)
    assert profile.known and profile.email == "new@example.com" and profile.likes == ["S2"]
    assert await redis.ttl(keys.profile_key(anon, "p")) == -1  # known profiles do not expire
    assert await identity.link(anon, None, "new@example.com") == (anon, "same")


async def test_merge_is_idempotent(identity: Identity, store: Store, redis: Any) -> None:
    known = await known_contact(redis)
    anon = await anonymous_visitor(identity, store, redis)
    for _ in range(3):
        assert (await identity.link(anon, "c-1", None))[0] == known
    profile = await store.load(known)
    assert profile.loyalty.points == 125 and len(profile.page_views) == 1


async def test_concurrent_merges_of_the_same_ids_are_consistent(
    identity: Identity, store: Store, redis: Any
) -> None:
    known = await known_contact(redis)
    anon = await anonymous_visitor(identity, store, redis)
    results = await asyncio.gather(*[identity.link(anon, "c-1", None) for _ in range(50)])
    assert {pid for pid, _ in results} == {known}
    assert [outcome for _, outcome in results].count("merged") == 1
    profile = await store.load(known)
    assert profile.loyalty.points == 125  # summed once
    assert profile.likes == ["S2"] and len(profile.page_views) == 1


async def test_concurrent_logins_on_many_devices_make_one_profile(
    identity: Identity, store: Store, redis: Any
) -> None:
    token = make_login_token(SHOP_SECRET, "c-77")
    devices = []
    for i in range(10):
        visitor = await identity.identify(head(ua=f"Device {i}"))
        await add_events(store, visitor.id, {"type": "like", "sku": f"S{i}"})
        await redis.hset(keys.profile_key(visitor.id, "p"), mapping={"points": 1})
        devices.append(cookie_of(visitor.cookie_header))
    logins = [identity.identify(head(f"{cookie}; edge_login={token}", ua=f"Device {i}"))
              for i, cookie in enumerate(devices) for _ in range(3)]
    visitors = await asyncio.gather(*logins)
    assert len({v.id for v in visitors}) == 1 and all(v.known for v in visitors)
    profile = await store.load(visitors[0].id)
    assert sorted(profile.likes) == sorted(f"S{i}" for i in range(10))
    assert profile.loyalty.points == 10
    assert await redis.get(keys.contact_key("c-77")) == visitors[0].id.encode()


async def test_histories_stay_capped_after_a_merge(
    identity: Identity, store: Store, redis: Any
) -> None:
    known = await known_contact(redis)
    views = [{"type": "page_view", "url": f"https://shop.test/{i}"} for i in range(100)]
    await add_events(store, known, *views)
    await add_events(store, known, *views)
    anon = await identity.identify(head(ua=""))
    await add_events(store, anon.id, *views)
    await identity.link(anon.id, "c-1", None)
    assert len((await store.load(known)).page_views) == keys.CAPS["views"]
