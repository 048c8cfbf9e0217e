"""Params as rule files write them: alternative names, one-language titles, name placeholders."""

from __future__ import annotations

import pytest

from tests.widgets.factories import context
from tests.widgets.htmlcheck import elements, root, text_of
from widgets.catalog import Catalog
from widgets.context import Signals
from widgets.greeting import fill_name
from widgets.registry import WidgetRegistry


@pytest.mark.parametrize(("text", "name", "lang", "expected"), [
    ("Picked for you, {first_name}", "Krzysztof", "pl", "Picked for you, Krzysztofie"),
    ("Picked for you, {first_name}", "Krzysztof", "en", "Picked for you, Krzysztof"),
    ("Picked for you, {first_name}!", "John", "pl", "Picked for you!"),
    ("{first_name}, welcome back", "", "en", "Welcome back"),
    ("{first_name}, welcome back", "Anna", "pl", "Anno, welcome back"),
    ("No placeholder", "Anna", "pl", "No placeholder"),
])
def test_fill_name(text: str, name: str, lang: str, expected: str) -> None:
    assert fill_name(text, name, lang) == expected


def test_banner_accepts_headline_body_href_and_the_name_placeholder(
        registry: WidgetRegistry, catalog: Catalog, signals: Signals) -> None:
    params = {"headline": "Wybrane dla Ciebie, {first_name}", "body": "Nowości",
              "href": "/c/premium", "cta": "Zobacz", "image": "/static/hero.jpg"}
    known = registry.render("banner", context("known", catalog=catalog, signals=signals),
                            params, include_css=False)
    assert known is not None
    assert text_of(next(el for el in elements(known) if el.tag == "h2")) == (
        "Wybrane dla Ciebie, Krzysztofie")
    assert [a.get("href") for a in elements(known) if a.tag == "a"] == ["/c/premium"]
    anonymous = registry.render("banner", context("anonymous", catalog=catalog,
                                                  signals=signals), params, include_css=False)
    assert anonymous is not None
    assert text_of(next(el for el in elements(anonymous) if el.tag == "h2")) == (
        "Wybrane dla Ciebie")


def test_advisor_parts_can_be_switched_off(registry: WidgetRegistry, catalog: Catalog) -> None:
    ctx = context("known", catalog=catalog)
    html = registry.render("advisor_card", ctx, {"show_photo": False, "show_email": False},
                           include_css=False)
    assert html is not None
    assert not [el for el in elements(html) if el.tag == "img"]
    assert [a.get("href") for a in elements(html) if a.tag == "a"] == ["tel:+48601234567"]


def test_frame_accepts_size_and_a_one_language_title(registry: WidgetRegistry,
                                                      catalog: Catalog, signals: Signals) -> None:
    ctx = context("returning", catalog=catalog, signals=signals, language="en")
    html = registry.render("recommendations", ctx, {
        "title": "Picked for you", "size": 3,
        "mix": [{"strategy": "last_viewed", "count": 2}, {"strategy": "bestsellers"}]},
        include_css=False)
    assert html is not None
    assert text_of(next(el for el in elements(html) if el.tag == "h2")) == "Picked for you"
    assert len([a for a in elements(html) if a.tag == "a"]) == 3
    assert root(html).get("aria-label") == "Picked for you"
