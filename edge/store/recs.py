"""Readers of the shared behaviour data: viewed/bought together, bestsellers, popularity, and
placement statistics for experiments.

Decay without a background job: every increment is weighted by ``2 ** (age of the edge clock /
half-life)``, so a new event weighs twice as much as one a half-life older. Readers divide by
the current weight, which turns scores back into "recent-equivalent" counts.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from edge.store import keys
from edge.store.profile import text

HALF_LIFE_S = 30 * 86400
_EPOCH_S = 1_767_225_600  # 2026-01-01: keeps the weights small for decades


def decay_weight(now_s: float | None = None) -> float:
    now_s = time.time() if now_s is None else now_s
    return float(2 ** ((now_s - _EPOCH_S) / HALF_LIFE_S))


def _scored(rows: Any) -> list[tuple[str, float]]:
    weight = decay_weight()
    return [(text(member), round(float(score) / weight, 6)) for member, score in rows]


async def related(redis: aioredis.Redis, kind: str, sku: str, n: int) -> list[tuple[str, float]]:
    """Products seen ("view") or bought ("buy") together with ``sku``, best first."""
    if kind not in ("view", "buy"):
        raise ValueError("kind must be 'view' or 'buy'")
    rows = await redis.zrevrange(keys.co_key(kind, sku), 0, max(n, 1) - 1, withscores=True)
    return _scored(rows)


async def bestsellers(redis: aioredis.Redis, n: int) -> list[tuple[str, float]]:
    """Products by (decayed) units sold, best first."""
    return _scored(await redis.zrevrange(keys.BEST_KEY, 0, max(n, 1) - 1, withscores=True))


async def popular(redis: aioredis.Redis, n: int) -> list[tuple[str, float]]:
    """Products by (decayed) views, most viewed first."""
    return _scored(await redis.zrevrange(keys.POP_KEY, 0, max(n, 1) - 1, withscores=True))


async def placement_stats(redis: aioredis.Redis) -> dict[str, dict[str, dict[str, int]]]:
    """{placement: {variant: {"impressions", "clicks", "conversions", "closes"}}}.

    A placement shown without a variant reports under the variant "-"."""
    placements = sorted(text(p) for p in await redis.smembers(keys.STATS_INDEX_KEY))
    pipe = redis.pipeline(transaction=False)
    for placement in placements:
        pipe.hgetall(keys.stats_key(placement))
    out: dict[str, dict[str, dict[str, int]]] = {}
    for placement, fields in zip(placements, await pipe.execute(), strict=True):
        variants: dict[str, dict[str, Any]] = {}
        for name, value in fields.items():
            variant, _, counter = text(name).rpartition("|")
            entry = variants.setdefault(
                variant, {"impressions": 0, "clicks": 0, "conversions": 0, "closes": 0})
            entry[counter] = int(value)
        out[placement] = variants
    return out
