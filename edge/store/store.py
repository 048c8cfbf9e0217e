"""Loading, exporting and deleting profiles.

``Store.load`` is the hot path: one round trip, one script that reads every part of a profile
(all keys in the profile's hash-tag slot) and answers with one msgpack blob per part. A part
whose bytes did not change since an earlier load is not parsed again (``edge.store.partcache``).
Writes go through
``edge.store.events`` (events), ``edge.store.identity`` (links and merges) and
``edge.store.imports`` (contacts).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from edge.errors import StoreError
from edge.store import keys, rawcall
from edge.store.lua import LOAD
from edge.store.partcache import PartCache
from edge.store.profile import LIST_PARTS, ZSET_PARTS, Profile, pack, text, unpack

log = logging.getLogger("edge.store")

# What the load reads: everything but the alias set, which only deletion needs.
LOAD_PARTS: tuple[str, ...] = tuple(p for p in keys.PROFILE_PARTS if p not in ("aliases",))
_KIND = {p: "l" if p in LIST_PARTS else "z" if p in ZSET_PARTS else "h" for p in LOAD_PARTS}


def load_spec(recent: Mapping[str, int] | None = None) -> str:
    """The LOAD script's part list: "name:kind:last,..." (last: items to read, -1 for all)."""
    limits = recent or {}
    return ",".join(f"{p}:{_KIND[p]}:{max(-1, int(limits.get(p, -1)))}" for p in LOAD_PARTS)


_PROFILE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_profile_id(value: str) -> bool:
    """Profile ids are what the edge mints (URL-safe, short); anything else is refused."""
    return _PROFILE_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class PageLoad:
    """What ``Store.load_page`` read."""

    profile: Profile  # the profile under the visitor id (empty if the id is an alias)
    alias: str | None  # the profile the visitor id was merged into, if it was
    fingerprint_owner: bytes | None  # the profile the fingerprint points at (raw), if asked


