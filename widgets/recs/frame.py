"""The recommendation frame widget: N products with a title in the visitor's language.

Params: see :class:`widgets.recs.params.RecsParams`, e.g.::

    {"count": 6, "min_count": 3,
     "mix": [{"strategy": "viewed_together", "count": 2},
             {"strategy": "same_category", "count": 2},
             {"strategy": "bestsellers"}],
     "filters": {"price_min_ratio": 0.5, "price_max_ratio": 1.5, "in_stock": true},
     "title": {"pl": "Podobne produkty", "en": "Similar products"}}
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from widgets.base import (
    MISS,
    MemoKey,
    RenderMemo,
    Unmemoizable,
    Widget,
    frozen,
    placement_key,
)
from widgets.catalog import Product
from widgets.context import CartItem, RenderContext
from widgets.i18n import format_price, pick_text, t
from widgets.recs.anchor import context_product
from widgets.recs.mixer import recommend
from widgets.recs.params import RecsParams
from widgets.safety import clean_text, safe_url
from widgets.templating import Templates


def product_view(product: Product, ctx: RenderContext, show_price: bool) -> dict[str, Any] | None:
    """Template data for one product; None when its URL is not safe to link to."""
    url = safe_url(product.url)
    if url is None:
        return None
    price = ""
    if show_price:
        price = format_price(product.price, product.currency or ctx.currency, ctx.language)
    return {"sku": product.sku, "url": url, "image": safe_url(product.image) or "",
            "name": clean_text(product.name, 200), "price": price}


# Product cards are the same for every visitor: build each product's view (checked URLs,
# formatted price) and render its card (``recs_item.html``) once per language and currency;
# only the frame around the cards is rendered per request.
CARD_CACHE_SIZE = 8192
_UNSAFE: dict[str, Any] = {}


# What of the visitor each strategy, filter and anchor mode reads (see strategies, mixer, anchor).
_STRATEGY_READS = {"last_viewed": {"viewed"}, "liked": {"liked"}, "preferences": {"preferences"},
                   "affinity": {"attribute_affinities", "category_affinities"}}
_ANCHOR_READS = {"last_viewed": frozenset({"viewed"}), "cart": frozenset({"cart"})}
_ANCHOR_FALLBACK = frozenset({"viewed", "cart"})  # "auto" without a page product in the catalog
_FIELDS = ("viewed", "cart", "purchased", "liked", "preferences", "attribute_affinities",
           "category_affinities")


_PLAIN = (str, int, float, bool, type(None))


def _cart_key(cart: tuple[CartItem, ...]) -> tuple[Any, ...]:
    if type(cart) is not tuple:
        raise Unmemoizable("cart")
    out = []
    for i in cart:
        if type(i) is not CartItem:
            raise Unmemoizable("cart")
        out.append((frozen(i.sku), frozen(i.qty), frozen(i.price)))
    return tuple(out)


def _unchangeable(cart: tuple[CartItem, ...]) -> bool:
    # A tuple of frozen cart items holding plain values: nothing in it can change.
    return all(type(i.sku) in _PLAIN and type(i.qty) in _PLAIN and type(i.price) in _PLAIN
               for i in cart)


def _in_order(fields: frozenset[str]) -> tuple[str, ...]:
    return tuple([field for field in _FIELDS if field in fields])


def _visitor_reads(params: RecsParams) -> frozenset[str]:
    reads: set[str] = set()
    for step in params.mix:
        reads |= _STRATEGY_READS.get(step.strategy, set())
    filters = params.filters
    if filters.exclude_bought:
        reads.add("purchased")
    if filters.exclude_cart:
        reads.add("cart")
    if filters.exclude_viewed:
        reads.add("viewed")
    return frozenset(reads)


class RecommendationFrame(Widget[RecsParams]):
    name = "recommendations"
    aliases = ("recs",)
    params_model = RecsParams

    def __init__(self, templates: Templates) -> None:
        super().__init__(templates)
        # Keyed by the Product object: a new catalog version brings new objects.
        self._views: dict[tuple[Product, str, str, bool], dict[str, Any]] = {}
        # The frame around a list of products (keyed by the Product objects, which hash by
        # identity: a new catalog version brings new objects).
        self._frames = RenderMemo()
        # Per params: the visitor fields their frame reads (in _FIELDS order), with a page
        # product in the catalog, without one (anchor "auto"), and for the other anchors.
        self._reads: dict[int, tuple[RecsParams, tuple[str, ...], tuple[str, ...],
                                     tuple[str, ...]]] = {}
        self._carts: dict[int, tuple[tuple[CartItem, ...], tuple[Any, ...]]] = {}

    def _view(self, product: Product, ctx: RenderContext, show_price: bool
              ) -> dict[str, Any] | None:
        key = (product, ctx.language, ctx.currency, show_price)
        view = self._views.get(key)
        if view is None:
            view = product_view(product, ctx, show_price) or _UNSAFE
            if view is not _UNSAFE:
                view["card"] = Markup(self.templates.render("recs_item.html", p=view))
            if len(self._views) >= CARD_CACHE_SIZE:
                self._views.clear()  # old catalog versions go with it
            self._views[key] = view
        return None if view is _UNSAFE else view

    def clear_memo(self) -> None:
        super().clear_memo()
        self._frames.clear()
        self._carts.clear()

    def _cart_key(self, cart: tuple[CartItem, ...]) -> tuple[Any, ...]:
        """``_cart_key``, remembered per cart tuple (the edge hands a returning visitor the
        same one while their cart is unchanged); the entry holds the tuple, so its id stays
        its own."""
        hit = self._carts.get(id(cart))
        if hit is not None and hit[0] is cart:
            return hit[1]
        key = _cart_key(cart)
        if _unchangeable(cart):
            if len(self._carts) >= 4096:
                self._carts.clear()
            self._carts[id(cart)] = (cart, key)
        return key

    def memo_key(self, ctx: RenderContext, params: RecsParams) -> MemoKey:
        """The page, catalog, signals and placement, and only the parts of the visitor that the
        anchor, the filters and the mix's strategies read (so an anonymous visitor's frame on
        a page is shared, while a visitor's own history only ever keys their own)."""
        visitor = ctx.visitor
        page = ctx.page
        reads = self._reads.get(id(params))
        if reads is None or reads[0] is not params:
            if len(self._reads) >= 1024:
                self._reads.clear()
            fields = _visitor_reads(params)
            reads = self._reads[id(params)] = (
                params, _in_order(fields), _in_order(fields | _ANCHOR_FALLBACK),
                _in_order(fields | _ANCHOR_READS.get(params.anchor, frozenset())))
        if params.anchor == "auto":
            read = reads[1] if ctx.catalog.get(page.sku) is not None else reads[2]
        else:
            read = reads[3]
        parts = tuple([(field, self._cart_key(visitor.cart) if field == "cart"
                        else frozen(getattr(visitor, field))) for field in read])
        return ((id(params), id(ctx.catalog), id(ctx.signals), ctx.language, ctx.currency,
                 frozen(page.sku), frozen(page.category), placement_key(ctx.placement), parts),
                (params, ctx.catalog, ctx.signals))

    def render(self, ctx: RenderContext, params: RecsParams) -> str | None:
        products = tuple(recommend(ctx, params, context_product(ctx, params.anchor)))
        # Visitors who get the same products in the same place share the rendered frame.
        key = (id(params), ctx.language, ctx.currency, placement_key(ctx.placement), products)
        html = self._frames.get(key)
        if html is MISS:
            html = self._frame(ctx, params, products)
            self._frames.put(key, (params,), html)
        return html

    def _frame(self, ctx: RenderContext, params: RecsParams, products: tuple[Product, ...]
               ) -> str | None:
        views = []
        for product in products:
            view = self._view(product, ctx, params.show_price)
            if view is not None:
                views.append(view)
        if len(views) < params.min_count:
            return None
        lang = ctx.language
        texts = {lang: params.title} if isinstance(params.title, str) else params.title
        title = clean_text(pick_text(texts, lang) or t(lang, "recs.title"), 200)
        return self.templates.render("recs.html", **self.view(ctx), title=title,
                                     label=title or t(lang, "recs.label"), products=views)
