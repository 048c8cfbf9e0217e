from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from edge.store import keys
from edge.store.identity import Identity, fingerprint
from edge.store.signing import make_login_token, sign_visitor_id
from edge.store.store import Store
from tests.store.factories import SHOP_SECRET, add_events, cookie_of, head, make_settings


async def test_a_new_visitor_gets_a_signed_cookie(identity: Identity) -> None:
    visitor = await identity.identify(head())
    assert visitor.is_new and not visitor.known and visitor.id == visitor.visitor_id
    name, value = visitor.set_cookie_headers()[0]
    assert name == b"set-cookie"
    text = value.decode()
    assert text.startswith("edge_vid=v1.") and "HttpOnly" in text and "SameSite=Lax" in text
    assert f"Max-Age={identity.settings.cookie_max_age}" in text


async def test_cookie_attributes_follow_the_settings(redis: Any) -> None:
    settings = make_settings(cookie_name="vid", cookie_domain="shop.test", cookie_secure=True,
                             cookie_samesite="strict", cookie_max_age=3600)
    visitor = await Identity(settings, redis).identify(head(ua=""))
    text = visitor.cookie_header or ""
    assert text.startswith("vid=") and "Domain=shop.test" in text and "Secure" in text
    assert "SameSite=Strict" in text and "Max-Age=3600" in text


async def test_the_cookie_brings_the_visitor_back(identity: Identity) -> None:
    first = await identity.identify(head())
    again = await identity.identify(head(cookie_of(first.cookie_header), ua="other browser"))
    assert again.id == first.id and not again.is_new
    assert again.set_cookie_headers() == []  # fresh cookie: nothing to refresh


async def test_an_old_cookie_is_refreshed(identity: Identity) -> None:
    old = sign_visitor_id(identity.settings.secret, "oldvisitor", issued_at=1795000000 - 10 * 86400)
    visitor = await identity.identify(head(f"edge_vid={old}", ua=""))
    assert visitor.id == "oldvisitor" and visitor.cookie_header


async def test_tampered_foreign_or_garbage_cookies_give_a_fresh_visitor(
    identity: Identity, store: Store
) -> None:
    victim = await identity.identify(head(ua=""))
    await add_events(store, victim.id, {"type": "add_to_cart", "sku": "S1"})
    value = cookie_of(victim.cookie_header).split("=", 1)[1]
    tampered = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    foreign = sign_visitor_id("not-our-secret", victim.id)
    # another id under the victim's signature (its first character changed: never the same id)
    swapped = value.replace(victim.id, ("y" if victim.id[0] == "x" else "x") + victim.id[1:])
    for bad in (tampered, foreign, "garbage", swapped):
        visitor = await identity.identify(head(f"edge_vid={bad}", ua=""))
        assert visitor.is_new and visitor.id != victim.id
        assert (await store.load(visitor.id)).cart == []


async def test_a_verified_cookie_is_remembered_but_its_dates_are_checked_on_every_page(
    redis: Any
) -> None:
    settings = make_settings(cookie_max_age=3600)
    identity = Identity(settings, redis)
    value = sign_visitor_id(settings.secret, "visitor1", issued_at=time.time() - 3600 + 1.5)
    first = identity.signed_cookie(head(f"edge_vid={value}", ua=""))
    assert first is not None and first.visitor_id == "visitor1"
    assert identity.signed_cookie(head(f"edge_vid={value}", ua="")) is first  # remembered
    # A tampered copy is verified, refused and not remembered.
    tampered = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert identity.signed_cookie(head(f"edge_vid={tampered}", ua="")) is None
    assert identity.signed_cookie(head(f"edge_vid={tampered}", ua="")) is None
    assert set(identity._verified) == {value}
    # Past its max age the remembered cookie is refused like any other.
    await asyncio.sleep(2)
    assert identity.signed_cookie(head(f"edge_vid={value}", ua="")) is None
    visitor = await identity.identify(head(f"edge_vid={value}", ua=""))
    assert visitor.is_new and visitor.id != "visitor1"


async def test_a_rotated_secret_keeps_visitors(redis: Any) -> None:
    old = make_settings(secret="old-secret")
    first = await Identity(old, redis).identify(head(ua=""))
    rotated = make_settings(secret="new-secret", previous_secrets=("old-secret",))
    visitor = await Identity(rotated, redis).identify(head(cookie_of(first.cookie_header), ua=""))
    assert visitor.id == first.id and not visitor.is_new
    # re-signed with the new secret right away, so the old one can be retired soon
    again = await Identity(make_settings(secret="new-secret"), redis).identify(
        head(cookie_of(visitor.cookie_header), ua=""))
    assert again.id == first.id and again.cookie_header is None


async def make_idle(redis: Any, pid: str) -> None:
    """As if the profile's last activity were two hours ago."""
    await redis.hset(keys.profile_key(pid, "p"), "last_seen", int(time.time() * 1000) - 7_200_000)


