"""The pop-up widget and the inbox view: pure rendering, escaping, validation, offer state."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest

from edge.errors import WidgetError
from widgets.catalog import Catalog
from widgets.context import PlacementInfo, RenderContext
from widgets.inbox_view import (
    build_inbox,
    inbox_json,
    live_offers,
    render_shell,
    unread_count,
    wishlist_recommendations,
)
from widgets.popup import PopupWidget
from widgets.templating import Templates

TEMPLATES = Templates()
POPUP = PopupWidget(TEMPLATES)
CATALOG = Catalog.from_dicts([
    {"sku": "A1", "name": "Boot <A1>", "url": "/p/A1", "image": "/img/a1.svg", "price": 299.0,
     "currency": "PLN", "category": "shoes/hiking", "stock": 3},
    {"sku": "A2", "name": "Boot A2", "url": "/p/A2", "price": 349.0, "currency": "PLN",
     "category": "shoes/hiking", "stock": 1},
    {"sku": "A3", "name": "Boot A3 (sold out)", "url": "/p/A3", "price": 199.0, "currency": "PLN",
     "category": "shoes/hiking", "stock": 0},
    {"sku": "B1", "name": "Runner B1", "url": "/p/B1", "price": 399.0, "currency": "PLN",
     "category": "shoes/running", "stock": 9},
    {"sku": "C1", "name": "Jacket C1", "url": "javascript:alert(1)", "price": 599.0,
     "currency": "PLN", "category": "jackets", "stock": 2},
])
NOW = 1_800_000_000_000


def ctx(language: str = "en", placement: str = "promo") -> RenderContext:
    return RenderContext(language=language, placement=PlacementInfo(id=placement, variant="b"))


def dom(fragment: str):  # type: ignore[no-untyped-def]
    return html5lib.parseFragment(fragment, namespaceHTMLElements=False)


def test_popup_markup_is_hidden_accessible_and_carries_its_trigger() -> None:
    out = POPUP.render(ctx(placement="exit offer"), POPUP.parse_params({
        "title": "Wait <b>!</b>", "text": "10 % off", "cta": "Take it", "url": "/sale",
        "trigger": {"type": "scroll", "percent": 60}}))
    assert out is not None
    root = dom(out).find("div")
    assert root.get("hidden") is not None and root.get("data-edge-popup") is not None
    assert root.get("data-edge-trigger") == "scroll"
    assert root.get("data-edge-trigger-value") == "60"
    assert root.get("data-edge-placement") == "exit offer"
    assert root.get("data-edge-variant") == "b"
    dialog = next(e for e in root.iter() if e.get("role") == "dialog")
    assert dialog.get("aria-modal") == "true"
    title_id = dialog.get("aria-labelledby")
    title = next(e for e in root.iter() if e.get("id") == title_id)
    assert title.text == "Wait <b>!</b>"  # escaped, shown as text
    assert "<b>" not in out
    close = next(e for e in root.iter() if e.get("data-edge-close") is not None
                 and e.tag == "button")
    assert close.get("aria-label") == "Close"
    assert next(e for e in root.iter() if e.tag == "a").get("href") == "/sale"


def test_popup_language_overrides_and_chrome() -> None:
    params = POPUP.parse_params({"title": "Hello", "texts": {"pl": {"title": "Cześć"}},
                                 "form": {"kind": "consent", "name": "newsletter",
                                          "label": "I want the newsletter"}})
    out = POPUP.render(ctx("pl"), params) or ""
    assert "Cześć" in out and 'aria-label="Zamknij"' in out and "Wyślij" in out
    assert 'data-edge-form-kind="consent"' in out and 'data-edge-form-name="newsletter"' in out
    assert "Dziękujemy!" in out
    de = POPUP.render(ctx("de"), params) or ""
    assert "Hello" in de and "Schließen" in de


def test_popup_question_form_and_unsafe_url() -> None:
    out = POPUP.render(ctx(), POPUP.parse_params({
        "title": "Size?", "url": "javascript:alert(1)",
        "form": {"kind": "question", "name": "shoe_size", "label": "Your size",
                 "choices": ["41", {"value": "42", "label": "42 <EU>"}]}})) or ""
    radios = [e for e in dom(out).iter() if e.tag == "input"]
    assert [r.get("value") for r in radios] == ["41", "42"]
    assert all(r.get("name") == "shoe_size" for r in radios)
    assert "javascript" not in out and "42 &lt;EU&gt;" in out
    assert 'data-edge-form-kind="preference"' in out


@pytest.mark.parametrize("params, where", [
    ({"title": "x", "form": {"kind": "question", "name": "n", "label": "q", "choices": ["a"]}},
     "form"),
    ({"title": "x", "form": {"kind": "consent", "name": "bad name", "label": "q"}}, "form.name"),
    ({"title": "x", "trigger": {"type": "hover"}}, "trigger.type"),
    ({"title": "x", "colour": "red"}, "colour"),
])
def test_popup_params_are_validated(params: dict[str, object], where: str) -> None:
    with pytest.raises(WidgetError, match=where):
        POPUP.parse_params(params)


def test_popup_with_nothing_to_say_renders_nothing() -> None:
    assert POPUP.render(ctx(), POPUP.parse_params({"cta": "Go", "url": "/x"})) is None


def test_live_offers_skip_deleted_expired_and_broken_newest_first() -> None:
    states = {
        "old": {"texts": {"en": {"title": "Old"}}, "ts": NOW - 5000, "read": NOW - 1},
        "new": {"texts": {"en": {"title": "New", "body": "b"}, "pl": {"title": "Nowe"}},
                "ts": NOW - 10, "url": "javascript:x"},
        "gone": {"texts": {"en": {"title": "Gone"}}, "ts": NOW, "deleted": NOW},
        "late": {"texts": {"en": {"title": "Late"}}, "ts": NOW, "expires": NOW - 1},
        "soon": {"texts": {"de": {"title": "Bald"}}, "ts": NOW - 100, "expires": NOW + 1000},
        "junk": [1, 2, 3],
        "untitled": {"texts": {"en": {"body": "no title"}}, "ts": NOW},
    }
    offers = live_offers(states, "pl", NOW)
    assert [o.id for o in offers] == ["new", "soon", "old"]
    assert offers[0].title == "Nowe" and offers[0].url is None and not offers[0].read
    assert offers[1].title == "Bald"  # no pl or en text: any language rather than nothing
    assert offers[2].read
    assert unread_count(states, NOW) == 2  # "new" and "soon"; not the read, deleted or expired


def test_wishlist_recommendations_same_category_in_stock_not_liked() -> None:
    assert [p.sku for p in wishlist_recommendations(CATALOG, ["A1"])] == ["A2", "B1"]
    related = {"A1": [("C1", 3.0), ("A1", 2.0)]}
    assert [p.sku for p in wishlist_recommendations(CATALOG, ["A1"], related, n=2)] == \
        ["C1", "A2"]
    assert wishlist_recommendations(CATALOG, []) == ()


def test_inbox_json_and_html_escape_everything() -> None:
    inbox = build_inbox(language="en", currency="PLN", catalog=CATALOG, liked=["A1", "ZZ"],
                        viewed=["B1", "A1", "B1", "C1"],
                        inbox_states={"o1": {"texts": {"en": {"title": "<script>x</script>"}},
                                             "ts": NOW}},
                        loyalty={"points": 1200, "tier": "Gold", "next_tier": "Platinum",
                                 "points_to_next": 300}, now_ms=NOW)
    data = inbox_json(TEMPLATES, inbox, shell=True)
    assert data["unread"] == 1
    assert [p["sku"] for p in data["wishlist"]] == ["A1"]  # unknown skus are left out
    assert [p["sku"] for p in data["recent"]] == ["B1", "C1"]  # liked ones are not repeated
    assert data["recent"][1]["url"] is None  # a javascript: URL never reaches the page
    assert data["offers"][0]["title"] == "<script>x</script>"
    assert "<script>" not in data["html"] and "&lt;script&gt;" in data["html"]
    assert "Boot &lt;A1&gt;" in data["html"] and "Gold" in data["html"]
    assert "300" in data["html"] and "Platinum" in data["html"]
    shell = dom(data["shell"])
    badge = next(e for e in shell.iter() if e.get("data-edge-inbox-badge") is not None)
    assert badge.text.strip() == "1"
    drawer = next(e for e in shell.iter() if e.get("role") == "dialog")
    assert drawer.get("aria-modal") == "true" and drawer.get("hidden") is not None


@pytest.mark.parametrize("language, button", [("pl", "Moja skrzynka"), ("de", "Mein Postfach"),
                                              ("en", "My inbox"), ("fr", "My inbox")])
def test_inbox_shell_in_the_visitors_language(language: str, button: str) -> None:
    assert button in render_shell(TEMPLATES, language)


def test_demo_rule_popups_render_with_their_short_shapes() -> None:
    import yaml

    path = Path(__file__).resolve().parents[2] / "rules" / "examples" / "demo" / "popups.yaml"
    popups = {p["id"]: p for p in yaml.safe_load(path.read_text("utf-8"))["placements"]
              if p.get("kind") == "popup"}
    exit_html = POPUP.render(ctx(placement="premium_exit"),
                             POPUP.parse_params(popups["premium_exit"]["params"])) or ""
    assert "Premium members save 15%" in exit_html and "Join the premium club" in exit_html
    assert 'href="/premium"' in exit_html and "Join now" in exit_html
    signup = POPUP.render(ctx(placement="newsletter_signup"),
                          POPUP.parse_params(popups["newsletter_signup"]["params"])) or ""
    inputs = {e.get("type"): e for e in dom(signup).iter() if e.tag == "input"}
    assert inputs["email"].get("name") == "email" and inputs["email"].get("required") is not None
    assert inputs["checkbox"].get("data-edge-consent") == "marketing"
    assert 'data-edge-form-kind="signup"' in signup
    assert 'data-edge-form-name="newsletter_signup"' in signup
    assert "I agree to receive personalised offers by e-mail." in signup


def test_short_question_shape_becomes_a_preference_question() -> None:
    params = POPUP.parse_params({"title": "Pets?", "question": {
        "name": "pet", "text": "Do you have a pet?", "choices": ["dog", "cat"]}})
    assert params.form is not None and params.form.kind == "question"
    with pytest.raises(WidgetError, match="question"):
        POPUP.parse_params({"title": "x", "question": {"text": "no consent, no choices"}})
