"""Each widget, rendered for a first visit, a returning anonymous visitor and a known contact."""

from __future__ import annotations

import re

import pytest

from tests.widgets.factories import VISITORS, context
from tests.widgets.htmlcheck import assert_inert, elements, root, text_of
from widgets.catalog import Catalog
from widgets.context import Signals
from widgets.i18n import format_price
from widgets.recs import context_product, recommend
from widgets.recs.params import RecsParams
from widgets.registry import WidgetRegistry

BANNER = {"title": "Wyprzedaż", "text": "Do -50% na buty", "cta": "Zobacz", "link": "/sale",
          "image": "https://cdn.example.com/sale.jpg", "image_alt": "Buty na wyprzedaży",
          "greeting": True, "show_loyalty": True,
          "texts": {"en": {"title": "Sale", "text": "Up to 50% off shoes", "cta": "Shop now",
                           "image_alt": "Shoes on sale"}}}
FRAME = {"count": 6, "min_count": 3,
         "mix": [{"strategy": "viewed_together", "count": 2},
                 {"strategy": "same_category", "count": 2}, {"strategy": "bestsellers"}],
         "filters": {"in_stock": True}}


def check_tracking(html: str, widget: str) -> None:
    el = root(html)
    assert "edge-w" in el.get("class", "").split()
    assert el.get("data-edge-placement") == "hero"
    assert el.get("data-edge-variant") == "B"
    assert el.get("data-edge-experiment") == "exp-1"
    assert el.get("data-edge-widget") == widget
    assert el.get("aria-label")


def check_accessible(html: str) -> None:
    for el in elements(html):
        if el.tag == "img":
            assert el.get("alt"), "every image has alt text"
        if el.tag == "a":
            assert text_of(el).strip() or el.get("aria-label"), "every link has a name"


@pytest.mark.parametrize("kind", VISITORS)
def test_banner(kind: str, registry: WidgetRegistry, catalog: Catalog, signals: Signals) -> None:
    ctx = context(kind, catalog=catalog, signals=signals)
    html = registry.render("banner", ctx, BANNER, include_css=False)
    assert html is not None
    check_tracking(html, "banner")
    check_accessible(html)
    assert_inert(html)
    text = text_of(root(html))
    assert "Wyprzedaż" in text and "Do -50% na buty" in text
    cta = [a for a in elements(html) if a.tag == "a"]
    assert [a.get("href") for a in cta] == ["/sale"] and text_of(cta[0]) == "Zobacz"
    if kind == "known":
        assert "Witaj, Krzysztofie!" in text
        assert "Masz 1\xa0250 pkt" in text and "Gold" in text and "Platinum" in text
    else:
        assert "Witaj!" in text and "Krzysztof" not in text
        assert "pkt" not in text


def test_banner_in_english_uses_the_english_texts(registry: WidgetRegistry, catalog: Catalog,
                                                  signals: Signals) -> None:
    ctx = context("known", catalog=catalog, signals=signals, language="en")
    html = registry.render("banner", ctx, BANNER, include_css=False)
    assert html is not None
    text = text_of(root(html))
    assert "Hello, Krzysztof!" in text and "Sale" in text and "You have 1,250 points" in text
    img = next(el for el in elements(html) if el.tag == "img")
    assert img.get("alt") == "Shoes on sale"


def test_banner_with_nothing_to_show_keeps_the_default(registry: WidgetRegistry) -> None:
    ctx = context("anonymous")
    assert registry.render("banner", ctx, {}) is None
    assert registry.render("banner", ctx, {"link": "/x", "show_loyalty": True}) is None


@pytest.mark.parametrize("kind", VISITORS)
def test_advisor_card(kind: str, registry: WidgetRegistry, catalog: Catalog,
                      signals: Signals) -> None:
    ctx = context(kind, catalog=catalog, signals=signals)
    params = {"fallback": "contact",
              "contact": {"name": "Biuro obsługi", "phone": "22 100 20 30",
                          "email": "kontakt@example.com"},
              "default_country_code": "48"}
    html = registry.render("advisor_card", ctx, params, include_css=False)
    assert html is not None
    check_tracking(html, "advisor_card")
    check_accessible(html)
    assert_inert(html)
    assert root(html).tag == "aside"
    links = {a.get("href") for a in elements(html) if a.tag == "a"}
    text = text_of(root(html))
    if kind == "known":
        assert "Twój doradca" in text and "Anna Nowak" in text and "Doradca klienta" in text
        assert links == {"tel:+48601234567", "mailto:anna.nowak@example.com"}
        img = next(el for el in elements(html) if el.tag == "img")
        assert img.get("src") == "https://cdn.example.com/advisors/anna.jpg"
        assert img.get("alt") == "Zdjęcie: Anna Nowak"
    else:
        assert "Skontaktuj się z nami" in text and "Biuro obsługi" in text
        assert links == {"tel:+48221002030", "mailto:kontakt@example.com"}


