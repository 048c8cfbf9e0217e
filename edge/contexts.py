"""Pure mappings from what the edge knows (profile, request, page) to what the rule engine and
the widgets take. No I/O: easy to test, and the same for the proxy and embed mode."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from edge.page import Page, RequestHead
from edge.store.frozen import EMPTY_DICT, FrozenDict
from edge.store.profile import Advisor, Profile, cart_value, derived
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
from widgets.inbox_view import badge_entries, count_unread

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


# --- what a rule context derives from one profile part -----------------------------------
# Each is a function of its part alone, remembered per part object (``derived``): a part that
# did not change since the visitor's last page is the same object again. Rule contexts get
# copies of the containers; the records inside (Purchase, CartItem, ...) are shared and, like
# the whole context, read by rules and never changed.


def _purchases(purchases: Any) -> list[Purchase]:
    return [
        Purchase(
            value=float(p.get("value") or 0),
            currency=str(p.get("currency", "")),
            ts=_seconds(p.get("ts")),
        )
        for p in purchases
    ]


def _cart(cart: Any) -> tuple[list[CartItem], float]:
    items = [
        CartItem(str(c.get("sku", "")), int(c.get("qty") or 1), float(c.get("price") or 0))
        for c in cart
    ]
    return items, cart_value(cart)


def _categories(categories: Any) -> dict[str, int]:
    return {k: int(v) for k, v in categories.items()}


def _placements(placements: Any) -> dict[str, PlacementHistory]:
    return {
        pid: PlacementHistory(_counter(h.seen), _counter(h.click), _counter(h.close))
        for pid, h in placements.items()
    }


def _consents(consents: Any) -> dict[str, bool]:
    return {name: c.granted for name, c in consents.items()}


_SET_BY_EDGE = ("known", "tier", "points", "has_advisor")


def _extra_facts(attributes: Any, facts: Any) -> dict[str, Any]:
    # Profile facts fill in what neither the attributes nor the edge's own fields hold.
    return {k: v for k, v in facts.items() if k not in attributes and k not in _SET_BY_EDGE}


class _Clock:
    """``datetime.fromtimestamp(now).astimezone()`` as ISO text, hour and weekday, with the
    date, time zone and ISO text worked out once per second (they cost more than the rest of
    a rule context); per page only the microseconds are put in, rounded as ``fromtimestamp``
    rounds them (half to even)."""

    second: float = float("nan")
    head = tail = ""  # the second's ISO text before and after where microseconds go
    hour = weekday = 0

    @classmethod
    def at(cls, now: float) -> tuple[str, int, int]:
        frac, second = math.modf(now)
        micro = round(frac * 1e6)
        if micro >= 1_000_000:
            micro, second = micro - 1_000_000, second + 1
        elif micro < 0:
            micro, second = micro + 1_000_000, second - 1
        if second != cls.second:
            local = datetime.fromtimestamp(second).astimezone()
            text = local.isoformat()
            cut = text.index(":", text.index("T")) + 6  # past HH:MM:SS
            cls.head, cls.tail = text[:cut], text[cut:]
            cls.hour, cls.weekday = local.hour, local.weekday()
            cls.second = second
        if micro:
            return f"{cls.head}.{micro:06d}{cls.tail}", cls.hour, cls.weekday
        return cls.head + cls.tail, cls.hour, cls.weekday


def _utm(query: str) -> dict[str, str]:
    # Campaign links bring the same few query strings again and again: parsed once each.
    return dict(_utm_cached(query) if len(query) <= 512 else _utm_items(query))


def _utm_items(query: str) -> tuple[tuple[str, str], ...]:
    query_args = dict(parse_qsl(query))
    return tuple((k[4:], v) for k, v in query_args.items() if k.startswith("utm_"))


_utm_cached = lru_cache(maxsize=1024)(_utm_items)


def rules_context(
    profile: Profile, page: Page, *, known: bool, language: str, now: float
) -> Context:
    request = page.request
    facts = page.facts
    headers = request.headers
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
    consents = profile.consents
    newsletter = consents.get("newsletter")
    loyalty = profile.loyalty
    advisor = profile.advisor
    attributes = profile.attributes
    attrs = dict(attributes)
    attrs["known"] = known
    attrs["tier"] = loyalty.tier
    attrs["points"] = loyalty.points
    attrs["has_advisor"] = advisor is not None and bool(advisor.name)
    if profile.facts:
        attrs.update(derived(_extra_facts, attributes, profile.facts))
    cart_items, cart_total = derived(_cart, profile.cart) if profile.cart else ((), 0)
    local_time, hour, weekday = _Clock.at(now)
    ctx = Context(
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
            referrer=headers.get("referer", ""),
            utm=_utm(request.query) if request.query else {},
        ),
        profile=attrs,
        preferences=dict(profile.preferences),
        consents=dict(derived(_consents, consents)) if consents else {},
        language=language,
        device=device_type(headers.get("user-agent", "")),
        purchases=list(derived(_purchases, profile.purchases)) if profile.purchases else [],
        cart=Cart(items=list(cart_items), value=cart_total),
        views=Views(
            categories=dict(derived(_categories, profile.categories)),
            attributes=derived(AttributeViews, profile.attribute_values),
        ),
        placements=dict(derived(_placements, profile.placements)) if profile.placements else {},
        newsletter=bool(newsletter.granted) if newsletter else bool(attrs.get("newsletter")),
        experiments=dict(profile.experiments),
    )
    # Set after building: Context would parse the text back into the hour and weekday.
    ctx.local_time, ctx.hour, ctx.weekday = local_time, hour, weekday
    return ctx


# --- the visitor as the widgets see it ---------------------------------------------------


def _viewed(product_views: Any) -> tuple[str, ...]:
    # Most recent first, each sku once (its latest view), no empty skus.
    viewed = dict.fromkeys([str(view.get("sku", "")) for view in product_views])
    viewed.pop("", None)
    return tuple(viewed)


def _purchased(purchases: Any) -> tuple[str, ...]:
    purchased: dict[str, None] = {}
    for order in purchases:
        for item in order.get("items") or ():
            sku = str(item.get("sku", ""))
            if sku:
                purchased[sku] = None
    return tuple(purchased)


def _cart_lines(cart: Any) -> tuple[WidgetCartItem, ...]:
    lines = []
    for c in cart:
        sku = str(c.get("sku", ""))
        qty, price = int(c.get("qty") or 1), float(c.get("price") or 0)
        if sku:
            lines.append(WidgetCartItem(sku, qty, price))
    return tuple(lines)


def _liked(likes: Any) -> tuple[str, ...]:
    return tuple([str(v) for v in likes if v is not None and v != ""])


def _advisor(advisor: Advisor | None) -> Mapping[str, str] | None:
    if advisor is None or not advisor.name:
        return None
    return FrozenDict({
        "name": advisor.name,
        "role": advisor.role,
        "phone": advisor.phone,
        "email": advisor.email,
        "photo": advisor.photo_url,
    })


def _visitor(values: tuple[Any, ...], attributes: Any, advisor: Advisor | None,
             product_views: Any, cart: Any, purchases: Any, likes: Any, preferences: Any,
             attribute_values: Any, categories: Any) -> VisitorInfo:
    known, points, tier, next_tier, to_next = values[:5]
    return VisitorInfo(
        known=known,
        first_name=str(attributes.get("first_name", "") or ""),
        attributes=attributes,
        advisor=_advisor(advisor),
        loyalty=None
        if not (tier or points)
        else FrozenDict({
            "points": points,
            "tier": tier,
            "next_tier": next_tier,
            "points_to_next": to_next,
        }),
        viewed=_viewed(product_views),
        cart=_cart_lines(cart),
        purchased=_purchased(purchases),
        liked=_liked(likes),
        preferences=preferences,
        attribute_affinities=attribute_values,
        category_affinities=categories,
    )


_EMPTY_VISITORS = {known: VisitorInfo(
    known=known, attributes=EMPTY_DICT, preferences=EMPTY_DICT, attribute_affinities=EMPTY_DICT,
    category_affinities=EMPTY_DICT) for known in (False, True)}


def visitor_info(profile: Profile, *, known: bool) -> VisitorInfo:
    """The visitor as the widgets see it. Built once per page and shared by its placements;
    the profile's own mappings are handed over as they are (nothing here or in the widgets
    writes to them). Remembered for the profile's part objects and the loyalty fields (from
    the ``p`` hash, which changes on every page), so a returning visitor whose history did
    not change gets the same (frozen) object as on their last page."""
    loyalty = profile.loyalty
    points, tier, next_tier, to_next = (loyalty.points, loyalty.tier, loyalty.next_tier,
                                        loyalty.points_to_next)
    if not (profile.attributes or profile.product_views or profile.cart or profile.purchases
            or profile.likes or profile.preferences or profile.attribute_values
            or profile.categories or tier or points or (profile.advisor and
                                                        profile.advisor.name)):
        # Nothing to show of a new visitor: one empty visitor, whatever empty containers
        # their profile holds.
        return _EMPTY_VISITORS[bool(known)]
    # With the types: 1 and 1.0 are equal keys but are shown differently.
    values = (bool(known), points, tier, next_tier, to_next,
              type(points), type(tier), type(next_tier), type(to_next))
    return derived.keyed(_visitor, values, profile.attributes, profile.advisor,
                         profile.product_views, profile.cart, profile.purchases, profile.likes,
                         profile.preferences, profile.attribute_values, profile.categories)


def unread_count(inbox: Mapping[str, Any], now_ms: int) -> int:
    """``widgets.inbox_view.unread_count`` for a profile's inbox: what the badge needs of the
    offers is derived once per stored inbox, and only the expiry is checked per page."""
    return count_unread(derived(badge_entries, inbox), now_ms) if inbox else 0


def page_info(page: Page) -> WidgetPage:
    facts = page.facts
    key = (facts.get("page-type", ""), page.request.url, facts.get("product") or None,
           facts.get("category") or None)
    # The shop's pages are few: their (frozen) page info is made once per page.
    found = _PAGES.get(key)
    if found is None:
        found = WidgetPage(page_type=key[0], url=key[1], sku=key[2], category=key[3])
        if all(type(value) is str or value is None for value in key):  # 1 == 1.0: not text
            if len(_PAGES) >= 4096:
                _PAGES.clear()
            _PAGES[key] = found
    return found


_PAGES: dict[tuple[Any, ...], WidgetPage] = {}


def request_language(head: RequestHead) -> str:
    return head.headers.get("accept-language", "")
