"""Pure mappings from what the edge knows (profile, request, page) to what the rule engine and
the widgets take. No I/O: easy to test, and the same for the proxy and embed mode."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from edge.page import Page, RequestHead
from edge.store.profile import Profile
from rules.context import (
    AttributeViews,
    Cart,
    CartItem,
    Context,
    Counter,
    PageInfo,
    PlacementHistory,
    Purchase,
    SessionInfo,
    Views,
)
from widgets.context import CartItem as WidgetCartItem
from widgets.context import PageInfo as WidgetPage
from widgets.context import VisitorInfo

_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini", re.I)


def device_type(user_agent: str) -> str:
    # A browser's user agent is the same on every page: the regexes run once per string.
    if len(user_agent) <= 512:
        return _device_type(user_agent)
    return _device_kind(user_agent)


@lru_cache(maxsize=2048)
def _device_type(user_agent: str) -> str:
    return _device_kind(user_agent)


def _device_kind(user_agent: str) -> str:
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def _seconds(ts: Any) -> float:
    """Epoch seconds from a stored timestamp in ms (the store's unit) or seconds."""
    try:
        value = float(ts)
    except (TypeError, ValueError):
        return 0.0
    return value / 1000.0 if value > 1e11 else value


def _counter(c: Any) -> Counter:
    return Counter(
        visit=c.this_visit,
        day=c.today,
        lifetime=c.lifetime,
        last=_seconds(c.last_ts) if c.last_ts else None,
    )


def rules_context(
    profile: Profile, page: Page, *, known: bool, language: str, now: float
) -> Context:
    request = page.request
    facts = page.facts
    query = dict(parse_qsl(request.query)) if request.query else {}
    visit = profile.visit
    # The page being served counts as a view of this visit; a lapsed visit starts a new one.
    if visit.active:
        page_views, seconds, visit_number = (
            visit.page_views + 1,
            visit.time_on_site_ms / 1000,
            visit.number,
        )
    else:
        page_views, seconds, visit_number = 1, 0.0, visit.number + 1
    newsletter = profile.consents.get("newsletter")
    attrs = dict(profile.attributes)
    attrs.update(
        {
            "known": known,
            "tier": profile.loyalty.tier,
            "points": profile.loyalty.points,
            "has_advisor": profile.advisor is not None and bool(profile.advisor.name),
        }
    )
    for name, value in profile.facts.items():
        attrs.setdefault(name, value)
    return Context(
        visitor_id=profile.stable_id or profile.id,
        now=now,
        page=PageInfo(
            url=request.url,
            path=request.path,
            page_type=facts.get("page-type", ""),
            product=facts.get("product", ""),
            category=facts.get("category", ""),
            slots=list(page.slots),
        ),
        session=SessionInfo(
            seconds_on_site=seconds,
            page_views=page_views,
            visit_number=max(1, visit_number),
            referrer=request.headers.get("referer", ""),
            utm={k[4:]: v for k, v in query.items() if k.startswith("utm_")},
        ),
        profile=attrs,
        preferences=dict(profile.preferences),
        consents={name: c.granted for name, c in profile.consents.items()},
        language=language,
        device=device_type(request.headers.get("user-agent", "")),
        local_time=datetime.fromtimestamp(now).astimezone().isoformat(),
        purchases=[
            Purchase(
                value=float(p.get("value") or 0),
                currency=str(p.get("currency", "")),
                ts=_seconds(p.get("ts")),
            )
            for p in profile.purchases
        ],
        cart=Cart(
            items=[
                CartItem(str(c.get("sku", "")), int(c.get("qty") or 1), float(c.get("price") or 0))
                for c in profile.cart
            ],
            value=profile.cart_value,
        ),
        views=Views(
            categories={k: int(v) for k, v in profile.categories.items()},
            attributes=AttributeViews(profile.attribute_values),
        ),
        placements={
            pid: PlacementHistory(_counter(h.seen), _counter(h.click), _counter(h.close))
            for pid, h in profile.placements.items()
        },
        newsletter=bool(newsletter.granted) if newsletter else bool(attrs.get("newsletter")),
        experiments=dict(profile.experiments),
    )


def visitor_info(profile: Profile, *, known: bool) -> VisitorInfo:
    """The visitor as the widgets see it. Built once per page and shared by its placements;
    the profile's own mappings are handed over as they are (nothing here or in the widgets
    writes to them)."""
    advisor = profile.advisor
    loyalty = profile.loyalty
    purchased: dict[str, None] = {}
    for order in profile.purchases:
        for item in order.get("items") or ():
            sku = str(item.get("sku", ""))
            if sku:
                purchased[sku] = None
    # Most recent first, each sku once (its latest view), no empty skus.
    viewed = dict.fromkeys([str(view.get("sku", "")) for view in profile.product_views])
    viewed.pop("", None)
    cart = []
    for c in profile.cart:
        sku = str(c.get("sku", ""))
        qty, price = int(c.get("qty") or 1), float(c.get("price") or 0)
        if sku:
            cart.append(WidgetCartItem(sku, qty, price))
    attributes = profile.attributes
    return VisitorInfo(
        known=bool(known),
        first_name=str(attributes.get("first_name", "") or ""),
        attributes=attributes,
        advisor=None
        if advisor is None or not advisor.name
        else {
            "name": advisor.name,
            "role": advisor.role,
            "phone": advisor.phone,
            "email": advisor.email,
            "photo": advisor.photo_url,
        },
        loyalty=None
        if not (loyalty.tier or loyalty.points)
        else {
            "points": loyalty.points,
            "tier": loyalty.tier,
            "next_tier": loyalty.next_tier,
            "points_to_next": loyalty.points_to_next,
        },
        viewed=tuple(viewed),
        cart=tuple(cart),
        purchased=tuple(purchased),
        liked=tuple([str(v) for v in profile.likes if v is not None and v != ""]),
        preferences=profile.preferences,
        attribute_affinities=profile.attribute_values,
        category_affinities=profile.categories,
    )


def page_info(page: Page) -> WidgetPage:
    facts = page.facts
    return WidgetPage(
        page_type=facts.get("page-type", ""),
        url=page.request.url,
        sku=facts.get("product") or None,
        category=facts.get("category") or None,
    )


def request_language(head: RequestHead) -> str:
    return head.headers.get("accept-language", "")