@pytest.mark.parametrize("kind", ["anonymous", "returning"])
def test_advisor_card_without_fallback_renders_nothing(kind: str, registry: WidgetRegistry,
                                                       catalog: Catalog) -> None:
    assert registry.render("advisor_card", context(kind, catalog=catalog), {}) is None


def test_advisor_with_unusable_contacts_shows_no_links(registry: WidgetRegistry) -> None:
    ctx = context("anonymous", advisor={"name": "Jan", "phone": "ask at desk",
                                        "email": "not-an-email", "photo": "javascript:x"})
    html = registry.render("advisor_card", ctx, {}, include_css=False)
    assert html is not None and "Jan" in text_of(root(html))
    assert not [el for el in elements(html) if el.tag in ("a", "img")]


@pytest.mark.parametrize("kind", VISITORS)
def test_recommendation_frame(kind: str, registry: WidgetRegistry, catalog: Catalog,
                              signals: Signals) -> None:
    ctx = context(kind, catalog=catalog, signals=signals)
    html = registry.render("recommendations", ctx, FRAME, include_css=False)
    assert html is not None
    check_tracking(html, "recommendations")
    check_accessible(html)
    assert_inert(html)
    expected = recommend(ctx, RecsParams.model_validate(FRAME), context_product(ctx))
    links = [a for a in elements(html) if a.tag == "a"]
    assert [a.get("data-edge-sku") for a in links] == [p.sku for p in expected]
    assert len(links) == 6
    for a, product in zip(links, expected, strict=True):
        assert a.get("href") == product.url  # the real URL: clicks work without JS
        assert product.name in text_of(a)
    prices = [text_of(el) for el in elements(html) if "edge-w__price" in el.get("class", "")]
    assert prices == [format_price(p.price, "PLN", "pl") for p in expected]
    skus = {p.sku for p in expected}
    visitor = ctx.visitor
    assert not skus & set(visitor.purchased) and not skus & {i.sku for i in visitor.cart}
    if kind == "anonymous":
        # No history, no page product: the frame is about nothing; bestsellers fill it.
        assert context_product(ctx) is None
        ranked = [s for s, _ in signals.bestsellers
                  if catalog.get(s) and catalog.get(s).in_stock]  # type: ignore[union-attr]
        assert [p.sku for p in expected] == ranked[:6]
    else:
        assert context_product(ctx) is catalog.get(visitor.viewed[0])


def test_frame_title_per_language(registry: WidgetRegistry, catalog: Catalog,
                                  signals: Signals) -> None:
    for lang, default in (("pl", "Polecamy dla Ciebie"), ("en", "Recommended for you"),
                          ("de", "Empfehlungen für Sie")):
        ctx = context("returning", catalog=catalog, signals=signals, language=lang)
        html = registry.render("recommendations", ctx, FRAME, include_css=False)
        assert html is not None
        title = next(el for el in elements(html) if el.tag == "h2")
        assert text_of(title) == default
        custom = registry.render("recommendations", ctx, {**FRAME, "title": {"pl": "Dla Ciebie",
                                                                  "en": "For you"}})
        assert custom is not None
        assert text_of(next(el for el in elements(custom) if el.tag == "h2")) == (
            "Dla Ciebie" if lang == "pl" else "For you")


def test_css_is_scoped_under_the_widget_root(registry: WidgetRegistry) -> None:
    sheet = registry.stylesheet()
    css = re.sub(r"/\*.*?\*/", "", sheet.split(">", 1)[1].rsplit("<", 1)[0], flags=re.S)
    selectors = re.findall(r"([^{}]+)\{[^{}]*\}", css)
    assert selectors
    for group in selectors:
        for selector in group.split(","):
            assert selector.strip().startswith(".edge-w"), selector


def test_fragments_carry_the_stylesheet_once(registry: WidgetRegistry, catalog: Catalog,
                                             signals: Signals) -> None:
    ctx = context("known", catalog=catalog, signals=signals)
    html = registry.render("banner", ctx, BANNER)
    assert html is not None and html.startswith(registry.stylesheet())
    assert html.count("<style") == 1
