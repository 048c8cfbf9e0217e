"""Applying visitor events to profiles, and the shared data they feed.

A batch is validated whole (``edge.store.event_models``), then written in two round trips:
1. one pipeline reads what the batch needs: rate-limit counters, the current visit's product
   views (for "viewed together"), the visitor's clicks (for conversions), catalog rows;
2. one Lua script (``edge.store.lua.APPLY``) writes the profile and the shared counters
   (co-occurrence, popularity, bestsellers, placement stats), so the batch is applied
   completely or not at all. The embedded Redis fsyncs every write before answering.
A batch that reads nothing (page views, impressions, clicks, likes, ...: see
``needs_context``) and is not rate-limited skips round trip 1.

``compile_batch`` is the pure core: events + context in, operations out. ``script_call`` turns
its plan into the APPLY call's keys and arguments, for a caller that sends many batches in one
pipeline (``edge.store.writeback``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import msgpack
import redis.asyncio as aioredis

from edge.errors import RateLimited
from edge.page import RequestHead
from edge.store import keys
from edge.store.event_models import (
    AddToCart,
    ConsentEvent,
    Custom,
    Feedback,
    FormSubmit,
    Like,
    PageView,
    Preference,
    ProductView,
    Purchase,
    RemoveFromCart,
    page_view,
)
from edge.store.lua import APPLY, FIRST_VIEW
from edge.store.profile import VISIT_IDLE_MS, pack, unpack
from edge.store.recs import bestsellers, decay_weight, placement_stats, related

__all__ = ["EventWriter", "compile_batch", "needs_context", "BatchContext", "related",
           "bestsellers", "placement_stats"]

# One packer, reused (msgpack.packb makes one with a fresh 256 KB buffer per call).
_pack_lua = msgpack.Packer(use_bin_type=False).pack
# Lua KEYS index of each part. (Redis's Lua msgpack reads no bin type: ops are packed without.)
_K = {part: i + 1 for i, part in enumerate(keys.PROFILE_PARTS)}
CONVERSION_WINDOW_MS = 30 * 86_400_000
CO_VIEW_PARTNERS = 10  # a product view pairs with this many latest views of the visit
MAX_SKEW_MS = 7 * 86_400_000
FEEDBACK_ACTION = {"impression": "seen", "click": "click", "close": "close"}
FEEDBACK_STAT = {"impression": "impressions", "click": "clicks", "close": "closes"}
# The events whose compilation reads the context (catalog, visit, clicks, fingerprint).
_READS_CONTEXT = (ProductView, AddToCart, Purchase, ConsentEvent)


@dataclass
class BatchContext:
    """What compiling a batch needs to know besides the events (read in round trip 1)."""

    now_ms: int
    catalog: dict[str, dict[str, Any]] = field(default_factory=dict)
    visit_skus: list[str] = field(default_factory=list)  # products viewed this visit, newest first
    clicks: dict[str, int] = field(default_factory=dict)  # "placement|variant" -> ts
    fingerprint: str | None = None


@dataclass
class Plan:
    ops: list[list[Any]] = field(default_factory=list)  # for the profile's Lua script
    shared: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)  # Redis commands


def _ts(event: Any, now_ms: int) -> int:
    # Client clocks lie: a time far from ours is replaced by ours.
    ts = event.ts
    return ts if ts is not None and now_ms - MAX_SKEW_MS <= ts <= now_ms + 60_000 else now_ms


def _category_levels(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def needs_context(events: list[Any]) -> bool:
    """Whether compiling ``events`` reads anything besides the time (``BatchContext.now_ms``)."""
    return any(isinstance(e, _READS_CONTEXT) for e in events)


def compile_batch(events: list[Any], ctx: BatchContext) -> Plan:
    """Turn validated events into profile operations and shared counter updates. Pure."""
    plan = Plan()
    ops, shared = plan.ops, plan.shared
    weight = decay_weight(ctx.now_ms / 1000)
    visit_skus = list(ctx.visit_skus)
    clicks = dict(ctx.clicks)
    for event in events:
        ts = _ts(event, ctx.now_ms)
        if isinstance(event, PageView):
            ops.append(["lpush", _K["views"], pack({"url": event.url, "title": event.title,
                        "duration_ms": event.duration_ms, "referrer": event.referrer, "ts": ts}),
                        keys.CAPS["views"]])
            ops += [["hincr", _K["p"], "pv_visit", 1], ["hincr", _K["p"], "pv_total", 1]]
            if event.duration_ms:
                ops += [["hincr", _K["p"], "tos_visit", event.duration_ms],
                        ["hincr", _K["p"], "tos_ms", event.duration_ms]]
        elif isinstance(event, ProductView):
            product = ctx.catalog.get(event.sku, {})
            category = str(product.get("category", ""))
            attributes = product.get("attributes") or {}
            ops.append(["lpush", _K["pviews"], pack({
                "sku": event.sku, "name": product.get("name", ""), "category": category,
                "price": product.get("price"), "attributes": attributes, "ts": ts}),
                keys.CAPS["pviews"]])
            for level in _category_levels(category):
                ops.append(["hincr", _K["agg"], f"cat:{level}", 1])
            for name, value in attributes.items():
                ops.append(["hincr", _K["agg"], f"attr:{name}={value}", 1])
            shared.append(("zincrby", (keys.POP_KEY, weight, event.sku)))
            for other in dict.fromkeys(visit_skus[:CO_VIEW_PARTNERS]):
                if other != event.sku:
                    shared.append(("zincrby", (keys.co_key("view", event.sku), weight, other)))
                    shared.append(("zincrby", (keys.co_key("view", other), weight, event.sku)))
                    shared.append(("zremrangebyrank",
                                   (keys.co_key("view", other), 0, -keys.CO_CAP - 1)))
            shared.append(("zremrangebyrank",
                           (keys.co_key("view", event.sku), 0, -keys.CO_CAP - 1)))
            visit_skus.insert(0, event.sku)
        elif isinstance(event, AddToCart):
            price = event.price if event.price is not None else ctx.catalog.get(event.sku, {}).get(
                "price")
            ops.append(["cart", _K["cart"], event.sku, event.qty, pack({"price": price, "ts": ts}),
                        keys.MAX_CART_LINES])
        elif isinstance(event, RemoveFromCart):
            ops.append(["hdel", _K["cart"], event.sku])
        elif isinstance(event, Purchase):
            items = [{"sku": i.sku, "qty": i.qty, "price": i.price} for i in event.items]
            ops.append(["lpush", _K["buys"], pack({
                "order_id": event.order_id, "value": event.value,
                "currency": event.currency.upper(), "items": items, "ts": ts}),
                keys.CAPS["buys"]])
            ops.append(["del", _K["cart"]])
            skus = list(dict.fromkeys(i.sku for i in event.items))
            for item in event.items:
                shared.append(("zincrby", (keys.BEST_KEY, weight * item.qty, item.sku)))
            for sku in skus:
                for other in skus:
                    if other != sku:
                        shared.append(("zincrby", (keys.co_key("buy", sku), weight, other)))
                shared.append(("zremrangebyrank", (keys.co_key("buy", sku), 0, -keys.CO_CAP - 1)))
            # a purchase after a click converts that click, once
            for placement_variant, clicked in list(clicks.items()):
                if ts - clicked <= CONVERSION_WINDOW_MS:
                    placement, _, variant = placement_variant.partition("|")
                    shared.append(("hincrby", (keys.stats_key(placement),
                                               f"{variant}|conversions", 1)))
                ops.append(["hdel", _K["clk"], placement_variant])
                del clicks[placement_variant]
        elif isinstance(event, Like):
            if event.type == "like":
                ops.append(["zadd", _K["likes"], ts, event.sku, keys.MAX_LIKES])
            else:
                ops.append(["zrem", _K["likes"], event.sku])
        elif isinstance(event, FormSubmit):
            ops.append(["lpush", _K["forms"], pack({"form": event.form, "fields": event.fields,
                                                    "ts": ts}), keys.CAPS["forms"]])
        elif isinstance(event, ConsentEvent):
            ops.append(["latest", _K["consents"], event.name,
                        pack({"granted": event.granted, "ts": ts}), ts, keys.MAX_NAMED])
            if not event.granted and event.name in ("fingerprint", "tracking") and ctx.fingerprint:
                # revoking takes effect on the next request: no re-link by fingerprint
                shared.append(("del", (keys.fingerprint_key(ctx.fingerprint),)))
                ops.append(["hdel", _K["p"], "fp"])
        elif isinstance(event, Preference):
            ops.append(["hset", _K["prefs"], event.name, pack(event.value), keys.MAX_NAMED])
        elif isinstance(event, Custom):
            ops.append(["lpush", _K["events"], pack({"name": event.name, "params": event.params,
                                                     "ts": ts}), keys.CAPS["events"]])
        elif isinstance(event, Feedback):
            variant = event.variant or "-"
            ops.append(["place", _K["place"], event.placement, FEEDBACK_ACTION[event.type], ts])
            shared.append(("sadd", (keys.STATS_INDEX_KEY, event.placement)))
            shared.append(("hincrby", (keys.stats_key(event.placement),
                                       f"{variant}|{FEEDBACK_STAT[event.type]}", 1)))
            if event.type == "click":
                ops.append(["hset", _K["clk"], f"{event.placement}|{variant}", ts])
                clicks[f"{event.placement}|{variant}"] = ts
    return plan


class EventWriter:
    """Writes event batches for one Redis: the events API and the inbox call ``apply``; the
    edge's own writes go through ``edge.store.writeback``, which sends ``script_args``."""

    def __init__(self, redis: aioredis.Redis, settings: Any):
        self.redis = redis
        self.settings = settings
        self.script = redis.register_script(APPLY)  # APPLY: script.sha for pipelines
        self.first_view = redis.register_script(FIRST_VIEW)  # a new visitor's first page view
        self.ttl = int(settings.anonymous_ttl_days) * 86400  # an anonymous profile's, in s

    def _count(self, pipe: Any, ip: str | None, visitor_id: str | None, n_events: int) -> int:
        """Queue the per-minute rate counters on ``pipe``; returns how many replies they add."""
        window = int(time.time() // 60)
        queued = 0
        for kind, who, amount in (("ip", ip, 1), ("v", visitor_id, n_events)):
            if who:
                pipe.incrby(keys.rate_key(kind, who, window), amount)
                pipe.expire(keys.rate_key(kind, who, window), 120)
                queued += 2
        return queued

    def _limit(self, replies: list[Any], ip: str | None, visitor_id: str | None) -> None:
        counts = iter(replies[0::2])
        if ip and next(counts) > self.settings.rate_limit_per_ip:
            raise RateLimited("too many requests from this address; try again in a minute")
        if visitor_id and next(counts) > self.settings.rate_limit_per_visitor:
            raise RateLimited("too many events from this visitor; try again in a minute")

    async def check_rate(self, ip: str | None, visitor_id: str | None, n_events: int) -> None:
        """Count a request against the per-IP and per-visitor limits (per minute)."""
        pipe = self.redis.pipeline(transaction=False)
        self._count(pipe, ip, visitor_id, n_events)
        self._limit(await pipe.execute(), ip, visitor_id)

    async def context(self, profile_id: str, events: list[Any], now_ms: int,
                      limit_ip: str | None = None, limit_visitor: bool = False) -> BatchContext:
        """Round trip 1: what compile_batch needs, and the rate counters when asked."""
        skus = sorted({e.sku for e in events if isinstance(e, ProductView | AddToCart)})
        pipe = self.redis.pipeline(transaction=False)
        visitor = profile_id if limit_visitor else None
        counted = self._count(pipe, limit_ip, visitor, len(events))
        pipe.hmget(keys.profile_key(profile_id, "p"), "last_seen", "visit_start", "fp")
        pipe.lrange(keys.profile_key(profile_id, "pviews"), 0, 19)
        pipe.hgetall(keys.profile_key(profile_id, "clk"))
        if skus:
            pipe.hmget(keys.catalog_key(), *skus)
        replies = await pipe.execute()
        self._limit(replies[:counted], limit_ip, visitor)
        replies = replies[counted:]
        (last_seen, visit_start, fp), pviews, clk = replies[:3]
        ctx = BatchContext(now_ms=now_ms, fingerprint=fp.decode() if fp else None)
        if last_seen and now_ms - int(float(last_seen)) <= VISIT_IDLE_MS:
            start = int(float(visit_start or 0))
            for blob in pviews:
                item = unpack(blob)
                if isinstance(item, dict) and item.get("ts", 0) >= start and item.get("sku"):
                    ctx.visit_skus.append(str(item["sku"]))
        ctx.clicks = {k.decode(): int(float(v)) for k, v in clk.items()}
        if skus:
            for sku, blob in zip(skus, replies[3], strict=True):
                row = unpack(blob)
                if isinstance(row, dict):
                    ctx.catalog[sku] = row
        return ctx

    async def apply(self, profile_id: str, events: list[Any], now_ms: int | None = None, *,
                    limit_ip: str | None = None, limit_visitor: bool = False) -> tuple[int, bool]:
        """Apply validated events atomically. Returns (visit number, whether a visit began).

        With ``limit_ip`` / ``limit_visitor`` the batch first counts against the rate limits
        (in the same round trip) and raises RateLimited, writing nothing, when over."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        if limit_ip or limit_visitor or needs_context(events):
            ctx = await self.context(profile_id, events, now_ms, limit_ip, limit_visitor)
        else:
            # Page views and impressions need nothing read first (the visit logic runs in the
            # script): the proxy's page view per HTML page is one round trip.
            ctx = BatchContext(now_ms=now_ms)
        script_keys, args = self.script_call(profile_id, compile_batch(events, ctx), now_ms)
        # One script call: atomic, and if Redis lost its script cache (NOSCRIPT) nothing ran,
        # so redis-py's load-and-retry cannot apply a batch twice.
        visit_no, new_visit = await self.script(keys=script_keys, args=args)
        return int(visit_no), bool(new_visit)

    def script_call(self, profile_id: str, plan: Plan, now_ms: int
                    ) -> tuple[list[str], list[Any]]:
        """The keys and arguments of the APPLY call that writes ``plan`` for a profile."""
        return keys.profile_keys(profile_id), self.script_args(profile_id, plan, now_ms)

    def script_args(self, profile_id: str, plan: Plan, now_ms: int) -> list[Any]:
        """The APPLY call's arguments (its keys are ``keys.profile_keys(profile_id)``)."""
        shared = [[command.upper(), *args] for command, args in plan.shared]
        return [_pack_lua(plan.ops), now_ms, self.ttl, VISIT_IDLE_MS, profile_id,
                _pack_lua(shared)]

    async def record_page_view(self, visitor: Any, page: RequestHead | str,
                               title: str = "") -> None:
        """Record one proxied HTML page view (called off the response path)."""
        url = page.url if isinstance(page, RequestHead) else page
        await self.apply(visitor.id, [page_view(url, title)])
