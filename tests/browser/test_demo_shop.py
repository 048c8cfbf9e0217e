"""End to end: the demo shop behind the edge with its rules, in headless Chromium.

The full pipeline runs (identity → profile → rules → widgets → the script): nothing here is
set up by hand except seeding the demo catalog and contacts, as ``edge demo`` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from edge.app import create_app
from edge.demo.catalog import products
from edge.demo.shop import create_shop
from edge.demo_runner import DEMO_SHOP_SECRET, demo_settings, seed
from edge.store.server import RedisHandle
from tests.browser.stack import add_routes
from tests.browser.support import Profiles, visitor_context
from tests.support.servers import free_port, serve

pytestmark = pytest.mark.browser

KNOWN_EMAIL = "krzysztof.nowak@example.com"  # Złoto tier, Polish, has an advisor


class Demo:
    def __init__(self, edge: str, settings: Any, profiles: Profiles, site: str):
        self.edge = edge
        self.settings = settings
        self.profiles = profiles
        self.site = site

    def visitor(self, context: Any) -> str:
        return self.profiles.visitor_id(context.cookies())


def embedding_site(edge_url: str) -> Starlette:
    """Another site (not behind the edge) with one slot, embedding the script."""
    body = f"""<!doctype html><html lang="pl"><head><meta charset="utf-8">
<meta name="edge:page-type" content="home"><title>Blog Szczytu</title></head><body>
<h1>Blog</h1><section data-edge-slot="hero"><p>embed default</p></section>
<script src="{edge_url}/_edge/edge.js" data-edge="{edge_url}" defer></script></body></html>"""

    async def index(request: Request) -> Response:
        return HTMLResponse(body)

    return Starlette(routes=[Route("/", index)])


@pytest.fixture(scope="module")
def demo(redis_handle: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    port = free_port()
    edge_url = f"http://127.0.0.1:{port}"
    with serve(create_shop(products(), shop_secret=DEMO_SHOP_SECRET)) as shop_url, \
            serve(embedding_site(edge_url)) as site_url:
        settings = demo_settings(host="127.0.0.1", port=port, shop_url=shop_url,
                                 redis_url=redis_handle.url,
                                 data_dir=str(tmp_path_factory.mktemp("demo")),
                                 admin_token="demo-admin-token")
        # a shared, busy test machine: generous budgets so pages are never served plain
        settings = settings.model_copy(update={
            "personalize_timeout": 5.0, "redis_timeout": 5.0,
            "cors_origins": (*settings.cors_origins, site_url)})
        profiles = Profiles(redis_handle.url, settings)
        profiles.run(lambda r: r.flushall())  # shared data (catalog) from other modules
        profiles.run(seed)
        app = create_app(settings)
        add_routes(app)
        with serve(app, port=port) as edge_url:
            yield Demo(edge_url, settings, profiles, site_url)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A new visitor of a Polish shop, browsing in Polish."""
    with visitor_context(browser, "pl-PL") as ctx:
        yield ctx


def _open_inbox(page: Any) -> Any:
    page.click("[data-edge-inbox-open]")
    drawer = page.locator("[data-edge-inbox-drawer]")
    drawer.wait_for(state="visible")
    return drawer


def _log_in(page: Any, demo: Demo, email: str) -> None:
    page.goto(demo.edge + "/login")
    page.fill("#email", email)
    page.fill("#password", "demo")
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(demo.edge + "/account")


def test_new_visitor_page_and_product_views_reach_the_profile(
        demo: Demo, context: Any, screenshots: Path) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(demo.edge + "/")
    page.wait_for_function("window.edge && window.edge.version")
    page.wait_for_selector("[data-edge-inbox-open]")
    page.screenshot(path=str(screenshots / "demo-home-new-visitor.png"))
    assert "Moja skrzynka" in page.inner_text("[data-edge-inbox-open]")  # Accept-Language: pl
    vid = demo.visitor(context)
    demo.profiles.wait(vid, lambda p: bool(p.page_views), "the home page view")
    page.click("a[href^='/p/']")
    page.wait_for_url("**/p/*")
    sku = page.get_attribute("[data-edge-product]", "data-edge-product")
    profile = demo.profiles.wait(
        vid, lambda p: any(v.get("sku") == sku for v in p.product_views), "the product view")
    assert profile.page_views[0]["url"].endswith(f"/p/{sku}")
    assert errors == []


def test_like_survives_login_and_known_contact_sees_the_inbox(
        demo: Demo, context: Any, screenshots: Path) -> None:
    page = context.new_page()
    page.goto(demo.edge + "/p/SHR-101")
    page.wait_for_selector("[data-edge-inbox-open]")
    page.click("[data-edge-like='SHR-101']")
    page.wait_for_selector("[data-edge-like='SHR-101'][aria-pressed=true]")
    demo.profiles.wait(demo.visitor(context), lambda p: "SHR-101" in p.likes, "the like")
    page.reload()
    page.wait_for_selector("[data-edge-like='SHR-101'][aria-pressed=true]")

    _log_in(page, demo, KNOWN_EMAIL)
    page.goto(demo.edge + "/")
    page.wait_for_selector("[data-edge-inbox-open]")
    drawer = _open_inbox(page)
    # the drawer's content arrives after it opens
    drawer.locator("[data-edge-inbox-section=wishlist] li[data-edge-sku='SHR-101']").wait_for()
    loyalty = drawer.locator("[data-edge-inbox-section=loyalty]").inner_text()
    assert "Złoto" in loyalty and "Platyna" in loyalty  # the imported loyalty status, in Polish
    assert "Twoja skrzynka zakupowa" in drawer.inner_text()
    page.screenshot(path=str(screenshots / "demo-home-known-contact-inbox.png"))
    profile = demo.profiles.load(demo.visitor(context))
    assert profile.known and "SHR-101" in profile.likes


