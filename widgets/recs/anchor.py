"""The context product a frame is about."""

from __future__ import annotations

from widgets.catalog import Product
from widgets.context import RenderContext


def page_product(ctx: RenderContext) -> Product | None:
    return ctx.catalog.get(ctx.page.sku)


def last_viewed(ctx: RenderContext) -> Product | None:
    for sku in ctx.visitor.viewed:
        product = ctx.catalog.get(sku)
        if product is not None:
            return product
    return None


def top_cart_item(ctx: RenderContext) -> Product | None:
    """The most expensive item in the cart (by unit price; catalog price when the cart has none)."""
    best: tuple[float, Product] | None = None
    for item in ctx.visitor.cart:
        product = ctx.catalog.get(item.sku)
        if product is None:
            continue
        price = item.price or product.price
        if best is None or price > best[0]:
            best = (price, product)
    return best[1] if best else None


def context_product(ctx: RenderContext, mode: str = "auto") -> Product | None:
    """Page product; elsewhere the last viewed product, then the priciest cart item; or None."""
    if mode == "none":
        return None
    if mode == "page":
        return page_product(ctx)
    if mode == "last_viewed":
        return last_viewed(ctx)
    if mode == "cart":
        return top_cart_item(ctx)
    return page_product(ctx) or last_viewed(ctx) or top_cart_item(ctx)
