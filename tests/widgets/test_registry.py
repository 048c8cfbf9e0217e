from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge.errors import WidgetError
from tests.widgets.factories import context
from tests.widgets.htmlcheck import root, text_of
from widgets.base import Widget, WidgetParams
from widgets.catalog import Catalog
from widgets.context import RenderContext, build_context
from widgets.registry import WidgetRegistry, default_widgets, render_placement
from widgets.templating import Templates


class _Boom(Widget[WidgetParams]):
    name = "boom"
    params_model = WidgetParams

    def render(self, ctx: RenderContext, params: WidgetParams) -> str | None:
        raise RuntimeError("widget bug")


def test_default_widgets_are_an_explicit_ordered_list() -> None:
    templates = Templates()
    assert [w.name for w in default_widgets(templates)] == [
        "banner", "advisor_card", "recommendations"]
    registry = WidgetRegistry.create()
    assert registry.names() == ("banner", "advisor_card", "recommendations")
    assert "recommendations" in registry and "carousel" not in registry
    assert registry.get("banner").name == "banner"


def test_short_aliases_resolve_to_the_same_widget() -> None:
    registry = WidgetRegistry.create()
    assert registry.get("recs") is registry.get("recommendations")
    assert registry.get("advisor") is registry.get("advisor_card")
    ctx = build_context(visitor={"advisor": {"name": "Ewa"}}, placement={"id": "a"})
    html = registry.render("advisor", ctx, {})
    assert html is not None and root(html).get("data-edge-widget") == "advisor_card"


def test_duplicate_names_are_refused() -> None:
    templates = Templates()
    with pytest.raises(WidgetError, match="banner"):
        WidgetRegistry([*default_widgets(templates), *default_widgets(templates)], templates)


def test_unknown_widget_is_an_error_at_lookup_and_none_at_render(
        caplog: pytest.LogCaptureFixture) -> None:
    registry = WidgetRegistry.create()
    with pytest.raises(WidgetError, match="unknown widget 'carousel'"):
        registry.get("carousel")
    with caplog.at_level(logging.ERROR, logger="edge.widgets"):
        assert registry.render("carousel", build_context(), {}) is None
    assert "carousel" in caplog.text


def test_params_are_validated_with_the_field_named() -> None:
    registry = WidgetRegistry.create()
    with pytest.raises(WidgetError, match="recommendations: count"):
        registry.parse_params("recs", {"count": 0})
    with pytest.raises(WidgetError, match="mix.0.strategy"):
        registry.parse_params("recs", {"mix": [{"strategy": "random"}]})
    with pytest.raises(WidgetError, match="banner: colour"):
        registry.parse_params("banner", {"colour": "red"})
    with pytest.raises(WidgetError, match="min_count"):
        registry.parse_params("recs", {"count": 2, "min_count": 3})
    parsed = registry.parse_params("recs", {"count": 3})
    assert registry.parse_params("recs", parsed) is parsed


def test_bad_params_at_render_keep_the_default(caplog: pytest.LogCaptureFixture) -> None:
    registry = WidgetRegistry.create()
    with caplog.at_level(logging.ERROR, logger="edge.widgets"):
        assert registry.render("banner", context("known"), {"greeting": "sometimes"}) is None
    assert "banner" in caplog.text


def test_a_failing_widget_is_logged_and_the_slot_keeps_its_default(
        caplog: pytest.LogCaptureFixture) -> None:
    templates = Templates()
    registry = WidgetRegistry([*default_widgets(templates), _Boom(templates)], templates)
    ctx = build_context(placement={"id": "sidebar"})
    with caplog.at_level(logging.ERROR, logger="edge.widgets"):
        assert render_placement(registry, "boom", ctx, {}) is None
    assert "widget bug" in caplog.text and "sidebar" in caplog.text
    # The other widgets still work.
    assert registry.render("banner", ctx, {"title": "Hi"}) is not None


def test_shop_templates_and_css_override_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "banner.html").write_text(
        '{% from "_macros.html" import tracking %}'
        '<div class="edge-w shop-banner" aria-label="x" {{ tracking(widget, placement) }}>'
        '<strong>{{ title }}</strong></div>', "utf-8")
    (tmp_path / "edge.css").write_text(".edge-w.shop-banner{color:red}</style>", "utf-8")
    registry = WidgetRegistry.create(str(tmp_path))
    ctx = build_context(placement={"id": "hero"})
    html = registry.render("banner", ctx, {"title": "<b>Sale</b>"})
    assert html is not None
    assert registry.stylesheet() == (
        '<style data-edge-css="1">.edge-w.shop-banner{color:red}<\\/style></style>')
    el = root(html)
    assert el.tag == "div" and "shop-banner" in el.get("class", "")
    assert text_of(el) == "<b>Sale</b>"  # still autoescaped
    # Templates the shop did not override come from the defaults.
    advisor = registry.render("advisor", build_context(visitor={"advisor": {"name": "Ewa"}}), {})
    assert advisor is not None and root(advisor).tag == "aside"


def test_a_broken_shop_template_keeps_the_default(tmp_path: Path) -> None:
    (tmp_path / "banner.html").write_text("<div>{{ no_such_value }}</div>", "utf-8")
    registry = WidgetRegistry.create(str(tmp_path))
    assert registry.render("banner", build_context(), {"title": "Hi"}) is None


def test_a_missing_templates_dir_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(WidgetError, match="templates_dir"):
        WidgetRegistry.create(str(tmp_path / "missing"))


def test_render_without_css_gives_just_the_placement() -> None:
    registry = WidgetRegistry.create()
    html = registry.render("banner", build_context(), {"title": "Hi"}, include_css=False)
    assert html is not None and "<style" not in html
    assert root(html).tag == "section"


def test_product_cards_follow_a_new_catalog_version() -> None:
    def shop(name: str) -> Catalog:
        return Catalog.from_dicts([{"sku": "A", "name": name, "url": "/a", "price": 10,
                                    "currency": "PLN", "stock": 1}])

    registry = WidgetRegistry.create()
    params = {"mix": [{"strategy": "new_arrivals"}]}
    first = registry.render("recommendations", build_context(catalog=shop("Old name")), params)
    second = registry.render("recommendations", build_context(catalog=shop("New name")), params)
    assert first is not None and "Old name" in first
    assert second is not None and "New name" in second and "Old name" not in second


def test_shop_can_override_the_product_card(tmp_path: Path) -> None:
    (tmp_path / "recs_item.html").write_text(
        '<a href="{{ p.url }}" data-edge-sku="{{ p.sku }}">[{{ p.name }}]</a>', "utf-8")
    catalog = Catalog.from_dicts([{"sku": "A", "name": "Lamp", "url": "/a", "price": 10,
                                   "currency": "PLN", "stock": 1}])
    html = WidgetRegistry.create(str(tmp_path)).render(
        "recommendations", build_context(catalog=catalog), {"mix": [{"strategy": "new_arrivals"}]})
    assert html is not None and "[Lamp]" in html