def test_runner_gets_an_offer_that_shows_unread_then_read(demo: Demo, context: Any) -> None:
    page = context.new_page()
    page.goto(demo.edge + "/c/shoes/running")
    links = page.locator("a[href^='/p/SHR-']").evaluate_all(
        "els => [...new Set(els.map(e => e.getAttribute('href')))].slice(0, 3)")
    assert len(links) == 3
    vid = demo.visitor(context)
    for href in links:
        page.goto(demo.edge + href)
        page.wait_for_function("window.edge && window.edge.version")
    demo.profiles.wait(vid, lambda p: len(p.product_views) >= 3, "three running-shoe views")
    page.goto(demo.edge + "/")  # now in the "runner" segment: the rule delivers RUN15…
    demo.profiles.wait(vid, lambda p: "RUN15" in p.inbox, "the RUN15 offer")
    page.goto(demo.edge + "/c/shoes")  # …and every page from now on shows it
    badge = page.locator("[data-edge-inbox-badge]")
    badge.wait_for(state="visible")
    assert badge.inner_text() == "1"
    drawer = _open_inbox(page)
    offer = drawer.locator("[data-edge-offer=RUN15]")
    assert offer.get_attribute("data-edge-offer-state") == "unread"
    offer.locator("[data-edge-offer-read]").click()
    page.wait_for_selector("[data-edge-offer=RUN15][data-edge-offer-state=read]")
    assert badge.is_hidden()
    page.reload()
    drawer = _open_inbox(page)
    assert drawer.locator("[data-edge-offer=RUN15]").get_attribute(
        "data-edge-offer-state") == "read"


def test_exit_intent_popup_shows_once_closes_with_esc_and_not_again(demo: Demo,
                                                                    context: Any) -> None:
    page = context.new_page()
    page.goto(demo.edge + "/p/SHR-101")  # a first visit, on a product page
    page.wait_for_function("window.edge && window.edge.version")
    popup = page.locator("[data-edge-placement=exit_first_visit]")
    assert popup.count() == 1 and popup.is_hidden()
    dialog = page.get_by_role("dialog", name="Zanim wyjdziesz: czego szukasz?")
    # Exit intent is ignored for a moment after load (stray pointer moves): leave until it shows.
    deadline = time.monotonic() + 10
    while not dialog.is_visible():
        assert time.monotonic() < deadline, "the exit-intent pop-up never showed"
        page.mouse.move(600, 300)
        page.mouse.move(600, 5)
        page.mouse.move(600, -20)  # out through the top of the window
        page.wait_for_timeout(100)
    assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    page.keyboard.press("Escape")
    popup.wait_for(state="hidden")
    vid = demo.visitor(context)
    demo.profiles.wait(vid, lambda p: "exit_first_visit" in p.placements
                       and p.placements["exit_first_visit"].close.lifetime == 1,
                       "the pop-up's close")
    page.mouse.move(600, 300)
    page.mouse.move(600, -20)
    assert popup.is_hidden()  # not again on this page…
    page.reload()
    page.wait_for_function("window.edge && window.edge.version")
    assert popup.count() == 0  # …nor on the next: the rule stops after a close


def test_embed_mode_on_another_site_runs_the_same_rules(demo: Demo, context: Any) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(demo.site + "/")
    hero = page.locator("[data-edge-slot=hero][data-edge-filled]")
    hero.wait_for()
    assert "embed default" not in hero.inner_text()
    placement = hero.locator("[data-edge-placement]").first.get_attribute("data-edge-placement")
    assert placement == "hero_welcome"  # the demo rule for a new visitor on a home page
    page.locator("[data-edge-inbox-open]").wait_for()  # the inbox comes along
    assert page.locator("[data-edge-inbox]").count() == 1
    vid = demo.visitor(context)
    profile = demo.profiles.wait(vid, lambda p: "hero_welcome" in p.placements,
                                 "the embedded impression")
    assert profile.page_views[0]["url"] == demo.site + "/"
    assert errors == []


def test_events_survive_navigation_impression_click_and_cart(demo: Demo, context: Any) -> None:
    page = context.new_page()
    page.goto(demo.edge + "/p/SHR-101")
    page.wait_for_function("window.edge && window.edge.version")
    frame = page.locator("[data-edge-slot=recommendations] [data-edge-placement]").first
    frame.wait_for(state="attached")
    placement = frame.get_attribute("data-edge-placement")
    frame.scroll_into_view_if_needed()
    vid = demo.visitor(context)
    demo.profiles.wait(vid, lambda p: placement in p.placements, "the frame's impression")
    link = frame.locator("a[data-edge-sku]").first
    sku = link.get_attribute("data-edge-sku")
    link.click()  # leaves the page at once: the click goes out with sendBeacon on pagehide
    page.wait_for_url(f"**/p/{sku}")
    profile = demo.profiles.wait(vid, lambda p: p.placements[placement].click.lifetime == 1,
                                 "the click on a recommended product")
    assert profile.placements[placement].seen.lifetime == 1
    page.wait_for_function("window.edge && window.edge.version")
    buy = page.locator(f"[data-edge-add-to-cart='{sku}']").first
    assert buy.is_enabled()  # the frame's rule recommends in-stock products only
    buy.click()  # the shop's form posts and the page changes
    page.wait_for_load_state()
    demo.profiles.wait(vid, lambda p: any(c["sku"] == sku for c in p.cart),
                       "the add to cart sent while leaving")