async def test_fingerprint_relinks_an_anonymous_visitor_who_lost_the_cookie(
    identity: Identity, store: Store, redis: Any
) -> None:
    first = await identity.identify(head())
    await add_events(store, first.id, {"type": "like", "sku": "S1"})
    await make_idle(redis, first.id)
    back = await identity.identify(head())  # same browser, no cookie, hours later
    assert back.id == first.id and back.via == "fingerprint" and not back.is_new
    assert back.cookie_header  # the cookie is given back
    other = await identity.identify(head(ua="Another Browser/1.0"))
    assert other.id != first.id and other.is_new


async def test_fingerprint_never_relinks_to_a_profile_that_became_known(
    identity: Identity, store: Store, redis: Any
) -> None:
    # Ann browses anonymously (her fingerprint is linked), then logs in
    ann = await identity.identify(head())
    token = make_login_token(SHOP_SECRET, "ann", "ann@example.com")
    login = head(cookie_of(ann.cookie_header) + f"; edge_login={token}")
    known = await identity.identify(login)
    assert known.known and known.id == ann.id
    await add_events(store, known.id, {"type": "add_to_cart", "sku": "RING"})
    await make_idle(redis, known.id)
    # a stranger with an identical phone on the same network, no cookie, later on
    stranger = await identity.identify(head())
    assert stranger.id != ann.id and not stranger.known and stranger.is_new
    profile = await store.load(stranger.id)
    assert profile.contact_id is None and profile.cart == [] and profile.email is None


async def test_a_stale_fingerprint_link_to_a_known_profile_is_not_followed(
    identity: Identity, store: Store, redis: Any
) -> None:
    # even if a link survived (e.g. written by an older edge), the lookup checks again
    ann = await identity.identify(head())
    fp = fingerprint(head())
    assert fp is not None
    await identity.link(ann.id, "ann", None)
    await make_idle(redis, ann.id)
    await redis.set(keys.fingerprint_key(fp), ann.id)
    await redis.hset(keys.profile_key(ann.id, "p"), "fp", fp)
    stranger = await identity.identify(head())
    assert stranger.id != ann.id and not stranger.known


async def test_a_fingerprint_shared_by_two_live_profiles_is_never_used_again(
    identity: Identity, redis: Any
) -> None:
    first = await identity.identify(head())
    # a second person with the same traits but their own (older) cookie shows up
    second_cookie = sign_visitor_id(identity.settings.secret, "secondperson")
    await identity.identify(head(f"edge_vid={second_cookie}"))
    fp = fingerprint(head())
    assert fp is not None and await redis.get(keys.fingerprint_key(fp)) == b"!"
    anyone = await identity.identify(head())
    assert anyone.id not in (first.id, "secondperson") and anyone.is_new


async def test_no_fingerprint_when_the_setting_is_off(redis: Any) -> None:
    identity = Identity(make_settings(fingerprint=False), redis)
    first = await identity.identify(head())
    assert (await identity.identify(head())).id != first.id
    assert await redis.keys("edge:fp:*") == []


async def test_no_fingerprint_relink_after_consent_is_revoked(
    identity: Identity, store: Store, redis: Any
) -> None:
    first = await identity.identify(head())
    await add_events(store, first.id, {"type": "consent", "name": "fingerprint", "granted": False})
    await make_idle(redis, first.id)
    assert (await identity.identify(head())).id != first.id


async def test_identical_devices_arriving_together_get_separate_profiles(
    identity: Identity, store: Store, redis: Any
) -> None:
    # two identical phones behind one NAT: the first is browsing when the second arrives
    first = await identity.identify(head())
    await add_events(store, first.id, {"type": "add_to_cart", "sku": "FIRSTS"})
    second = await identity.identify(head())
    assert second.id != first.id and second.is_new
    assert (await store.load(second.id)).cart == []
    # the first phone comes back with its cookie: the shared fingerprint is now ambiguous
    await identity.identify(head(cookie_of(first.cookie_header)))
    await make_idle(redis, first.id)
    await make_idle(redis, second.id)
    third = await identity.identify(head())
    assert third.id not in (first.id, second.id) and third.is_new


async def test_client_signals_refine_the_fingerprint() -> None:
    plain = fingerprint(head())
    phone_a = fingerprint(head(x_edge_client="390x844|Europe/Warsaw|iPhone"))
    phone_b = fingerprint(head(x_edge_client="430x932|Europe/Warsaw|iPhone"))
    assert len({plain, phone_a, phone_b}) == 3
    assert fingerprint(head(ip="203.0.113.99")) == plain  # same /24
    assert fingerprint(head(ip="198.51.100.7")) != plain
    assert fingerprint(head(ua="")) is None


async def test_login_token_in_a_header_makes_the_visitor_known(identity: Identity) -> None:
    token = make_login_token(SHOP_SECRET, "c-7")
    visitor = await identity.identify(head(x_edge_login=token))
    assert visitor.known and visitor.contact_id == "c-7"


