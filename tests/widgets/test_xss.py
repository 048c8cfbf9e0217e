"""Hostile values through every profile field, catalog field and rule text come out inert."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.widgets.factories import known_contact, make_catalog, product_dicts
from tests.widgets.htmlcheck import assert_inert, parse, text_of
from widgets.catalog import Catalog
from widgets.context import RenderContext, Signals, build_context
from widgets.registry import WidgetRegistry
from widgets.safety import clean_text

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    '" onerror="alert(1)" x="',
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<img src=x onerror=alert(1)>",
    "</style><script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "{{ 7*7 }}{% raw %}",
    "vbscript:msgbox(1)",
]

BANNER_FIELDS = ["title", "text", "cta", "image", "image_alt", "link"]
CONTACT_FIELDS = ["name", "role", "phone", "email", "photo"]
PRODUCT_FIELDS = ["sku", "name", "url", "image", "category", "description"]

FRAME = {"count": 6, "mix": [{"strategy": "last_viewed", "count": 2},
                             {"strategy": "bestsellers"}]}


def _ctx(catalog: Catalog, visitor: dict[str, Any], *, placement: Any = None,
         language: str = "pl") -> RenderContext:
    skus = [p.sku for p in catalog]
    signals = Signals.from_raw({s: [(t, 1.0) for t in skus[:8]] for s in skus},
                               {}, [(s, 100.0 - i) for i, s in enumerate(skus)])
    return build_context(language=language, catalog=catalog, signals=signals, visitor=visitor,
                         placement=placement or {"id": "hero", "variant": "A"},
                         page={"page_type": "home"})


def _render_all(registry: WidgetRegistry, ctx: RenderContext,
                params: dict[str, dict[str, Any]] | None = None) -> list[str]:
    params = params or {}
    banner = params.get("banner", {"title": "Hi", "greeting": True, "show_loyalty": True,
                                   "link": "/x", "image": "/i.jpg"})
    out = [
        registry.render("banner", ctx, banner),
        registry.render("advisor", ctx, params.get("advisor", {"fallback": "contact",
                                                                "contact": {"name": "Desk"}})),
        registry.render("recs", ctx, params.get("recs", FRAME)),
    ]
    return [html for html in out if html is not None]


@pytest.fixture(scope="module")
def small_catalog() -> Catalog:
    return make_catalog(60)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_profile_fields(payload: str, registry: WidgetRegistry, small_catalog: Catalog) -> None:
    base = known_contact(small_catalog)
    variants: list[dict[str, Any]] = [
        {"first_name": payload},
        {"loyalty": {"points": 10, "tier": payload, "next_tier": payload, "points_to_next": 5}},
        {"viewed": [payload, *base["viewed"]], "purchased": [payload], "liked": [payload]},
        {"cart": [{"sku": payload, "qty": 1, "price": 10}]},
        {"preferences": {"color": payload, "category": payload}},
        {"attribute_affinities": {payload: {payload: 3}}, "category_affinities": {payload: 2}},
        {"attributes": {payload: payload}},
    ]
    variants += [{"advisor": {**base["advisor"], field: payload}} for field in CONTACT_FIELDS]
    for change in variants:
        ctx = _ctx(small_catalog, {**base, **change})
        rendered = _render_all(registry, ctx)
        assert len(rendered) >= 2, change
        for html in rendered:
            assert_inert(html)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", PRODUCT_FIELDS)
def test_catalog_fields(payload: str, field: str, registry: WidgetRegistry) -> None:
    items = product_dicts(12)
    items[0][field] = payload
    items[1]["attributes"] = {payload: payload}
    catalog = Catalog.from_dicts(items)
    ctx = _ctx(catalog, {"viewed": [items[1]["sku"], items[0]["sku"]]})
    html = registry.render("recs", ctx, FRAME)
    assert html is not None
    assert_inert(html)
    if field == "name":
        # Text is shown escaped, as text, not dropped.
        assert clean_text(payload) in text_of(parse(html))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_rule_texts_and_params(payload: str, registry: WidgetRegistry,
                               small_catalog: Catalog) -> None:
    visitor = known_contact(small_catalog)
    for field in BANNER_FIELDS:
        ctx = _ctx(small_catalog, visitor)
        html = registry.render("banner", ctx, {"title": "T", "text": "x", field: payload,
                                               "link": "/ok" if field != "link" else payload,
                                               "texts": {"pl": {"cta": payload}}})
        assert html is not None
        assert_inert(html)
        if field in ("title", "text"):
            assert clean_text(payload) in text_of(parse(html))
    anonymous = _ctx(small_catalog, {})
    for field in CONTACT_FIELDS:
        contact = {"name": "Desk", "phone": "+48 22 100 20 30", "email": "a@example.com",
                   "photo": "/p.jpg", field: payload}
        html = registry.render("advisor", anonymous, {
            "fallback": "contact", "contact": contact, "title": {"pl": payload},
            "contact_title": {"pl": payload}})
        assert_inert(html)
    html = registry.render("recs", anonymous, {**FRAME, "title": {"pl": payload},
                                               "filters": {"category": payload}})
    assert_inert(html)
    html = registry.render("recs", anonymous, {**FRAME, "title": {"pl": payload}})
    assert html is not None
    assert_inert(html)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_placement_ids_from_rules(payload: str, registry: WidgetRegistry,
                                  small_catalog: Catalog) -> None:
    ctx = _ctx(small_catalog, known_contact(small_catalog),
               placement={"id": payload, "variant": payload, "experiment": payload})
    rendered = _render_all(registry, ctx)
    assert len(rendered) == 3
    for html in rendered:
        assert_inert(html)


def test_template_syntax_in_data_is_not_evaluated(registry: WidgetRegistry) -> None:
    html = registry.render("banner", build_context(), {"title": "{{ 7*7 }}"}, include_css=False)
    assert html is not None and "{{ 7*7 }}" in text_of(parse(html)) and "49" not in html


_REGISTRY = WidgetRegistry.create()
_PIECES = [*"<>\"'&=/:; aAjJsS\t\n\x00{}%\u2028", "javascript:", "<script>", "onerror=",
           "data:", "</style>"]
_HTMLISH = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@settings(max_examples=80, deadline=None)
@given(title=_HTMLISH, link=_HTMLISH, name=_HTMLISH)
def test_any_text_stays_text(title: str, link: str, name: str) -> None:
    ctx = build_context(language="en", visitor={"first_name": name, "known": True,
                                                "advisor": {"name": name or "x", "photo": link}})
    banner = _REGISTRY.render("banner", ctx, {"title": title or "t", "link": link,
                                              "image": link, "greeting": True},
                              include_css=False)
    assert banner is not None
    assert_inert(banner)
    headings = [el for el in parse(banner).iter() if el.tag == "h2"]
    shown = clean_text(title or "t", 300)
    assert [text_of(h) for h in headings] == ([shown] if shown else [])
    assert_inert(_REGISTRY.render("advisor", ctx, {}, include_css=False))
