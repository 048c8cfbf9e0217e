"""Strategies, mixing, filters and the minimum count on a small, hand-made shop.

The shop: running shoes R1–R4, casual shoes C1–C2, jeans J1–J2, lamps L1–L2, flats A2/A3, with
co-occurrence signals as an event history would produce them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.widgets.factories import make_catalog, make_signals
from tests.widgets.htmlcheck import elements
from widgets.catalog import Catalog
from widgets.context import RenderContext, build_context
from widgets.recs import STRATEGIES, context_product, recommend
from widgets.recs.params import RecsParams
from widgets.registry import WidgetRegistry


def _p(sku: str, price: float, category: str, created: str, stock: int = 5,
       **attrs: Any) -> dict[str, Any]:
    return {"sku": sku, "name": f"Product {sku}", "url": f"/p/{sku}", "image": f"/i/{sku}.jpg",
            "price": price, "currency": "PLN", "category": category, "attributes": attrs,
            "stock": stock, "created_at": created}


SHOP = Catalog.from_dicts([
    _p("R1", 100, "shoes/running", "2025-01-10", color="blue"),
    _p("R2", 150, "shoes/running", "2025-02-10", stock=0, color="black"),
    _p("R3", 220, "shoes/running", "2025-03-10", color="blue"),
    _p("R4", 60, "shoes/running", "2025-01-01", color="red"),
    _p("C1", 90, "shoes/casual", "2025-04-10", color="blue"),
    _p("C2", 300, "shoes/casual", "2024-12-01", color="brown"),
    _p("J1", 199, "clothes/jeans", "2025-05-10", color="blue", fit="bootcut"),
    _p("J2", 250, "clothes/jeans", "2024-11-01", color="black", fit="slim"),
    _p("L1", 80, "home/lamps", "2025-06-01", color="white"),
    _p("L2", 120, "home/lamps", "2024-10-01", color="black"),
    _p("A2", 500_000, "property/flats", "2024-01-01", rooms=2),
    _p("A3", 650_000, "property/flats", "2024-02-01", rooms=3),
])
SIGNALS = {
    "viewed_together": {"R1": [["R3", 10], ["C1", 8], ["R2", 5], ["J1", 2], ["GONE", 99]]},
    "bought_together": {"R1": [["J1", 9], ["L1", 3]]},
    "bestsellers": [["J2", 50], ["R3", 40], ["L2", 30], ["C1", 20], ["R4", 10]],
}


def ctx(*, page_sku: str | None = None, category: str | None = None,
        **visitor: Any) -> RenderContext:
    page = {"page_type": "product" if page_sku else "home", "sku": page_sku, "category": category}
    return build_context(catalog=SHOP, signals=SIGNALS, page=page, visitor=visitor)


def skus(context: RenderContext, count: int = 12, anchor: str = "auto", **params: Any
         ) -> list[str]:
    parsed = RecsParams.model_validate({"count": count, "anchor": anchor, **params})
    return [p.sku for p in recommend(context, parsed, context_product(context, parsed.anchor))]


def only(strategy: str) -> list[dict[str, Any]]:
    return [{"strategy": strategy}]


# --- the context product ---------------------------------------------------------------

def test_context_product_is_the_page_product() -> None:
    assert context_product(ctx(page_sku="R1", viewed=["C1"])) is SHOP.get("R1")


def test_context_product_elsewhere_is_the_last_viewed_known_product() -> None:
    assert context_product(ctx(viewed=["GONE", "C1", "R1"])) is SHOP.get("C1")


def test_context_product_without_views_is_the_priciest_cart_item() -> None:
    cart = [{"sku": "R1", "qty": 3, "price": 100}, {"sku": "J2", "qty": 1, "price": 250},
            {"sku": "L1", "qty": 1}]
    assert context_product(ctx(cart=cart)) is SHOP.get("J2")
    assert context_product(ctx(cart=cart), "cart") is SHOP.get("J2")


def test_no_history_means_no_context_product() -> None:
    assert context_product(ctx()) is None
    assert context_product(ctx(page_sku="R1"), "none") is None


# --- each strategy ----------------------------------------------------------------------

def test_same_category_then_parent_category_by_bestseller_score() -> None:
    # R2 is out of stock; R1 is the page product. Running shoes first, then other shoes.
    assert skus(ctx(page_sku="R1"), mix=only("same_category")) == ["R3", "R4", "C1", "C2"]


def test_same_category_without_a_product_is_top_in_the_page_category() -> None:
    assert skus(ctx(category="home/lamps"), mix=only("same_category")) == ["L2", "L1"]
    assert skus(ctx(), mix=only("same_category")) == []


def test_viewed_together_in_score_order_skipping_unknown_products() -> None:
    assert skus(ctx(page_sku="R1"), mix=only("viewed_together")) == ["R3", "C1", "J1"]
    assert skus(ctx(page_sku="R1"), mix=only("viewed_together"),
                filters={"in_stock": False}) == ["R3", "C1", "R2", "J1"]
    assert skus(ctx(page_sku="C2"), mix=only("viewed_together")) == []


def test_bought_together() -> None:
    assert skus(ctx(page_sku="R1"), mix=only("bought_together")) == ["J1", "L1"]


def test_last_viewed_most_recent_first() -> None:
    assert skus(ctx(viewed=["L2", "R1", "C2"]), anchor="none",
                mix=only("last_viewed")) == ["L2", "R1", "C2"]


def test_bestsellers() -> None:
    assert skus(ctx(), mix=only("bestsellers")) == ["J2", "R3", "L2", "C1", "R4"]


def test_new_arrivals_newest_first_in_stock_only() -> None:
    # R2 (2025-02-10) is out of stock.
    assert skus(ctx(), count=5, mix=only("new_arrivals")) == ["L1", "J1", "C1", "R3", "R1"]


def test_preferences_match_declared_category_price_and_attributes() -> None:
    prefs = {"color": "blue", "max_price": 200, "category": "shoes"}
    # Blue shoes up to 200: C1 and R1 (R3 costs 220); C1 sells better.
    assert skus(ctx(preferences=prefs), mix=only("preferences")) == ["C1", "R1"]


def test_preferences_rank_products_matching_more_attributes_first() -> None:
    prefs = {"color": ["Blue"], "fit": "bootcut"}
    assert skus(ctx(preferences=prefs), mix=only("preferences")) == ["J1", "R3", "C1", "R1"]
    assert skus(ctx(preferences={"shoe_size": 42}), mix=only("preferences")) == []
    assert skus(ctx(), mix=only("preferences")) == []


def test_affinity_follows_the_attribute_values_viewed_most() -> None:
    visitor: dict[str, Any] = {"attribute_affinities": {"color": {"blue": 3, "black": 1}}}
    # Blue (0.75) before black (0.25); bestsellers break ties; R2 is out of stock.
    assert skus(ctx(**visitor), mix=only("affinity")) == ["R3", "C1", "R1", "J1", "J2", "L2"]


def test_affinity_on_numeric_attributes_and_categories() -> None:
    rooms: dict[str, Any] = {"attribute_affinities": {"rooms": {"3": 6, "2": 2}}}
    assert skus(ctx(**rooms), mix=only("affinity")) == ["A3", "A2"]
    lamps: dict[str, Any] = {"attribute_affinities": {"color": {"black": 1}},
                             "category_affinities": {"home": 4}}
    # L2: black 1.0 + home 1.0; J2 (black) and L1 (home) tie at 1.0, J2 sells better.
    assert skus(ctx(**lamps), mix=only("affinity")) == ["L2", "J2", "L1"]
    assert skus(ctx(), mix=only("affinity")) == []


def test_every_named_strategy_exists() -> None:
    assert set(STRATEGIES) == {"same_category", "viewed_together", "bought_together",
                               "last_viewed", "liked", "bestsellers", "new_arrivals",
                               "preferences", "affinity"}


# --- mixing -----------------------------------------------------------------------------

def test_mix_takes_each_strategy_in_order_and_the_last_fills_the_rest() -> None:
    mix = [{"strategy": "viewed_together", "count": 2}, {"strategy": "same_category", "count": 2},
           {"strategy": "bestsellers"}]
    # viewed: R3, C1 | same category: R4, C2 (R3, C1 already in) | bestsellers: J2, L2.
    assert skus(ctx(page_sku="R1"), count=6, mix=mix) == ["R3", "C1", "R4", "C2", "J2", "L2"]


def test_a_step_that_falls_short_leaves_its_places_to_the_filler() -> None:
    mix = [{"strategy": "bought_together", "count": 3}, {"strategy": "new_arrivals"}]
    assert skus(ctx(page_sku="R1"), count=4, mix=mix) == ["J1", "L1", "C1", "R3"]


def test_counted_steps_alone_can_leave_the_frame_short() -> None:
    mix = [{"strategy": "bestsellers", "count": 2}, {"strategy": "new_arrivals", "count": 1}]
    assert skus(ctx(), count=6, mix=mix) == ["J2", "R3", "L1"]


def test_no_duplicates_across_steps() -> None:
    mix = [{"strategy": "bestsellers", "count": 2}, {"strategy": "bestsellers"}]
    result = skus(ctx(), count=10, mix=mix)
    assert result == ["J2", "R3", "L2", "C1", "R4"] and len(set(result)) == len(result)


def test_default_mix_on_a_first_visit_and_on_a_product_page() -> None:
    assert skus(ctx(), count=4) == ["J2", "R3", "L2", "C1"]
    assert skus(ctx(page_sku="R1"), count=4) == ["R3", "C1", "R4", "C2"]


# --- filters ----------------------------------------------------------------------------

def test_price_range_relative_to_the_context_product() -> None:
    # R1 costs 100: 0.5×–1.5× keeps 50..150.
    filters = {"price_min_ratio": 0.5, "price_max_ratio": 1.5}
    assert skus(ctx(page_sku="R1"), mix=only("bestsellers"), filters=filters) == [
        "L2", "C1", "R4"]


@pytest.mark.parametrize(("tier", "expected"), [
    ("lower", ["C1", "R4"]), ("higher", ["J2", "R3", "L2"]), ("similar", ["L2", "C1"]),
])
def test_price_tiers(tier: str, expected: list[str]) -> None:
    assert skus(ctx(page_sku="R1"), mix=only("bestsellers"),
                filters={"price_tier": tier}) == expected


def test_relative_price_filters_need_a_context_product() -> None:
    assert skus(ctx(), mix=only("bestsellers"), filters={"price_tier": "lower"}) == [
        "J2", "R3", "L2", "C1", "R4"]


def test_absolute_price_bounds() -> None:
    assert skus(ctx(), mix=only("bestsellers"), filters={"min_price": 100, "max_price": 230}
                ) == ["R3", "L2"]


def test_in_stock_filter_can_be_switched_off() -> None:
    assert "R2" not in skus(ctx(), mix=only("new_arrivals"))
    assert "R2" in skus(ctx(), mix=only("new_arrivals"), filters={"in_stock": False})


def test_bought_cart_viewed_and_current_product_are_excluded() -> None:
    visitor: dict[str, Any] = {"purchased": ["J2"], "cart": [{"sku": "R3", "qty": 1}],
                               "viewed": ["L2"]}
    assert skus(ctx(page_sku="C1", **visitor), mix=only("bestsellers")) == ["L2", "R4"]
    assert skus(ctx(page_sku="C1", **visitor), mix=only("bestsellers"),
                filters={"exclude_bought": False, "exclude_cart": False}) == [
        "J2", "R3", "L2", "R4"]
    assert skus(ctx(page_sku="C1", **visitor), mix=only("bestsellers"),
                filters={"exclude_viewed": True}) == ["R4"]
    # The page product stays out even when the frame is not anchored on it.
    assert "C1" not in skus(ctx(page_sku="C1"), anchor="none", mix=only("bestsellers"))


def test_category_filter() -> None:
    assert skus(ctx(), mix=only("bestsellers"), filters={"category": "shoes"}) == [
        "R3", "C1", "R4"]


# --- minimum count and the rendered frame -------------------------------------------------

def test_min_count_keeps_the_default_when_too_few_products() -> None:
    registry = WidgetRegistry.create()
    params = {"count": 4, "min_count": 3, "mix": only("bought_together")}
    assert registry.render("recs", ctx(page_sku="R1"), params) is None  # only J1, L1
    html = registry.render("recs", ctx(page_sku="R1"), {**params, "min_count": 2})
    assert html is not None
    assert [a.get("data-edge-sku") for a in elements(html) if a.tag == "a"] == ["J1", "L1"]


def test_products_with_unsafe_urls_are_not_shown() -> None:
    shop = Catalog.from_dicts([
        _p("OK", 10, "a", "2025-01-01"), {**_p("BAD", 20, "a", "2025-01-02"),
                                          "url": "javascript:alert(1)"}])
    context = build_context(catalog=shop, signals={"bestsellers": [["BAD", 9], ["OK", 1]]})
    html = WidgetRegistry.create().render("recs", context, {"mix": only("bestsellers")})
    assert html is not None
    assert [a.get("data-edge-sku") for a in elements(html) if a.tag == "a"] == ["OK"]


def test_seeded_catalog_frames_are_deterministic_and_respect_filters() -> None:
    catalog = make_catalog()
    signals = make_signals(catalog)
    purchased = {"P0018", "P0024"}

    def passes(sku: str, anchor_price: float) -> bool:
        product = catalog.get(sku)
        return (product is not None and product.in_stock and sku not in purchased
                and 0.5 * anchor_price <= product.price <= 1.5 * anchor_price)

    # An anchor whose viewed-together list has at least two products that pass the filters.
    anchor = next(p for p in catalog if sum(
        passes(s, p.price) for s, _ in signals.viewed_together[p.sku]) >= 2)
    context = build_context(catalog=catalog, signals=signals,
                            page={"page_type": "product", "sku": anchor.sku},
                            visitor={"purchased": sorted(purchased)})
    params = RecsParams.model_validate({
        "count": 6, "mix": [{"strategy": "viewed_together", "count": 2},
                            {"strategy": "same_category", "count": 2},
                            {"strategy": "bestsellers", "count": 1},
                            {"strategy": "new_arrivals"}],
        "filters": {"price_min_ratio": 0.5, "price_max_ratio": 1.5}})
    first = recommend(context, params, anchor)
    assert [p.sku for p in first] == [p.sku for p in recommend(context, params, anchor)]
    assert len(first) == 6 and len({p.sku for p in first}) == 6
    for product in first:
        assert product.sku != anchor.sku and product.sku not in purchased
        assert passes(product.sku, anchor.price)
    together = [s for s, _ in signals.viewed_together[anchor.sku] if passes(s, anchor.price)]
    assert [p.sku for p in first[:2]] == together[:2]
    assert all(set(p.categories) & set(anchor.categories) for p in first[2:4])
