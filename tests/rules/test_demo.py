"""The demo shop's default rules (rules/examples/demo) decide what the demo promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules import Context, RuleSet, decide, load_dir

DEMO = Path(__file__).resolve().parents[2] / "rules" / "examples" / "demo"
NOW = 1763900000  # 2025-11-23, before the hero test ends
DAY = 86400
SLOTS = ["hero", "advisor", "recommendations"]


@pytest.fixture(scope="module")
def demo() -> RuleSet:
    return load_dir(DEMO)


def ctx(**over: Any) -> Context:
    base: dict[str, Any] = {"visitor_id": "demo-visitor", "now": NOW, "language": "en",
                            "page": {"page_type": "home", "slots": SLOTS},
                            "session": {"seconds_on_site": 10, "page_views": 1,
                                        "visit_number": 1}}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return Context.from_dict(base)


BIG_SPENDER: dict[str, Any] = {
    "purchases": [{"value": 350, "currency": "PLN", "ts": NOW - 5 * DAY}],
    "session": {"seconds_on_site": 200, "page_views": 6, "visit_number": 4},
}


def test_first_visit_on_the_home_page(demo: RuleSet) -> None:
    d = decide(demo, ctx())
    assert {s: f.placement for s, f in d.slots.items()} == {"hero": "hero_welcome",
                                                            "recommendations": "recs_home"}
    assert d.popup is None and d.inbox == []
    assert d.segments == ["new_visitor"]


def test_big_spender_gets_the_hero_test_and_the_premium_exit_popup(demo: RuleSet) -> None:
    d = decide(demo, ctx(**BIG_SPENDER, experiments={"hero_copy": "personal"},
                         page={"page_type": "product", "slots": SLOTS}))
    hero = d.slots["hero"]
    assert (hero.placement, hero.variant) == ("hero_big_spender", "personal")
    assert hero.params["headline"] == "Picked for you, {first_name}"
    assert hero.params["cta"] == "Shop premium"
    assert d.slots["recommendations"].placement == "recs_product"
    assert d.popup is not None and d.popup.placement == "premium_exit"
    assert d.popup.trigger == {"type": "exit_intent"}
    assert d.assignments == {"hero_copy": "personal"}


def test_hero_control_arm_shows_the_shop_hero_and_counts_exposure(demo: RuleSet) -> None:
    d = decide(demo, ctx(**BIG_SPENDER, experiments={"hero_copy": "control"}))
    assert "hero" not in d.slots
    assert [(i.placement, i.variant, i.shown) for i in d.impressions
            if i.placement == "hero_big_spender"] == [("hero_big_spender", "control", False)]


def test_one_popup_per_visit_and_subscribers_skip_both(demo: RuleSet) -> None:
    seen_newsletter = {"newsletter_signup": {"seen": {"visit": 1, "day": 1, "lifetime": 1,
                                                      "last": NOW - 60}}}
    d = decide(demo, ctx(**BIG_SPENDER, placements=seen_newsletter))
    assert d.popup is None  # the global cap: one pop-up per visit
    d = decide(demo, ctx(**BIG_SPENDER, newsletter=True))
    assert d.popup is None
    assert "subscriber" in d.segments


def test_newsletter_popup_asks_for_consent(demo: RuleSet) -> None:
    d = decide(demo, ctx(session={"page_views": 2}))
    assert d.popup is not None and d.popup.placement == "newsletter_signup"
    assert d.popup.trigger == {"type": "delay", "seconds": 20.0}
    assert d.popup.params["question"]["consent"] == "marketing"


def test_advisor_card_and_runner_offer_in_polish(demo: RuleSet) -> None:
    d = decide(demo, ctx(profile={"advisor": {"name": "Jan Nowak", "phone": "+48 600 100 200"}},
                         views={"categories": {"shoes/running": 3}}, language="pl",
                         session={"visit_number": 2}))
    assert d.slots["advisor"].widget == "advisor_card"
    assert d.slots["hero"].placement == "hero_runner"
    assert [(o.offer, o.language, o.texts["title"]) for o in d.inbox] == [
        ("RUN15", "pl", "15% rabatu na buty do biegania")]


def test_staff_are_excluded_from_campaigns(demo: RuleSet) -> None:
    d = decide(demo, ctx(**BIG_SPENDER, profile={"email": "ola@demo-shop.test"},
                         views={"categories": {"shoes/running": 9}}))
    assert "staff" in d.segments
    assert "hero" not in d.slots and d.popup is None and d.inbox == []


def test_advisor_card_from_the_edge_flag(demo: RuleSet) -> None:
    d = decide(demo, ctx(profile={"has_advisor": True}))
    assert d.slots["advisor"].placement == "advisor_card"
    assert "has_advisor" in d.segments


def test_demo_params_are_what_the_widgets_accept(demo: RuleSet) -> None:
    # The engine passes params through untouched; the demo's must still render.
    from widgets.popup import PopupParams
    from widgets.registry import WidgetRegistry

    registry = WidgetRegistry.create()
    checked = 0
    for p in demo.placements:
        arms = demo.experiments[p.experiment].variants if p.experiment else [None]
        for arm in arms:
            params = {**p.params, **(arm.params if arm else {})}
            if p.kind == "slot":
                registry.parse_params(p.widget, params)
                checked += 1
            elif p.kind == "popup":
                PopupParams.model_validate({**params, "trigger": p.trigger.to_dict()})
                checked += 1
    assert checked == 11  # 7 slot placements (one with two variants) and 3 pop-ups
