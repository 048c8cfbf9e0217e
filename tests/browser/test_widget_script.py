"""edge.js in headless Chromium against a small shop behind the edge (real servers, real Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.api.inbox import deliver_offer
from edge.store.server import RedisHandle
from edge.store.signing import make_login_token
from tests.browser.stack import SHOP_SECRET, Stack, run_stack

pytestmark = pytest.mark.browser

BANNERS = {
    "hero": {"title": "Spring trail sale", "text": "Up to 30 % off", "link": "#sale",
             "cta": "See the sale"},
    "below": {"title": "Down here", "text": "Only seen after scrolling", "link": "#below"},
}


@pytest.fixture(scope="module")
def stack(redis_handle: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with run_stack(redis_handle.url, tmp_path_factory.mktemp("edge"), banners=BANNERS) as s:
        yield s


def _errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _visitor(stack: Stack, context: Any) -> str:
    return stack.profiles.visitor_id(context.cookies())


def test_page_view_product_view_and_add_to_cart_reach_the_profile(stack: Stack,
                                                                   context: Any) -> None:
    page = context.new_page()
    errors = _errors(page)
    page.goto(stack.edge + "/product/SKU-2")
    page.wait_for_function("window.edge && window.edge.version")
    vid = _visitor(stack, context)
    profile = stack.profiles.wait(
        vid, lambda p: any(v.get("sku") == "SKU-2" for v in p.product_views), "a product view")
    assert [v["url"] for v in profile.page_views] == [stack.edge + "/product/SKU-2"]
    page.click("#buy")
    profile = stack.profiles.wait(vid, lambda p: bool(p.cart), "a cart line")
    assert profile.cart[0]["sku"] == "SKU-2" and profile.cart[0]["qty"] == 2
    # the script's client signals ride with the first batch; the fingerprint cookie is set
    assert any(e.get("name") == "client_signals" for e in profile.custom_events)
    assert any(c["name"] == "edge_fp" for c in context.cookies())
    page.goto(stack.edge + "/ld")  # a product described only by JSON-LD (@graph)
    stack.profiles.wait(vid, lambda p: p.product_views[0].get("sku") == "SKU-3",
                        "the JSON-LD product view")
    # a tag manager's GA4 push, and the public API for custom web events
    page.wait_for_function("window.edge && window.edge.version")
    page.evaluate("""() => {
        window.dataLayer.push({event: 'add_to_cart',
                               ecommerce: {items: [{item_id: 'SKU-4', quantity: 3, price: 104}]}});
        window.edge.track('loan_calculator', {rate: 3.1, months: 24});
        window.edge.flush();
    }""")
    profile = stack.profiles.wait(vid, lambda p: any(c["sku"] == "SKU-4" for c in p.cart),
                                  "the dataLayer add to cart")
    assert next(c for c in profile.cart if c["sku"] == "SKU-4")["qty"] == 3
    profile = stack.profiles.wait(
        vid, lambda p: any(e["name"] == "loan_calculator" for e in p.custom_events),
        "the custom event")
    event = next(e for e in profile.custom_events if e["name"] == "loan_calculator")
    assert event["params"] == {"rate": 3.1, "months": 24}
    # refusing the fingerprint consent drops the client signals at once
    page.evaluate("window.edge.consent('fingerprint', false)")
    profile = stack.profiles.wait(vid, lambda p: "fingerprint" in p.consents, "the refusal")
    assert profile.consents["fingerprint"].granted is False
    assert not any(c["name"] == "edge_fp" for c in context.cookies())
    assert errors == []


def test_impression_counts_only_when_visible_and_clicks_count(stack: Stack,
                                                              context: Any) -> None:
    page = context.new_page()
    page.goto(stack.edge + "/")
    page.wait_for_selector("[data-edge-placement=hero-banner]")
    vid = _visitor(stack, context)
    profile = stack.profiles.wait(vid, lambda p: "hero-banner" in p.placements,
                                  "the hero impression")
    assert profile.placements["hero-banner"].seen.lifetime == 1
    assert "below-banner" not in profile.placements  # below the fold: not seen yet
    page.click("#plain-button")  # a click outside any placement counts nothing
    page.click("[data-edge-placement=hero-banner] a")
    profile = stack.profiles.wait(
        vid, lambda p: p.placements["hero-banner"].click.lifetime == 1, "the hero click")
    assert "below-banner" not in profile.placements
    page.mouse.wheel(0, 5000)
    profile = stack.profiles.wait(vid, lambda p: "below-banner" in p.placements,
                                  "the impression after scrolling")
    assert profile.placements["below-banner"].seen.lifetime == 1
    page.mouse.wheel(0, -5000)
    page.mouse.wheel(0, 5000)
    page.evaluate("window.edge.flush()")
    profile = stack.profiles.load(vid)
    assert profile.placements["below-banner"].seen.lifetime == 1  # once per page
    assert profile.placements["hero-banner"].seen.lifetime == 1


def test_exit_intent_popup_shows_once_closes_with_esc_and_stays_closed(stack: Stack,
                                                                       context: Any) -> None:
    stack.personalizer.popups = {"exit-offer": {
        "title": "Before you go", "text": "Take 10 % off your first order.", "cta": "Get it",
        "url": "/sale", "trigger": {"type": "exit_intent"}}}
    try:
        page = context.new_page()
        errors = _errors(page)
        page.goto(stack.edge + "/")
        popup = page.locator("[data-edge-popup]")
        page.wait_for_function("window.edge && window.edge.version")
        assert popup.is_hidden()
        page.focus("#plain-button")
        page.mouse.move(600, 300)
        page.mouse.move(600, 5)
        page.mouse.move(600, -20)  # leaves through the top of the window
        dialog = page.get_by_role("dialog", name="Before you go")
        dialog.wait_for(state="visible")
        assert dialog.get_attribute("aria-modal") == "true"
        assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
        for _ in range(4):  # focus is trapped inside the dialog
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
        page.keyboard.press("Escape")
        popup.wait_for(state="hidden")
        assert page.evaluate("document.activeElement.id") == "plain-button"  # focus returns
        vid = _visitor(stack, context)
        profile = stack.profiles.wait(
            vid, lambda p: "exit-offer" in p.placements
            and p.placements["exit-offer"].close.lifetime == 1, "the pop-up's close")
        assert profile.placements["exit-offer"].seen.lifetime == 1
        page.mouse.move(600, 300)
        page.mouse.move(600, -20)
        page.evaluate("window.edge.exitIntent()")
        assert popup.is_hidden()  # not again on this page
        assert errors == []
    finally:
        stack.personalizer.popups = {}


def test_popup_forms_write_zero_party_data_one_dialog_at_a_time(stack: Stack,
                                                                  context: Any) -> None:
    stack.personalizer.popups = {
        "size-question": {
            "title": "Your shoe size?", "text": "We will show shoes that fit.",
            "form": {"kind": "question", "name": "shoe_size", "label": "Pick one",
                     "choices": ["41", "42", "43"]},
            "trigger": {"type": "delay", "seconds": 0.2}},
        # the short shapes the demo rules use
        "newsletter": {
            "title": "Get 10% off", "body": "Subscribe to our newsletter.",
            "form": {"field": "email", "submit": "Subscribe"},
            "question": {"consent": "marketing", "text": "I agree to e-mail offers."}},
    }
    try:
        page = context.new_page()
        page.goto(stack.edge + "/")
        signup = page.get_by_role("dialog", name="Get 10% off")
        signup.wait_for(state="visible")
        page.wait_for_timeout(400)  # the delayed question is due now, but must wait its turn
        assert page.locator("[data-edge-popup]:visible").count() == 1
        signup.get_by_label("E-mail", exact=True).fill("ala@example.com")
        signup.get_by_label("I agree to e-mail offers.").check()
        signup.get_by_role("button", name="Subscribe").click()
        signup.get_by_text("Thank you!").wait_for(state="visible")
        signup.get_by_role("button", name="Close").click()
        question = page.get_by_role("dialog", name="Your shoe size?")
        question.wait_for(state="visible")
        question.get_by_label("42").check()
        question.get_by_role("button", name="Send").click()
        question.get_by_text("Thank you!").wait_for(state="visible")
        vid = _visitor(stack, context)
        profile = stack.profiles.wait(vid, lambda p: p.preferences.get("shoe_size") == "42",
                                      "the declared shoe size")
        assert profile.consents["marketing"].granted is True
        assert profile.forms[0]["form"] == "newsletter"
        assert profile.forms[0]["fields"] == {"email": "ala@example.com"}
        page.keyboard.press("Escape")
        question.wait_for(state="hidden")
        profile = stack.profiles.wait(
            vid, lambda p: all(p.placements[k].close.lifetime == 1
                               for k in ("newsletter", "size-question")
                               if k in p.placements) and len(p.placements) >= 2,
            "both closes")
    finally:
        stack.personalizer.popups = {}


def _log_in(stack: Stack, context: Any, contact_id: str) -> None:
    token = make_login_token(SHOP_SECRET, contact_id)
    context.add_cookies([{"name": stack.settings.login_cookie, "value": token,
                          "url": stack.edge}])


def test_like_puts_the_product_in_the_inbox_and_survives_reload_and_login(
        stack: Stack, browser: Any, context: Any) -> None:
    page = context.new_page()
    page.goto(stack.edge + "/product/SKU-2")
    page.wait_for_selector("[data-edge-inbox-open]")
    page.click("#like")
    page.wait_for_selector("#like[aria-pressed=true]")
    vid = _visitor(stack, context)
    stack.profiles.wait(vid, lambda p: p.likes == ["SKU-2"], "the like")
    page.reload()
    page.wait_for_selector("#like[aria-pressed=true]")
    page.click("[data-edge-inbox-open]")
    drawer = page.get_by_role("dialog", name="Your shopping inbox")
    drawer.wait_for(state="visible")
    wishlist = drawer.locator("[data-edge-inbox-section=wishlist]")
    assert "Trail shoe 2" in wishlist.inner_text()
    # recommendations from the wish list: the same category, the liked product left out
    recommended = drawer.locator("[data-edge-inbox-section=recommended] li")
    recommended.first.wait_for()
    skus = recommended.evaluate_all("els => els.map(e => e.dataset.edgeSku)")
    assert skus and "SKU-2" not in skus and set(skus) <= {"SKU-1", "SKU-3", "SKU-4", "SKU-X"}
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.hasAttribute('data-edge-inbox-open')")

    # The same contact liked another product on another device, logged in there.
    other = browser.new_context()
    try:
        _log_in(stack, other, "c-wishlist")
        phone = other.new_page()
        phone.goto(stack.edge + "/")
        phone.wait_for_function("window.edge && window.edge.version")
        phone.evaluate("window.edge.like('SKU-5')")
        known = _visitor(stack, other)
        stack.profiles.wait(known, lambda p: p.known and p.likes == ["SKU-5"], "the other like")
    finally:
        other.close()

    # Logging in here merges the anonymous wish list into the contact's.
    _log_in(stack, context, "c-wishlist")
    page.reload()
    page.wait_for_selector("#like[aria-pressed=true]")
    page.click("[data-edge-inbox-open]")
    drawer.wait_for(state="visible")
    wishlist.locator("li[data-edge-sku='SKU-5']").wait_for()  # content arrives after opening
    skus = wishlist.locator("li").evaluate_all("els => els.map(e => e.dataset.edgeSku)")
    assert sorted(skus) == ["SKU-2", "SKU-5"]
    merged = stack.profiles.load(_visitor(stack, context))
    assert merged.known and sorted(merged.likes) == ["SKU-2", "SKU-5"]
    wishlist.get_by_role("button", name="Remove: Trail shoe 2").click()
    page.wait_for_selector("#like[aria-pressed=false]")
    stack.profiles.wait(_visitor(stack, context), lambda p: p.likes == ["SKU-5"], "the removal")


def test_offer_shows_unread_then_read(stack: Stack, context: Any) -> None:
    page = context.new_page()
    page.goto(stack.edge + "/")
    page.wait_for_selector("[data-edge-inbox-open]")
    vid = _visitor(stack, context)
    profile_id = stack.profiles.load(vid).id
    stack.profiles.run(lambda r: deliver_offer(
        r, profile_id, "spring-voucher",
        texts={"en": {"title": "A voucher for you", "body": "50 PLN off trail shoes",
                      "cta": "Use it"}, "pl": {"title": "Bon dla Ciebie"}}, url="/sale"))
    page.reload()
    badge = page.locator("[data-edge-inbox-badge]")
    badge.wait_for(state="visible")
    assert badge.inner_text() == "1"
    page.click("[data-edge-inbox-open]")
    offer = page.locator("[data-edge-offer=spring-voucher]")
    assert offer.get_attribute("data-edge-offer-state") == "unread"
    assert "A voucher for you" in offer.inner_text()
    offer.get_by_role("button", name="Mark as read: A voucher for you").click()
    page.wait_for_selector("[data-edge-offer=spring-voucher][data-edge-offer-state=read]")
    assert badge.is_hidden()
    page.reload()
    page.click("[data-edge-inbox-open]")
    offer.wait_for()
    assert offer.get_attribute("data-edge-offer-state") == "read"  # persists across visits
    offer.get_by_role("button", name="Delete: A voucher for you").click()
    offer.wait_for(state="detached")


def test_embed_mode_fills_slots_on_another_origin(stack: Stack, context: Any) -> None:
    page = context.new_page()
    errors = _errors(page)
    page.goto(stack.embedder + "/")
    page.wait_for_selector("[data-edge-slot=hero][data-edge-filled] [data-edge-placement]")
    assert "Spring trail sale" in page.inner_text("[data-edge-slot=hero]")
    vid = _visitor(stack, context)
    profile = stack.profiles.wait(vid, lambda p: bool(p.page_views), "the embedded page view")
    assert profile.page_views[0]["url"] == stack.embedder + "/"
    stack.profiles.wait(vid, lambda p: "hero-banner" in p.placements, "the embedded impression")
    page.evaluate("window.edge.track('embedded_calculator', {rate: 2}); window.edge.flush()")
    stack.profiles.wait(vid, lambda p: any(e["name"] == "embedded_calculator"
                                           for e in p.custom_events), "a later event")
    assert errors == []


def test_unreachable_edge_leaves_the_page_alone(browser: Any, tmp_path: Path) -> None:
    from tests.support.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        errors = _errors(page)
        script = (Path(__file__).resolve().parents[2] / "static" / "js" / "edge.min.js").read_text()
        page.set_content(f"""<html><body><div data-edge-slot="hero">kept</div>
            <button data-edge-like="X">like</button>
            <script data-edge="{dead}">{script}</script></body></html>""")
        page.wait_for_function("window.edge && window.edge.version")
        page.evaluate("window.edge.track('calculator', {rate: 3}); window.edge.flush()")
        page.click("[data-edge-like]")
        assert page.inner_text("[data-edge-slot=hero]") == "kept"
        assert errors == []
    finally:
        ctx.close()


def test_exit_intent_on_touch_devices_is_a_fast_scroll_back_up(stack: Stack,
                                                               browser: Any) -> None:
    stack.personalizer.popups = {"exit-touch": {
        "title": "Leaving already?", "text": "Your cart is waiting.",
        "trigger": {"type": "exit_intent"}}}
    phone = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True,
                                is_mobile=True)
    phone.set_default_timeout(10_000)
    try:
        page = phone.new_page()
        page.goto(stack.edge + "/")
        page.wait_for_function("window.edge && window.edge.version")
        popup = page.locator("[data-edge-popup]")
        page.evaluate("window.scrollTo(0, 600)")  # reading down, slowly: nothing
        page.wait_for_function("window.scrollY === 600")
        page.evaluate("window.scrollTo(0, 500)")
        page.wait_for_function("window.scrollY === 500")
        assert popup.is_hidden()
        # Down to the bottom, then a flick back to the top a frame later. Both in the page, so
        # the flick's speed is the page's own: a wait for the test in between (slow on a busy
        # machine) would read as a slow scroll back up, which is no exit intent.
        bottom = page.evaluate("""async () => {
            const frames = () => new Promise(done =>
                requestAnimationFrame(() => requestAnimationFrame(done)));
            window.scrollTo(0, document.documentElement.scrollHeight);
            await frames();
            const bottom = window.scrollY / window.innerHeight;
            window.scrollTo(0, 0);
            await frames();
            return bottom;
        }""")
        assert bottom > 1.5
        page.get_by_role("dialog", name="Leaving already?").wait_for(state="visible")
    finally:
        phone.close()
        stack.personalizer.popups = {}


def test_scroll_popup_opens_at_its_depth_and_hostile_names_stay_text(stack: Stack,
                                                                     context: Any) -> None:
    stack.personalizer.popups = {"deep-reader": {
        "title": "Still reading?", "text": "Here is a guide.",
        "trigger": {"type": "scroll", "percent": 80}}}
    try:
        page = context.new_page()
        page.goto(stack.edge + "/")
        page.wait_for_function("window.edge && window.edge.version")
        popup = page.locator("[data-edge-popup]")
        page.mouse.wheel(0, 600)
        page.wait_for_function("window.scrollY >= 600")
        assert popup.is_hidden()  # not deep enough yet
        page.mouse.wheel(0, 5000)
        page.get_by_role("dialog", name="Still reading?").wait_for(state="visible")
        page.keyboard.press("Escape")
        popup.wait_for(state="hidden")
        page.evaluate("window.edge.like('SKU-X')")
        page.click("[data-edge-inbox-open]")
        item = page.locator("[data-edge-inbox-section=wishlist] li[data-edge-sku=SKU-X]")
        item.wait_for()
        assert '<img src=x onerror="window.__pwned=1">Evil shoe' in item.inner_text()
        assert page.evaluate("window.__pwned") is None
        assert item.locator("img").count() == 0
    finally:
        stack.personalizer.popups = {}


def test_inbox_works_from_the_keyboard(stack: Stack, context: Any) -> None:
    page = context.new_page()
    page.goto(stack.edge + "/product/SKU-2")
    button = page.locator("[data-edge-inbox-open]")
    button.wait_for()
    button.focus()
    page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog", name="Your shopping inbox")
    drawer.wait_for(state="visible")
    assert button.get_attribute("aria-expanded") == "true"
    inside = "document.activeElement.closest('[data-edge-inbox-drawer]') !== null"
    assert page.evaluate(inside)
    for _ in range(3):
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")
    assert button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.hasAttribute('data-edge-inbox-open')")