async def test_forged_or_expired_login_tokens_are_ignored(identity: Identity) -> None:
    for token in (make_login_token("wrong-secret", "c-7"),
                  make_login_token(SHOP_SECRET, "c-7", ttl=-1), "c-7", "x@y.com"):
        visitor = await identity.identify(head(f"edge_login={token}"))
        assert not visitor.known and visitor.contact_id is None


async def test_a_second_device_joins_the_same_profile(identity: Identity, store: Store) -> None:
    token = make_login_token(SHOP_SECRET, "c-9")
    laptop = await identity.identify(head(f"edge_login={token}", ua="Laptop"))
    phone_anon = await identity.identify(head(ua="Phone"))
    await add_events(store, phone_anon.id, {"type": "like", "sku": "P1"})
    phone = await identity.identify(head(cookie_of(phone_anon.cookie_header)
                                         + f"; edge_login={token}", ua="Phone"))
    assert phone.id == laptop.id and phone.known
    # later, without the token, the phone's cookie still leads to the contact
    later = await identity.identify(head(cookie_of(phone_anon.cookie_header), ua="Phone"))
    assert later.id == laptop.id and later.known and later.contact_id == "c-9"
    assert (await store.load(laptop.id)).likes == ["P1"]


async def test_a_device_of_one_contact_is_not_merged_into_another(
    identity: Identity, store: Store
) -> None:
    ann_token = make_login_token(SHOP_SECRET, "ann")
    bob_token = make_login_token(SHOP_SECRET, "bob")
    ann = await identity.identify(head(f"edge_login={ann_token}", ua=""))
    await add_events(store, ann.id, {"type": "like", "sku": "ANN"})
    # Bob logs in on Ann's computer (her cookie is there)
    bob = await identity.identify(head(cookie_of(ann.cookie_header) + f"; edge_login={bob_token}",
                                       ua=""))
    assert bob.known and bob.contact_id == "bob" and bob.id != ann.id
    assert (await store.load(bob.id)).likes == []
    assert (await store.load(ann.id)).likes == ["ANN"]


async def test_redis_down_gives_an_anonymous_visitor_quickly(tmp_path: Any) -> None:
    dead = aioredis.from_url(f"unix://{tmp_path}/nothing.sock", socket_timeout=0.2,
                             socket_connect_timeout=0.2)
    identity = Identity(make_settings(), dead)
    token = make_login_token(SHOP_SECRET, "c-1")
    visitor = await asyncio.wait_for(identity.identify(head(f"edge_login={token}")), 5)
    assert visitor.is_new and not visitor.known and visitor.via == "fallback"
    assert visitor.cookie_header
    # a returning visitor keeps their id (and their cookie) while Redis is away
    cookie = sign_visitor_id(identity.settings.secret, "returning")
    back = await asyncio.wait_for(identity.identify(head(f"edge_vid={cookie}")), 5)
    assert (back.id, back.is_new, back.set_cookie_headers()) == ("returning", False, [])
    await dead.aclose()


async def test_never_raises_on_hostile_headers(identity: Identity) -> None:
    hostile = ["edge_vid=" + "A" * 20000, "edge_vid=\x00\x01; edge_login=..", ";;;=;=",
               "edge_login=" + "x" * 5000, "edge_vid=v1.%2e%2e.zz.zz"]
    for cookie in hostile:
        visitor = await identity.identify(head(cookie, ua="", ip="not an ip"))
        assert visitor.is_new and not visitor.known


async def test_a_login_without_cookie_never_adopts_a_fingerprint_match(
    identity: Identity, store: Store
) -> None:
    stranger = await identity.identify(head())
    await add_events(store, stranger.id, {"type": "add_to_cart", "sku": "STRANGERS"})
    token = make_login_token(SHOP_SECRET, "ann")
    ann = await identity.identify(head(f"edge_login={token}"))  # same traits, no cookie
    assert ann.known and ann.id != stranger.id
    assert (await store.load(ann.id)).cart == []
    assert [line["sku"] for line in (await store.load(stranger.id)).cart] == ["STRANGERS"]


async def test_a_merged_cookie_is_reissued_naming_the_profile(identity: Identity) -> None:
    token = make_login_token(SHOP_SECRET, "c-7")
    await identity.identify(head(f"edge_login={token}", ua="Laptop"))  # the contact's profile
    phone_anon = await identity.identify(head(ua="Phone"))
    await identity.identify(head(cookie_of(phone_anon.cookie_header) + f"; edge_login={token}",
                                 ua="Phone"))  # merged into the contact's profile
    # The old cookie still leads to the contact, and is swapped for one naming the profile...
    later = await identity.identify(head(cookie_of(phone_anon.cookie_header), ua="Phone"))
    assert later.known and later.contact_id == "c-7"
    assert later.visitor_id == later.id != phone_anon.id
    assert later.cookie_header is not None
    # ...which needs no alias hop and no new cookie afterwards.
    after = await identity.identify(head(cookie_of(later.cookie_header), ua="Phone"))
    assert after.id == later.id and after.known and after.cookie_header is None
