"""The rule context, the visitor and the inbox badge as the edge derives them from a profile:
what is remembered per profile part is exactly what a fresh derivation gives, and never
another visitor's."""

from __future__ import annotations

import dataclasses
import random
import time
from datetime import datetime
from typing import Any

from edge.contexts import _Clock, page_info, rules_context, unread_count, visitor_info
from edge.page import Page, RequestHead
from edge.store.frozen import FrozenDict, FrozenList
from edge.store.profile import (
    ActionCounts,
    Advisor,
    Consent,
    DerivedMemo,
    Loyalty,
    PlacementHistory,
    Profile,
)
from widgets.context import PageInfo as WidgetPage
from widgets.context import VisitorInfo
from widgets.inbox_view import unread_count as widgets_unread_count

NOW = 1_763_900_000.25
NOW_MS = int(NOW * 1000)


def frozen(value: Any) -> Any:
    """``value`` as a profile load hands it out: read-only all the way down."""
    if isinstance(value, dict):
        return FrozenDict({k: frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList(frozen(v) for v in value)
    return value


def rich(**changes: Any) -> Profile:
    values: dict[str, Any] = dict(
        id="v1", stable_id="s1", contact_id="c1",
        attributes=frozen({"first_name": "Anna", "tier": "stored", "language": "pl"}),
        consents=FrozenDict({"newsletter": Consent(True, 1), "tracking": Consent(False, 2)}),
        preferences=frozen({"size": "42"}),
        facts=frozen({"segment": "b2b", "first_name": "ignored"}),
        advisor=Advisor(name="Jan", role="Doradca", phone="+48 601 234 567",
                        photo_url="/a.svg"),
        loyalty=Loyalty(points=120.0, tier="gold", next_tier="platinum", points_to_next=80.0),
        product_views=frozen([{"sku": "B"}, {"sku": "A"}, {"sku": "B"}, {"sku": ""}]),
        cart=frozen([{"sku": "C", "qty": 2, "price": 10.5}, {"sku": "D"}]),
        purchases=frozen([{"value": 350, "currency": "PLN", "ts": (NOW - 86400) * 1000,
                           "items": [{"sku": "E"}, {"sku": "F"}]}]),
        likes=frozen(["G", "", "H"]),
        inbox=frozen({}),
        placements=FrozenDict({"hero": PlacementHistory(
            seen=ActionCounts(lifetime=3, today=1, this_visit=1, last_ts=NOW_MS - 1000))}),
        experiments=frozen({"hero_copy": "plain"}),
        categories=frozen({"shoes": 4.0, "shoes/running": 3.0}),
        attribute_values=frozen({"color": {"blue": 2.0, "red": 1.0}}),
    )
    values.update(changes)
    return Profile(**values)


def page(path: str = "/p/A", query: str = "utm_source=news") -> Page:
    head = RequestHead("GET", path, query, {"user-agent": "Mozilla/5.0 (iPhone) Mobile",
                                            "referer": "https://google.com/"},
                       "127.0.0.1", host="shop.test")
    return Page(head, 200, ("hero",), {"page-type": "product", "product": "A",
                                       "category": "shoes/running"})


def context(profile: Profile, **kw: Any) -> dict[str, Any]:
    ctx = rules_context(profile, page(), known=kw.get("known", True), language="pl",
                        now=kw.get("now", NOW))
    return ctx.to_dict()


# --- the memo ---------------------------------------------------------------------------

def test_a_derived_value_is_remembered_per_read_only_part_object() -> None:
    memo = DerivedMemo()
    calls: list[Any] = []

    def count(part: Any) -> int:
        calls.append(part)
        return len(part)

    part = FrozenList([1, 2])
    assert memo(count, part) == 2 and memo(count, part) == 2
    assert len(calls) == 1
    # an equal but different object is derived again; a plain list every time
    assert memo(count, FrozenList([1, 2])) == 2 and len(calls) == 2
    plain = [1, 2]
    memo(count, plain)
    plain.append(3)
    assert memo(count, plain) == 3 and len(calls) == 4


def test_keyed_values_and_every_part_are_in_the_key() -> None:
    memo = DerivedMemo()
    a, b = FrozenDict({"x": 1}), FrozenDict({"x": 2})

    def pair(values: tuple[Any, ...], first: Any, second: Any) -> tuple[Any, ...]:
        return (values, first["x"], second["x"])

    assert memo.keyed(pair, (1,), a, b) == ((1,), 1, 2)
    assert memo.keyed(pair, (2,), a, b) == ((2,), 1, 2)
    assert memo.keyed(pair, (1,), b, a) == ((1,), 2, 1)


def test_the_memo_is_bounded_and_keeps_recent_entries() -> None:
    memo = DerivedMemo(size=4)
    parts = [FrozenList([i]) for i in range(20)]
    calls = 0

    def first(part: Any) -> int:
        nonlocal calls
        calls += 1
        return int(part[0])

    for part in parts:
        memo(first, part)
        memo(first, parts[0])  # used all along: never forgotten
    assert len(memo) <= 8
    before = calls
    assert memo(first, parts[0]) == 0 and calls == before


# --- rule contexts ------------------------------------------------------------------------

def test_the_rule_context_holds_the_profile_page_and_clock() -> None:
    d = context(rich())
    local = datetime.fromtimestamp(NOW).astimezone()
    assert d["local_time"] == local.isoformat()
    ctx = rules_context(rich(), page(), known=True, language="pl", now=NOW)
    assert (ctx.hour, ctx.weekday) == (local.hour, local.weekday())
    assert d["visitor_id"] == "s1" and d["device"] == "mobile"
    assert d["session"]["utm"] == {"source": "news"}
    assert d["page"] == {"url": "http://shop.test/p/A?utm_source=news", "path": "/p/A",
                         "page_type": "product", "product": "A", "category": "shoes/running",
                         "slots": ["hero"]}
    # attributes, then what the edge sets (over a stored "tier"), then facts not yet there
    assert list(d["profile"].items()) == [
        ("first_name", "Anna"), ("tier", "gold"), ("language", "pl"), ("known", True),
        ("points", 120.0), ("has_advisor", True), ("segment", "b2b")]
    assert d["consents"] == {"newsletter": True, "tracking": False} and d["newsletter"]
    assert d["purchases"] == [{"value": 350.0, "currency": "PLN", "ts": NOW - 86400}]
    assert d["cart"] == {"items": [{"sku": "C", "qty": 2, "price": 10.5},
                                   {"sku": "D", "qty": 1, "price": 0.0}], "value": 21.0}
    assert d["views"] == {"categories": {"shoes": 4, "shoes/running": 3},
                          "attributes": {"color": {"blue": 2, "red": 1}}}
    assert d["placements"]["hero"]["seen"] == {"visit": 1, "day": 1, "lifetime": 3,
                                               "last": NOW - 1}
    assert d["experiments"] == {"hero_copy": "plain"}


def test_contexts_of_profiles_differing_in_one_part_differ_there() -> None:
    base = rich()
    first = context(base)
    assert context(base) == first  # remembered: the same
    changes: dict[str, Any] = {
        "purchases": frozen([{"value": 1, "currency": "EUR", "ts": NOW * 1000}]),
        "cart": frozen([{"sku": "Z", "qty": 1, "price": 1}]),
        "consents": FrozenDict({"newsletter": Consent(False, 1)}),
        "categories": frozen({"bags": 1.0}),
        "attribute_values": frozen({"color": {"green": 5.0}}),
        "placements": FrozenDict({"promo": PlacementHistory()}),
        "facts": frozen({"segment": "b2c"}),
        "attributes": frozen({"first_name": "Ola"}),
        "loyalty": Loyalty(points=5.0, tier="silver"),
        "advisor": None,
    }
    for name, value in changes.items():
        other = context(dataclasses.replace(base, **{name: value}))
        assert other != first, name
        fresh = context(dataclasses.replace(base, **{name: _thawed(value)}))
        assert other == fresh, name  # the remembered derivation is what a fresh one gives
    assert context(base) == first


def _thawed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_thawed(v) for v in value]
    return value


def test_a_context_can_be_changed_without_touching_the_next_one() -> None:
    profile = rich()
    ctx = rules_context(profile, page(), known=True, language="pl", now=NOW)
    ctx.purchases.clear()
    ctx.cart.items.append(ctx.cart.items[0])
    ctx.placements.clear()
    ctx.consents.clear()
    ctx.views.categories.clear()
    ctx.profile.clear()
    again = context(profile)
    assert len(again["purchases"]) == 1 and len(again["cart"]["items"]) == 2
    assert again["placements"] and again["consents"] and again["views"]["categories"]
    assert again["profile"]["first_name"] == "Anna"


def test_campaign_parameters_come_from_the_query() -> None:
    for query, utm in (("utm_source=a&utm_source=b&x=1&utm_medium=m", {"source": "b",
                                                                      "medium": "m"}),
                       ("x=1", {}), ("", {}), ("utm_term=" + "t" * 600, {"term": "t" * 600})):
        for _ in range(2):
            ctx = rules_context(rich(), page(query=query), known=True, language="pl", now=NOW)
            assert ctx.session.utm == utm, query
            ctx.session.utm["changed"] = "yes"  # each context has its own


def test_an_empty_profile_gives_an_empty_context() -> None:
    d = context(Profile(id="n", stable_id="n"), known=False)
    assert d["purchases"] == [] and d["cart"] == {"items": [], "value": 0}
    assert d["placements"] == {} and d["consents"] == {} and not d["newsletter"]
    assert d["profile"] == {"known": False, "tier": "", "points": 0, "has_advisor": False}
    assert d["views"] == {"categories": {}, "attributes": {}}
    assert d["session"]["visit_number"] == 1 and d["session"]["page_views"] == 1


def test_the_clock_text_is_what_datetime_gives() -> None:
    rng = random.Random(5)
    whole = float(int(time.time()))
    nows = [whole, whole + 0.5, whole + 0.9999995, whole + 0.0000005, whole + 0.0000015,
            whole + 0.9999999, 1e9 + 0.25]
    nows += [whole + rng.uniform(-4e8, 4e8) for _ in range(3000)]
    for now in nows:
        local = datetime.fromtimestamp(now).astimezone()
        assert _Clock.at(now) == (local.isoformat(), local.hour, local.weekday()), now


# --- the visitor for the widgets -----------------------------------------------------------

def test_the_visitor_is_remembered_for_the_same_parts_and_loyalty() -> None:
    profile = rich()
    visitor = visitor_info(profile, known=True)
    assert visitor.viewed == ("B", "A") and visitor.purchased == ("E", "F")
    assert visitor.liked == ("G", "H") and [c.sku for c in visitor.cart] == ["C", "D"]
    assert visitor.advisor == {"name": "Jan", "role": "Doradca", "phone": "+48 601 234 567",
                               "email": "", "photo": "/a.svg"}
    assert visitor.loyalty == {"points": 120.0, "tier": "gold", "next_tier": "platinum",
                               "points_to_next": 80.0}
    # the next page: the p hash was read again (a new Loyalty), the other parts are the same
    again = dataclasses.replace(profile, loyalty=Loyalty(points=120.0, tier="gold",
                                                         next_tier="platinum",
                                                         points_to_next=80.0))
    assert visitor_info(again, known=True) is visitor
    assert visitor_info(profile, known=False).known is False


def test_visitors_differing_in_one_input_differ_there() -> None:
    base = rich()
    first = visitor_info(base, known=True)
    cases = {
        "product_views": (frozen([{"sku": "Q"}]), "viewed", ("Q",)),
        "cart": (frozen([{"sku": "Q", "qty": 1}]), "cart", None),
        "purchases": (frozen([{"items": [{"sku": "Q"}]}]), "purchased", ("Q",)),
        "likes": (frozen(["Q"]), "liked", ("Q",)),
        "attributes": (frozen({"first_name": "Ola"}), "first_name", "Ola"),
        "advisor": (Advisor(name="Ewa"), "advisor", None),
        "preferences": (frozen({"size": "44"}), "preferences", {"size": "44"}),
        "categories": (frozen({"bags": 1.0}), "category_affinities", {"bags": 1.0}),
        "attribute_values": (frozen({"fit": {"slim": 1.0}}), "attribute_affinities",
                             {"fit": {"slim": 1.0}}),
        "loyalty": (Loyalty(points=120, tier="gold", next_tier="platinum", points_to_next=80),
                    "loyalty", None),
    }
    for name, (value, field, expected) in cases.items():
        other = visitor_info(dataclasses.replace(base, **{name: value}), known=True)
        assert other is not first, name
        if expected is not None:
            assert getattr(other, field) == expected, name
    # points given as an int are shown as an int, even though 120 == 120.0
    loyalty = visitor_info(dataclasses.replace(base, loyalty=Loyalty(
        points=120, tier="gold", next_tier="platinum", points_to_next=80)), known=True).loyalty
    assert loyalty is not None and type(loyalty["points"]) is int
    assert visitor_info(base, known=True) is first


# --- the inbox badge ----------------------------------------------------------------------

def _offer(i: int, **state: Any) -> dict[str, Any]:
    return {"texts": {"en": {"title": f"Offer {i}"}}, "ts": NOW_MS - i, **state}


def test_the_badge_counts_as_the_inbox_does() -> None:
    states = {
        "read": _offer(1, read=NOW_MS),
        "new": _offer(2),
        "gone": _offer(3, deleted=NOW_MS),
        "soon": _offer(4, expires=NOW_MS + 1000),
        "late": _offer(5, expires=NOW_MS - 1),
        "untitled": {"texts": {"en": {"title": " \x00 "}}, "ts": NOW_MS},
        "other": {"texts": {"de": {"title": "Bald"}}, "ts": NOW_MS},
        "junk": [1, 2],
    }
    for now in (NOW_MS - 10, NOW_MS, NOW_MS + 999, NOW_MS + 1000, NOW_MS + 10**9):
        expected = widgets_unread_count(states, now)
        assert unread_count(frozen(states), now) == expected == unread_count(states, now)
    assert unread_count(frozen(states), NOW_MS) == 3  # new, soon, other
    assert unread_count(frozen(states), NOW_MS + 1000) == 2  # soon has expired


def test_the_badge_counts_only_the_offers_the_inbox_shows() -> None:
    # More live offers than the inbox lists: the newest are shown (ties by id), and only
    # their unread ones are counted.
    states = {f"o{i:02d}": _offer(i % 7, read=NOW_MS if i % 3 else 0) for i in range(40)}
    states["late"] = _offer(0, expires=NOW_MS + 5)
    for now in (NOW_MS, NOW_MS + 5):
        assert unread_count(frozen(states), now) == widgets_unread_count(states, now)


def test_a_visitor_with_nothing_stored_is_empty_and_anything_stored_shows() -> None:
    empty = Profile(id="n", stable_id="n")
    assert visitor_info(empty, known=False) == VisitorInfo(known=False)
    assert visitor_info(empty, known=True).known is True
    assert visitor_info(dataclasses.replace(empty, loyalty=Loyalty(points=5)), known=False
                        ).loyalty == {"points": 5, "tier": "", "next_tier": "",
                                      "points_to_next": 0}
    assert visitor_info(dataclasses.replace(empty, advisor=Advisor(name="Jan")), known=False
                        ).advisor is not None
    assert visitor_info(dataclasses.replace(empty, advisor=Advisor()), known=False
                        ).advisor is None
    for name, value in (("attributes", {"first_name": "Ola"}), ("likes", ["A"]),
                        ("product_views", [{"sku": "A"}]), ("cart", [{"sku": "A"}]),
                        ("purchases", [{"items": [{"sku": "A"}]}]),
                        ("preferences", {"size": "42"}), ("categories", {"bags": 1.0}),
                        ("attribute_values", {"fit": {"slim": 1.0}})):
        assert visitor_info(dataclasses.replace(empty, **{name: value}), known=False
                            ) != VisitorInfo(known=False), name


def test_page_infos_follow_every_fact_and_the_url() -> None:
    base = page_info(page())
    assert base == WidgetPage(page_type="product", url="http://shop.test/p/A?utm_source=news",
                              sku="A", category="shoes/running")
    assert page_info(page()) is base
    other = page_info(page("/p/B", ""))
    assert other.url == "http://shop.test/p/B" and other is not base
    head = RequestHead("GET", "/", "", {}, "127.0.0.1", host="shop.test")
    for facts in ({"page-type": "home"}, {"page-type": "home", "product": "A"},
                  {"page-type": "home", "category": "c"}, {"product": ""}):
        got = page_info(Page(head, 200, (), facts))
        assert got == WidgetPage(page_type=facts.get("page-type", ""), url="http://shop.test/",
                                 sku=facts.get("product") or None,
                                 category=facts.get("category") or None), facts
