"""A new visitor's first page view as FIRST_VIEW (``edge.store.writeback``), on the real
embedded Redis: the profile it leaves is the one APPLY leaves, key by key and expiry by expiry,
and wherever the profile exists already the page view goes as APPLY."""

from __future__ import annotations

from typing import Any

import pytest

from edge.api.inbox import deliver_offer
from edge.store import keys
from edge.store.event_models import impression, page_view
from edge.store.events import BatchContext, compile_batch
from edge.store.identity import Identity
from edge.store.store import Store
from edge.store.writeback import Write, WriteBehind, first_view, plan_calls

NOW = 1_800_000_000_000
VIEW = page_view("https://shop.test/p/1?colour=red", "Red shoes")


async def _writes(store: Store, redis: Any) -> WriteBehind:
    """A write-behind on Redis with its scripts loaded (a first flush would load them)."""
    assert store.events is not None
    writes = WriteBehind(redis, store.events)
    for script in (writes.writer.script, writes.writer.first_view):
        await redis.script_load(script.script)
    return writes


async def _dump(redis: Any, pid: str) -> dict[str, Any]:
    """Every key of a profile: its type, value and whether and how long it expires."""
    out: dict[str, Any] = {}
    for part in keys.PROFILE_PARTS:
        key = keys.profile_key(pid, part)
        kind = (await redis.type(key)).decode()
        if kind == "none":
            continue
        if kind == "hash":
            value: Any = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = await redis.smembers(key)
        else:
            value = await redis.get(key)
        ttl = await redis.ttl(key)
        # the profile id is a value of its own hash ("stable"): compare it by role
        out[part] = (kind, _anonymised(value, pid), ttl if ttl < 0 else "expires")
    return out


def _anonymised(value: Any, pid: str) -> Any:
    mark = pid.encode()
    if isinstance(value, dict):
        return {k: (b"<pid>" if v == mark else v) for k, v in value.items()}
    return value


async def _view(writes: WriteBehind, pid: str, *, fresh: bool, now: int = NOW) -> None:
    writes._put(Write(0, pid, now, [VIEW], page_view=True, fresh=fresh))
    await writes.flush()


async def _hmget_calls(redis: Any) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


async def _before(how: str, redis: Any, store: Store, pid: str) -> None:
    """What a new visitor may have had written before its first page view's write lands."""
    if how == "assignment":
        await store.assign_experiment(pid, "copy", "bold")
    elif how == "inbox offer":
        await deliver_offer(redis, pid, "welcome", texts={"en": {"title": "Hello"}}, now_ms=NOW)


@pytest.mark.parametrize("before", ["nothing", "assignment", "inbox offer"])
async def test_a_first_page_view_leaves_the_profile_that_apply_leaves(
    store: Store, redis: Any, before: str
) -> None:
    writes = await _writes(store, redis)
    for pid in ("fresh-visitor", "applied-visitor"):
        await _before(before, redis, store, pid)
    await redis.config_resetstat()
    await _view(writes, "fresh-visitor", fresh=True)
    assert await _hmget_calls(redis) == 0  # FIRST_VIEW ran, not APPLY (which reads p first)
    await _view(writes, "applied-visitor", fresh=False)
    assert await _hmget_calls(redis) == 1
    fresh, applied = await _dump(redis, "fresh-visitor"), await _dump(redis, "applied-visitor")
    assert fresh == applied
    assert fresh["p"][2] == fresh["views"][2] == "expires"
    if before != "nothing":  # what was there before the profile now expires with it
        assert fresh["exp" if before == "assignment" else "inbox"][2] == "expires"
    loaded = await store.load("fresh-visitor")
    assert loaded.visits == 1 and loaded.page_views_total == 1 and loaded.visit.page_views == 1
    assert [v["url"] for v in loaded.page_views] == [VIEW.url]
    assert writes.written == 2 and writes.failed == 0


async def test_a_fresh_page_view_of_a_profile_that_exists_goes_as_apply(
    store: Store, redis: Any
) -> None:
    writes = await _writes(store, redis)
    for pid in ("fresh-visitor", "applied-visitor"):
        await _view(writes, pid, fresh=False)
    # A second page view marked fresh (as a visitor identified by no cookie may be): the script
    # finds the profile, writes nothing, and APPLY counts it as the second page view.
    await _view(writes, "fresh-visitor", fresh=True, now=NOW + 60_000)
    await _view(writes, "applied-visitor", fresh=False, now=NOW + 60_000)
    assert await _dump(redis, "fresh-visitor") == await _dump(redis, "applied-visitor")
    assert (await store.load("fresh-visitor")).page_views_total == 2
    assert writes.written == 4 and writes.failed == 0


async def test_a_known_contacts_profile_is_never_given_an_expiry(
    store: Store, redis: Any, identity: Identity
) -> None:
    writes = await _writes(store, redis)
    await _view(writes, "visitor", fresh=False)
    pid, outcome = await identity.link("visitor", "C-1", "anna@example.com")
    assert outcome == "claimed"
    await _view(writes, pid, fresh=True, now=NOW + 1_000)  # a page view queued before the login
    assert all(ttl == -1 for _, _, ttl in (await _dump(redis, pid)).values())
    assert (await store.load(pid)).page_views_total == 2


async def test_a_profile_made_by_a_fingerprint_claim_goes_as_apply(
    store: Store, redis: Any
) -> None:
    writes = await _writes(store, redis)
    for pid in ("fresh-visitor", "applied-visitor"):  # the claim writes p before any page view
        await redis.hset(keys.profile_key(pid, "p"), mapping={"fp": f"fp-{pid}",
                                                               "last_seen": NOW - 10})
    await _view(writes, "fresh-visitor", fresh=True)
    await _view(writes, "applied-visitor", fresh=False)
    fresh, applied = await _dump(redis, "fresh-visitor"), await _dump(redis, "applied-visitor")
    fresh["p"][1].pop(b"fp"), applied["p"][1].pop(b"fp")
    assert fresh == applied and fresh["p"][1][b"visits"] == b"1"


async def test_first_view_lost_by_redis_is_loaded_again_and_the_view_kept(
    store: Store, redis: Any
) -> None:
    writes = await _writes(store, redis)
    await _view(writes, "before-restart", fresh=True)
    await redis.script_flush()  # as after a restart
    await _view(writes, "after-restart", fresh=True)
    assert (await store.load("after-restart")).page_views_total == 1
    assert await redis.script_exists(writes.writer.first_view.sha) == [True]
    await redis.config_resetstat()
    await _view(writes, "next", fresh=True)
    assert await _hmget_calls(redis) == 0  # FIRST_VIEW again
    assert writes.written == 3 and writes.failed == 0


def test_only_a_fresh_page_view_alone_in_its_call_is_a_first_view() -> None:
    seen = impression("hero", "control")
    calls = plan_calls([
        Write(1, "a", NOW, [VIEW], page_view=True, fresh=True),
        Write(2, "b", NOW, [seen], fresh=True), Write(3, "b", NOW, [VIEW], fresh=True),
        Write(4, "c", NOW, [VIEW], page_view=True),
    ])
    assert [(c.pid, c.fresh) for c in calls] == [("a", True), ("b", False), ("c", False)]
    ctx = BatchContext(now_ms=NOW)
    assert first_view(compile_batch([VIEW], ctx)) == compile_batch([VIEW], ctx).ops[0][2]
    assert first_view(compile_batch([seen, VIEW], ctx)) is None
    assert first_view(compile_batch([VIEW, VIEW], ctx)) is None
