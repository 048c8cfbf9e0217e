"""Recommendation strategies: each yields catalog products, best first, lazily.

A strategy is ``(ctx, anchor) -> Iterable[Product]`` where ``anchor`` is the context product (or
None). Strategies do not filter: the mixer drops the anchor, duplicates, bought or out-of-stock
products and applies price filters, pulling only as many candidates as it needs. Ties are broken
by bestseller score, then catalog order, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from widgets.catalog import Product
from widgets.context import RenderContext, Scored

Strategy = Callable[[RenderContext, Product | None], Iterable[Product]]


def _rank_key(ctx: RenderContext) -> Callable[[Product], tuple[float, int]]:
    scores = ctx.signals.bestseller_scores
    order = ctx.catalog.order
    return lambda p: (-scores.get(p.sku, 0.0), order(p.sku))


def _products(ctx: RenderContext, skus: Iterable[str]) -> Iterator[Product]:
    get = ctx.catalog.get
    for sku in skus:
        product = get(sku)
        if product is not None:
            yield product


def _scored(ctx: RenderContext, pairs: Iterable[Scored]) -> Iterator[Product]:
    return _products(ctx, (sku for sku, _ in pairs))


def same_category(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    """The anchor's category, then its parent categories; without one, the page's category."""
    if anchor is not None:
        categories: tuple[str, ...] = anchor.categories
    elif ctx.page.category:
        categories = (ctx.page.category,)
    else:
        return
    for category in categories:
        yield from _top_in_category(ctx, category)


def _top_in_category(ctx: RenderContext, category: str) -> tuple[Product, ...]:
    memo = ctx.signals.memo
    cache_key = ("top_in_category", ctx.catalog, category)
    ranked: tuple[Product, ...] | None = memo.get(cache_key)
    if ranked is None:
        ranked = tuple(sorted(ctx.catalog.in_category(category), key=_rank_key(ctx)))
        if len(memo) < 10_000:  # bounded: categories × catalog versions
            memo[cache_key] = ranked
    return ranked


def viewed_together(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    if anchor is not None:
        yield from _scored(ctx, ctx.signals.viewed_together.get(anchor.sku, ()))


def bought_together(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    if anchor is not None:
        yield from _scored(ctx, ctx.signals.bought_together.get(anchor.sku, ()))


def last_viewed(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    return _products(ctx, ctx.visitor.viewed)


def liked(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    return _products(ctx, ctx.visitor.liked)


def bestsellers(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    return _scored(ctx, ctx.signals.bestsellers)


def new_arrivals(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    return iter(ctx.catalog.new_arrivals())


def _values(value: Any) -> set[str]:
    if isinstance(value, list | tuple | set | frozenset):
        return {str(v).strip().lower() for v in value}
    return {str(value).strip().lower()}


def _in_categories(product: Product, wanted: set[str]) -> bool:
    return any(c.lower() in wanted for c in product.categories)


_HARD_KEYS = {"category", "min_price", "max_price"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def preferences(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    """Products matching declared preferences, e.g. {"color": "blue", "max_price": 200,
    "category": "shoes"}: category and price bounds must hold; other keys are attribute values,
    and products matching more of them come first (at least one must match)."""
    prefs: Mapping[str, Any] = ctx.visitor.preferences
    if not prefs:
        return
    categories = _values(prefs["category"]) if prefs.get("category") else None
    low, high = _number(prefs.get("min_price")), _number(prefs.get("max_price"))
    wanted = {k: _values(v) for k, v in prefs.items()
              if k not in _HARD_KEYS and v not in (None, "")}
    key = _rank_key(ctx)
    ranked: list[tuple[int, tuple[float, int], Product]] = []
    for product in ctx.catalog:
        if categories is not None and not _in_categories(product, categories):
            continue
        if (low is not None and product.price < low) or (high is not None and product.price > high):
            continue
        score = sum(1 for attr, values in wanted.items()
                    if attr in product.attributes and _values(product.attributes[attr]) & values)
        if wanted and score == 0:
            continue
        ranked.append((-score, key(product), product))
    ranked.sort(key=lambda r: (r[0], r[1]))
    yield from (r[2] for r in ranked)


def _shares(counts: Mapping[str, Any]) -> dict[str, float]:
    numbers = {str(k).strip().lower(): _number(v) or 0.0 for k, v in counts.items()}
    total = sum(v for v in numbers.values() if v > 0)
    return {k: v / total for k, v in numbers.items() if v > 0} if total else {}


def affinity(ctx: RenderContext, anchor: Product | None) -> Iterator[Product]:
    """Products with the attribute values (and categories) the visitor views most.

    Each attribute contributes the share of views its value got (e.g. rooms=3 seen 6 of 8 times
    → 0.75); categories likewise. Products scoring nothing are left out.
    """
    attrs = {a: _shares(c) for a, c in ctx.visitor.attribute_affinities.items()
             if isinstance(c, Mapping)}
    cats = _shares(ctx.visitor.category_affinities)
    if not any(attrs.values()) and not cats:
        return
    key = _rank_key(ctx)
    ranked: list[tuple[float, tuple[float, int], Product]] = []
    for product in ctx.catalog:
        score = 0.0
        for attr, shares in attrs.items():
            if attr in product.attributes:
                score += max((shares.get(v, 0.0) for v in _values(product.attributes[attr])),
                             default=0.0)
        if cats:
            score += max((cats.get(c.lower(), 0.0) for c in product.categories), default=0.0)
        if score > 0:
            ranked.append((-score, key(product), product))
    ranked.sort(key=lambda r: (r[0], r[1]))
    yield from (r[2] for r in ranked)


# Name → strategy, in the order they are documented. Params validate names against this set.
STRATEGIES: dict[str, Strategy] = {
    "same_category": same_category,
    "viewed_together": viewed_together,
    "bought_together": bought_together,
    "last_viewed": last_viewed,
    "liked": liked,
    "bestsellers": bestsellers,
    "new_arrivals": new_arrivals,
    "preferences": preferences,
    "affinity": affinity,
}
