"""Mixing strategies into one frame, with filters and de-duplication."""

from __future__ import annotations

from collections.abc import Callable

from widgets.catalog import Product
from widgets.context import RenderContext
from widgets.recs.params import FrameFilters, RecsParams
from widgets.recs.strategies import STRATEGIES


def make_filter(ctx: RenderContext, filters: FrameFilters, anchor: Product | None
                ) -> Callable[[Product], bool]:
    """A predicate for the candidates of every strategy in a frame."""
    excluded: set[str] = set()
    if anchor is not None:
        excluded.add(anchor.sku)
    if ctx.page.sku:
        excluded.add(ctx.page.sku)  # never recommend the page the visitor is on
    visitor = ctx.visitor
    if filters.exclude_bought:
        excluded.update(visitor.purchased)
    if filters.exclude_cart:
        excluded.update(item.sku for item in visitor.cart)
    if filters.exclude_viewed:
        excluded.update(visitor.viewed)
    low, high = filters.min_price, filters.max_price
    ratio_low, ratio_high = filters.ratios()
    if anchor is not None and anchor.price > 0:
        if ratio_low is not None:
            low = max(low or 0.0, anchor.price * ratio_low)
        if ratio_high is not None:
            bound = anchor.price * ratio_high
            high = bound if high is None else min(high, bound)
    category = "/".join(p for p in (filters.category or "").split("/") if p)
    in_stock = filters.in_stock

    def keep(product: Product) -> bool:
        if product.sku in excluded:
            return False
        if in_stock and product.stock <= 0:
            return False
        if low is not None and product.price < low:
            return False
        if high is not None and product.price > high:
            return False
        return not category or category in product.categories

    return keep


def recommend(ctx: RenderContext, params: RecsParams, anchor: Product | None) -> list[Product]:
    """Up to ``params.count`` products from the mix, in the mix's order.

    Each step takes up to its ``count`` of new, filtered products; a step without a count takes
    whatever is still missing. A step that falls short leaves its places to later steps that
    fill the rest.
    """
    keep = make_filter(ctx, params.filters, anchor)
    chosen: list[Product] = []
    seen: set[str] = set()
    for step in params.mix:
        missing = params.count - len(chosen)
        if missing <= 0:
            break
        quota = missing if step.count is None else min(step.count, missing)
        taken = 0
        for product in STRATEGIES[step.strategy](ctx, anchor):
            if product.sku in seen or not keep(product):
                continue
            seen.add(product.sku)
            chosen.append(product)
            taken += 1
            if taken >= quota:
                break
    return chosen