class Store:
    """Profiles in Redis. ``redis`` is a redis.asyncio client; ``settings`` the edge's."""

    def __init__(self, redis: aioredis.Redis, settings: Any = None):
        from edge.store.events import EventWriter

        self.redis = redis
        self.settings = settings
        self._load = redis.register_script(LOAD)
        # by the limits a caller passes: the script's part list, and the EVALSHA command
        # around the profile's key (packed once; see edge.store.rawcall)
        self._specs: dict[tuple[tuple[str, int], ...], tuple[str, bytes, bytes]] = {}
        self._raw = rawcall.supported(redis)
        # parsed parts, shared by this store's loads (read-only; keyed by their exact bytes)
        self.parts = PartCache()
        # event batches and page views; None without settings (limits and expiry come from them)
        self.events = EventWriter(redis, settings) if settings is not None else None

    async def record_page_view(self, visitor: Any, page: Any, title: str = "") -> None:
        """Record a proxied HTML page view for ``visitor`` (an ``identity.Visitor``).

        Runs off the response path, so it logs a failure instead of raising."""
        if self.events is None:
            return
        try:
            await self.events.record_page_view(visitor, page, title)
        except Exception as exc:  # Redis down: the page was served; the view is lost
            log.warning("page view not recorded for %s: %r", getattr(visitor, "id", "?"), exc)

    async def assign_experiment(self, profile_id: str, experiment: str, variant: str) -> str:
        """Keep a visitor's variant; the first assignment wins. Returns the kept variant."""
        key = keys.profile_key(profile_id, "exp")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, experiment, variant)
            pipe.hget(key, experiment)
            _, kept = await pipe.execute()
        return text(kept) if kept else variant

    async def set_inbox(self, profile_id: str, offer_id: str, state: dict[str, Any]) -> None:
        """Store an inbox offer's state for the visitor (e.g. {"status": "read", "ts": ...})."""
        await self.redis.hset(keys.profile_key(profile_id, "inbox"), offer_id, pack(state))

    async def load(self, profile_id: str, recent: Mapping[str, int] | None = None) -> Profile:
        """The profile, read in one round trip (one script call that returns each part as a
        msgpack blob). An unknown id is an empty profile.

        ``recent`` caps how many of the newest items of a history are read, by part name
        (e.g. ``{"views": 20}``): a page needs the recent past, an export needs everything."""
        if not is_profile_id(profile_id):
            return Profile(id=profile_id, stable_id=profile_id)
        spec, head, tail = self._script_call(recent)
        key = keys.profile_key(profile_id, LOAD_PARTS[0])
        try:
            if self._raw:
                try:
                    blobs = await rawcall.call(self.redis,
                                               head + rawcall.bulk(key.encode()) + tail)
                except NoScriptError:  # a new or flushed server: the client path loads it
                    blobs = await self._load(keys=[key], args=[spec])
            else:
                blobs = await self._load(keys=[key], args=[spec])
        except RedisError as exc:
            raise StoreError(f"could not load profile {profile_id}: {exc}") from exc
        if not isinstance(blobs, list) or len(blobs) != len(LOAD_PARTS):
            raise StoreError(f"could not load profile {profile_id}: unexpected reply")
        return Profile.from_parts(profile_id, self.parts.parse(LOAD_PARTS, blobs))

    @property
    def loads_pages(self) -> bool:
        """Whether ``load_page`` is available (a plain client with its own pool)."""
        return self._raw

    async def load_page(self, visitor_id: str, recent: Mapping[str, int] | None,
                        fingerprint: str | None = None) -> PageLoad:
        """What a returning visitor's page needs to know, in one round trip: the profile
        under the cookie's visitor id, whether that id was merged into another profile (its
        alias), and, given a fingerprint, the profile that fingerprint points at.

        Only when ``loads_pages``; the script reads the alias in the visitor id's own slot, the
        fingerprint is a second command in the same pipeline."""
        if not is_profile_id(visitor_id):
            raise StoreError(f"not a profile id: {visitor_id!r}")
        _, head, tail = self._script_call(recent, alias=True)
        packed = head + rawcall.bulk(keys.profile_key(visitor_id, LOAD_PARTS[0]).encode()) + tail
        count = 1
        if fingerprint:
            packed += rawcall.pack(b"GET", keys.fingerprint_key(fingerprint).encode())
            count = 2
        try:
            try:
                replies = await rawcall.call_many(self.redis, packed, count)
            except NoScriptError:  # a new or flushed server: load the script, once
                await self._load.registered_client.script_load(LOAD)
                replies = await rawcall.call_many(self.redis, packed, count)
        except RedisError as exc:
            raise StoreError(f"could not load profile {visitor_id}: {exc}") from exc
        blobs = replies[0]
        if not isinstance(blobs, list) or len(blobs) != len(LOAD_PARTS) + 1:
            raise StoreError(f"could not load profile {visitor_id}: unexpected reply")
        alias = unpack(blobs[-1])
        profile = Profile.from_parts(visitor_id, self.parts.parse(LOAD_PARTS, blobs[:-1]))
        return PageLoad(profile, alias if isinstance(alias, str) and alias else None,
                        replies[1] if fingerprint else None)

    def _script_call(self, recent: Mapping[str, int] | None,
                     alias: bool = False) -> tuple[str, bytes, bytes]:
        """The LOAD call for these limits (and the visitor id's alias, if asked): its part
        list, and the packed EVALSHA around the profile's key. Everything but the key is the
        same for every profile, so it is built once per limits."""
        limits = (*(recent or {}).items(), ("alias", int(alias)))
        call = self._specs.get(limits)
        if call is None:
            spec = load_spec(recent) + (",alias:s:-1" if alias else "")
            head = rawcall.encode([b"EVALSHA", self._load.sha, 1], extra=2)
            call = self._specs[limits] = (spec, head, rawcall.bulk(spec.encode()))
            if len(self._specs) > 64:  # callers pass a few fixed limits; never grow unbounded
                self._specs.clear()
        return call

    def clear_cache(self) -> None:
        """Forget every remembered parse (the next loads parse every part)."""
        self.parts.clear()

    async def resolve(self, visitor_id: str) -> str:
        """The profile id a cookie's visitor id stands for (itself unless it was merged)."""
        target = await self.redis.get(keys.alias_key(visitor_id))
        return text(target) if target else visitor_id

    async def export(self, profile_id: str) -> dict[str, Any] | None:
        """The profile as JSON, with the visitor ids linked to it; None if there is none."""
        profile = await self.load(profile_id)
        if profile.is_empty:
            return None
        aliases = await self.redis.smembers(keys.profile_key(profile_id, "aliases"))
        data = profile.to_json()
        data["visitor_ids"] = sorted(text(a) for a in aliases)
        return data

    async def delete(self, profile_id: str) -> bool:
        """Delete a profile and every link to it: contact and email index, fingerprint link,
        cookie aliases. Returns False if there was nothing to delete."""
        if not is_profile_id(profile_id):
            return False
        p_key = keys.profile_key(profile_id, "p")
        contact, email, fp = await self.redis.hmget(p_key, "contact", "email", "fp")
        aliases = await self.redis.smembers(keys.profile_key(profile_id, "aliases"))
        # Shared index keys go only if they still point here.
        links = [key for key in (keys.contact_key(text(contact)) if contact else None,
                                 keys.email_key(text(email)) if email else None,
                                 keys.fingerprint_key(text(fp)) if fp else None) if key]
        owned = [k for k, v in zip(links, await self.redis.mget(links) if links else [],
                                   strict=True) if v == profile_id.encode()]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.exists(*keys.profile_keys(profile_id))
            for key in owned:
                pipe.delete(key)
            for alias in aliases:
                pipe.delete(keys.alias_key(text(alias)))
            pipe.delete(keys.alias_key(profile_id))
            pipe.delete(*keys.profile_keys(profile_id))
            replies = await pipe.execute()
        return bool(replies[0]) or bool(owned) or bool(aliases)
