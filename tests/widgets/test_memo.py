"""The render memo: a rendering is reused only for inputs identical in everything it reads.

Every memoized rendering is checked against a fresh registry (empty memos) given the same
context, so a wrong reuse shows up as a difference.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.widgets.factories import context, known_contact, make_catalog
from widgets.catalog import Catalog
from widgets.context import RenderContext, Signals, build_context
from widgets.registry import WidgetRegistry

FRAME = {"count": 4, "min_count": 1,
         "mix": [{"strategy": "viewed_together", "count": 2}, {"strategy": "bestsellers"}],
         "filters": {"in_stock": True, "exclude_bought": True, "exclude_cart": True}}
HOME_FRAME = {"count": 4, "mix": [{"strategy": "last_viewed", "count": 2},
                                  {"strategy": "preferences"}, {"strategy": "bestsellers"}]}
BANNER = {"title": "{first_name}, mamy coś dla Ciebie", "greeting": True, "show_loyalty": True,
          "link": "/sale"}


def fresh(name: str, ctx: RenderContext, params: dict[str, Any]) -> str | None:
    return WidgetRegistry.create().render(name, ctx, params, include_css=False)


def ctx_for(catalog: Catalog, signals: Signals, sku: str | None = None,
            **visitor: Any) -> RenderContext:
    page = {"page_type": "product", "sku": sku} if sku else {"page_type": "home"}
    return build_context(language="pl", catalog=catalog, signals=signals, visitor=visitor,
                         page=page, placement={"id": "recs", "variant": "A"})


def test_params_from_the_same_rule_are_validated_once() -> None:
    registry = WidgetRegistry.create()
    mix = [{"strategy": "bestsellers"}]
    first = registry.parse_params("recs", {"count": 3, "mix": mix})
    # A decision copies the rule's params into a new dict per request: same values, same parse.
    assert registry.parse_params("recs", {"count": 3, "mix": mix}) is first
    other = registry.parse_params("recs", {"count": 5, "mix": mix})
    assert other is not first and other.count == 5
    mix.append({"strategy": "random"})  # a new list of values is validated afresh
    with pytest.raises(Exception, match="mix.1.strategy"):
        registry.parse_params("recs", {"count": 3, "mix": list(mix)})


def test_anonymous_visitors_on_a_page_share_one_frame(catalog: Catalog, signals: Signals) -> None:
    registry = WidgetRegistry.create()
    frame = registry.get("recs")
    sku = next(iter(catalog)).sku
    htmls = {registry.render("recs", ctx_for(catalog, signals, sku, known=False,
                                             first_name=name), FRAME, include_css=False)
             for name in ("", "Anna", "Jan")}
    assert len(htmls) == 1 and len(frame.memo) == 1
    assert htmls == {fresh("recs", ctx_for(catalog, signals, sku), FRAME)}


def test_what_a_frame_reads_of_a_visitor_keys_it(catalog: Catalog, signals: Signals) -> None:
    registry = WidgetRegistry.create()
    sku = next(iter(catalog)).sku
    base = registry.render("recs", ctx_for(catalog, signals, sku), FRAME, include_css=False)
    assert base is not None
    shown = [s for s in catalog if f'data-edge-sku="{s.sku}"' in base]
    # A visitor who bought a product the frame shows, or has it in the cart, must not get it.
    for visitor in ({"purchased": [shown[0].sku]},
                    {"cart": [{"sku": shown[0].sku, "qty": 1, "price": 10.0}]}):
        ctx = ctx_for(catalog, signals, sku, **visitor)
        html = registry.render("recs", ctx, FRAME, include_css=False)
        assert html == fresh("recs", ctx, FRAME)
        assert f'data-edge-sku="{shown[0].sku}"' not in (html or "")
    # Views and likes are not read by this frame: the shared rendering is right for them too.
    ctx = ctx_for(catalog, signals, sku, viewed=[shown[1].sku], liked=[shown[2].sku])
    assert registry.render("recs", ctx, FRAME, include_css=False) == base


def test_home_frames_follow_each_visitors_history(catalog: Catalog, signals: Signals) -> None:
    registry = WidgetRegistry.create()
    skus = [p.sku for p in catalog if p.stock > 0]
    visitors = [{}, {"viewed": skus[:2]}, {"viewed": skus[2:4]}, {"viewed": skus[:2][::-1]},
                {"preferences": {"color": "blue"}}, {"preferences": {"color": "black"}},
                {"preferences": {"max_price": 100}}, {"preferences": {"max_price": 100.0}}]
    for _ in range(2):  # the second round is served from the memo
        for visitor in visitors:
            ctx = ctx_for(catalog, signals, **visitor)
            assert registry.render("recs", ctx, HOME_FRAME, include_css=False) == fresh(
                "recs", ctx, HOME_FRAME), visitor


def test_frame_on_a_page_whose_product_is_unknown_falls_back_to_the_visitors_history(
        catalog: Catalog, signals: Signals) -> None:
    registry = WidgetRegistry.create()
    skus = [p.sku for p in catalog]
    for viewed in ([skus[0]], [skus[1]], []):
        ctx = ctx_for(catalog, signals, "NO-SUCH-SKU", viewed=viewed)
        assert registry.render("recs", ctx, FRAME, include_css=False) == fresh("recs", ctx, FRAME)


def test_values_equal_in_python_but_shown_differently_are_kept_apart() -> None:
    registry = WidgetRegistry.create()
    shown = {}
    for tier in (1, True, 1.0, "1"):
        ctx = build_context(language="en", visitor={"loyalty": {"tier": tier, "points": 10}})
        html = registry.render("banner", ctx, BANNER, include_css=False)
        assert html == fresh("banner", ctx, BANNER)
        shown[repr(tier)] = html
    assert len(set(shown.values())) == 3  # 1 and "1" look the same; True and 1.0 do not
    assert "True" in shown["True"] and "1.0" in shown["1.0"]


def test_each_visitor_is_greeted_by_their_own_name() -> None:
    registry = WidgetRegistry.create()
    for _ in range(2):
        for name in ("Krzysztof", "Anna", "Jan", "", "Krzysztof"):
            for language in ("pl", "en"):
                ctx = build_context(language=language, visitor={"first_name": name})
                html = registry.render("banner", ctx, BANNER, include_css=False)
                assert html == fresh("banner", ctx, BANNER)
                if name:
                    assert (name[:3] in (html or "")) and "{first_name}" not in (html or "")


def test_each_visitor_sees_their_own_advisor(catalog: Catalog) -> None:
    registry = WidgetRegistry.create()
    for name in ("Ewa Kowalska", "Piotr Nowak", "Ewa Kowalska"):
        for phone in ("601 234 567", "+48 700 000 000"):
            ctx = context("known", catalog=catalog,
                          advisor={"name": name, "phone": phone, "email": "a@example.com"})
            html = registry.render("advisor", ctx, {}, include_css=False)
            assert html == fresh("advisor", ctx, {})
            assert html is not None and name in html and phone in html


def test_a_placement_change_is_a_different_rendering(catalog: Catalog, signals: Signals) -> None:
    registry = WidgetRegistry.create()
    for variant in ("A", "B", "A"):
        ctx = build_context(language="pl", catalog=catalog, signals=signals,
                            visitor=known_contact(catalog), page={"page_type": "home"},
                            placement={"id": "hero", "variant": variant})
        for name, params in (("banner", BANNER), ("advisor", {}), ("recs", HOME_FRAME)):
            html = registry.render(name, ctx, params, include_css=False)
            assert html is not None and f'data-edge-variant="{variant}"' in html


def test_inputs_a_key_cannot_describe_are_rendered_afresh(catalog: Catalog,
                                                          signals: Signals) -> None:
    class Odd:
        def __str__(self) -> str:
            return "blue"

    registry = WidgetRegistry.create()
    ctx = ctx_for(catalog, signals, preferences={"color": Odd()})
    html = registry.render("recs", ctx, HOME_FRAME, include_css=False)
    assert html == fresh("recs", ctx, HOME_FRAME)
    assert len(registry.get("recs").memo) == 0


def test_a_new_signals_object_is_a_new_frame() -> None:
    catalog = make_catalog(60)
    registry = WidgetRegistry.create()
    params = {"mix": [{"strategy": "bestsellers"}], "count": 3}
    htmls = []
    for best in (["P0001", "P0002", "P0003"], ["P0010", "P0011", "P0012"]):
        signals = Signals.from_raw(bestsellers=[[s, 10 - i] for i, s in enumerate(best)])
        ctx = build_context(catalog=catalog, signals=signals)
        htmls.append(registry.render("recs", ctx, params, include_css=False))
        assert htmls[-1] == fresh("recs", ctx, params)
    assert htmls[0] != htmls[1]


def test_memo_is_bounded() -> None:
    registry = WidgetRegistry.create()
    banner = registry.get("banner")
    banner.memo.size = 5
    for i in range(12):
        ctx = build_context(visitor={"first_name": f"Name{i}"})
        assert registry.render("banner", ctx, BANNER, include_css=False) == fresh(
            "banner", ctx, BANNER)
        assert len(banner.memo) <= 5



def test_a_remembered_cart_key_is_only_ever_its_own_carts(catalog: Catalog,
                                                          signals: Signals) -> None:
    from dataclasses import replace

    from widgets.context import CartItem

    registry = WidgetRegistry.create()
    sku = next(iter(catalog)).sku
    base = registry.render("recs", ctx_for(catalog, signals, sku), FRAME, include_css=False)
    assert base is not None
    shown = [s.sku for s in catalog if f'data-edge-sku="{s.sku}"' in base]
    ctx = ctx_for(catalog, signals, sku)
    for cart in ((CartItem(shown[0]),), (CartItem(shown[1]),), (CartItem(shown[0]),),
                 (CartItem(shown[0], qty=2),), (CartItem(shown[0], price=1),)):
        visitor = replace(ctx.visitor, cart=cart)
        for _ in range(2):  # the second time with the same cart object: its key remembered
            got = replace(ctx, visitor=visitor)
            html = registry.render("recs", got, FRAME, include_css=False)
            assert html == fresh("recs", got, FRAME)
            assert f'data-edge-sku="{cart[0].sku}"' not in (html or "")
