"""Real parts for the browser tests: a small shop origin, a page that embeds the script from
another origin, a minimal personalizer made of the real identity, store and widgets, and
helpers to read the visitor's profile from the real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from edge.api.embed import script_tag
from edge.page import Fills, Page, RequestHead
from edge.store.identity import Identity, Visitor
from edge.store.profile import Profile
from edge.store.signing import read_visitor_cookie
from edge.store.store import Store
from widgets.banner import BannerWidget
from widgets.context import PlacementInfo, RenderContext
from widgets.popup import PopupWidget
from widgets.templating import Templates

PRODUCTS = [
    {"sku": f"SKU-{i}", "name": f"Trail shoe {i}", "url": f"/product/SKU-{i}",
     "image": "", "price": 100.0 + i, "currency": "PLN",
     "category": "shoes/trail" if i <= 4 else "jackets", "attributes": {"color": "blue"},
     "stock": 5, "created_at": f"2025-01-0{i}"}
    for i in range(1, 7)
] + [
    # a hostile name, as a careless catalog import could carry: it must only ever show as text
    {"sku": "SKU-X", "name": '<img src=x onerror="window.__pwned=1">Evil shoe', "url": "/x",
     "image": "", "price": 1.0, "currency": "PLN", "category": "shoes/trail", "stock": 1,
     "created_at": "2025-01-01"},
]

_LAYOUT = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
{head}</head><body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, head: str = "", lang: str = "en") -> str:
    return _LAYOUT.format(title=title, body=body, head=head, lang=lang)


HOME = page("Home", """
<div data-edge-slot="hero"><p>default hero</p></div>
<button id="plain-button" type="button">Nothing</button>
<div style="height:2400px">spacer</div>
<div data-edge-slot="below"><p>default below</p></div>
<p>end</p>""")

PRODUCT = page("Trail shoe 2", """
<main data-edge-product="SKU-2">
<form action="/cart" method="get" onsubmit="return false">
<input name="qty" value="2"><button type="submit" id="buy" data-edge-add-to-cart="SKU-2"
 data-edge-price="102">Add to cart</button></form>
<button type="button" id="like" data-edge-like="SKU-2">Save for later</button>
</main>""", head="""<script type="application/ld+json">{"@context":"https://schema.org",
"@type":"Product","sku":"SKU-2","name":"Trail shoe 2"}</script>""")

LD_PRODUCT = page("Shoe 3 (JSON-LD only)", "<p>Described by JSON-LD</p>", head="""
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
{"@type":"BreadcrumbList"},{"@type":"Product","sku":"SKU-3"}]}</script>""")


def create_shop() -> Starlette:
    async def home(request: Request) -> Response:
        return HTMLResponse(HOME)

    async def product(request: Request) -> Response:
        return HTMLResponse(PRODUCT)

    async def ld_product(request: Request) -> Response:
        return HTMLResponse(LD_PRODUCT)

    return Starlette(routes=[Route("/", home), Route("/product/SKU-2", product),
                             Route("/ld", ld_product)])


def create_embedder(edge_url: str) -> Starlette:
    """A site NOT behind the edge that embeds the script from the edge's origin."""
    body = f"""
<div data-edge-slot="hero"><p>embed default</p></div>
<script src="{edge_url}/_edge/edge.js" data-edge="{edge_url}"></script>"""

    async def index(request: Request) -> Response:
        return HTMLResponse(page("Embedding page", body))

    return Starlette(routes=[Route("/", index)])


class _Session:
    def __init__(self, owner: PagePersonalizer, visitor: Visitor, request: RequestHead):
        self.owner = owner
        self.visitor = visitor
        self.request = request

    def response_headers(self) -> list[tuple[bytes, bytes]]:
        return self.visitor.set_cookie_headers()

    async def fill(self, page: Page) -> Fills:
        o = self.owner
        fills = Fills()
        for slot in page.slots:
            if slot in o.banners:
                ctx = RenderContext(language="en", placement=PlacementInfo(id=f"{slot}-banner",
                                                                            variant="a"))
                fills.slots[slot] = o.templates.stylesheet + (
                    o.banner.render(ctx, o.banner.parse_params(o.banners[slot])) or "")
        popups = []
        for placement_id, params in o.popups.items():
            ctx = RenderContext(language="en", placement=PlacementInfo(id=placement_id))
            popups.append(o.popup.render(ctx, o.popup.parse_params(params)) or "")
        fills.body_end = "".join(popups) + script_tag(o.settings, **o.script_config)
        return fills

    def finish(self, page: Page | None, status: int) -> None:
        if page is not None:
            task = asyncio.get_running_loop().create_task(
                self.owner.store.record_page_view(self.visitor, page.request, page.title))
            self.owner.tasks.add(task)
            task.add_done_callback(self.owner.tasks.discard)


class PagePersonalizer:
    """identity → fixed banners per slot and pop-ups → the script tag; records page views."""

    def __init__(self, state: Any, *, banners: Mapping[str, Mapping[str, Any]],
                 popups: Mapping[str, Mapping[str, Any]], script_config: Mapping[str, Any]):
        self.settings = state.settings
        self.identity = Identity(state.settings, state.redis)
        self.store = Store(state.redis, state.settings)
        state.identity, state.store = self.identity, self.store
        self.templates = Templates()
        self.banner = BannerWidget(self.templates)
        self.popup = PopupWidget(self.templates)
        self.banners = dict(banners)
        self.popups = dict(popups)
        self.script_config = dict(script_config)
        self.tasks: set[asyncio.Task[None]] = set()

    async def begin(self, request: RequestHead) -> _Session:
        return _Session(self, await self.identity.identify(request), request)


# --- reading the profile behind a browser context ---------------------------------------------
class Profiles:
    def __init__(self, redis_url: str, settings: Any):
        self.redis_url = redis_url
        self.settings = settings

    def visitor_id(self, cookies: list[dict[str, Any]]) -> str:
        value = next(c["value"] for c in cookies if c["name"] == self.settings.cookie_name)
        signed = read_visitor_cookie(value, [self.settings.secret], self.settings.cookie_max_age)
        assert signed is not None, "the edge cookie does not verify"
        return signed.visitor_id

    def run(self, coro_factory: Callable[[Any], Any]) -> Any:
        """Run ``coro_factory(redis)`` on a fresh client, in a thread of its own: Playwright's
        sync API keeps an event loop running in the test's thread."""
        import redis.asyncio as aioredis

        async def run() -> Any:
            client = aioredis.from_url(self.redis_url)
            try:
                return await coro_factory(client)
            finally:
                await client.aclose()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, run()).result()

    def load(self, visitor_id: str) -> Profile:
        async def load(client: Any) -> Profile:
            store = Store(client, self.settings)
            return await store.load(await store.resolve(visitor_id))

        return self.run(load)  # type: ignore[no-any-return]

    def wait(self, visitor_id: str, check: Callable[[Profile], bool], what: str,
             within: float = 10.0) -> Profile:
        """Poll until the profile satisfies ``check`` (events travel asynchronously)."""
        deadline = time.monotonic() + within
        while True:
            profile = self.load(visitor_id)
            if check(profile):
                return profile
            if time.monotonic() > deadline:
                raise AssertionError(f"the profile never got {what}: "
                                     f"{json.dumps(profile.to_json(), default=str)[:2000]}")
            time.sleep(0.1)


@contextlib.contextmanager
def visitor_context(browser: Any, locale: str) -> Iterator[Any]:
    """A fresh browser profile (a new visitor) speaking ``locale``, closed afterwards."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 800}, locale=locale)
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()
