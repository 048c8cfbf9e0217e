"""Szczyt, the demo shop: a small Polish outdoor-gear shop that the edge sits in front of.

It is an ordinary origin: it knows nothing about the edge except the markup contract (slots
``data-edge-slot``, facts in ``<meta name="edge:...">``, ``data-edge-*`` attributes) and the
login token it sets in the ``edge_login`` cookie when a known contact logs in.

Speed matters because benchmarks use it as their origin: templates are compiled and artwork is
drawn at start-up, and pages that do not depend on the visitor (home, category, product) are
rendered once and then served from memory. No request does any I/O.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from edge.demo import images
from edge.demo.catalog import products
from edge.demo.contacts import DEMO_PASSWORD, contacts
from edge.demo.data import PAGE_SIZE, SORTS, ShopData, format_pln, price_attr, script_json
from edge.demo.session import CART_COOKIE, SESSION_COOKIE, decode_cart, encode_cart, sign, unsign
from edge.errors import SettingsError
from edge.store.signing import make_login_token

HERE = Path(__file__).resolve().parent
SHOP_NAME = "Szczyt"
DEFAULT_SHOP_SECRET = "demo-shop-secret"
MAX_FORM_BYTES = 16 * 1024
MAX_ORDERS = 10_000
LOGIN_TTL = 3600
TEMPLATES = ("home.html", "category.html", "product.html", "cart.html", "order.html",
             "login.html", "account.html", "notfound.html")
HTML = "text/html; charset=utf-8"
PUBLIC = "public, max-age=60"
PRIVATE = "private, no-store"
_SKU = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'


def _cached(request: Request, body: bytes, etag: str, media_type: str, cache: str) -> Response:
    """A response for an immutable-per-process body, with ETag and 304 support."""
    headers = {"ETag": etag, "Cache-Control": cache}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _safe_next(value: str | None, default: str) -> str:
    # Only same-site paths: "/x" but never "//evil.example" or "/\evil".
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return default


class DemoShop:
    """The shop's state and handlers; ``create_shop`` turns it into a Starlette app."""

    def __init__(self, catalog: list[dict[str, Any]], shop_secret: str,
                 login_cookie: str = "edge_login"):
        if not shop_secret:
            raise SettingsError("shop_secret: the demo shop needs a secret to sign login tokens")
        self.secret = shop_secret
        self.login_cookie = login_cookie
        self.data = ShopData(catalog)
        self.contacts = {c["contact_id"]: c for c in contacts()}
        self.by_email = {c["email"]: c for c in self.contacts.values()}
        self.orders: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                               auto_reload=False, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["pln"] = format_pln
        self.env.globals.update(shop_name=SHOP_NAME, tree=self.data.tree, active_top="",
                                cart_count=0)
        self.templates = {name: self.env.get_template(name) for name in TEMPLATES}
        css = (HERE / "static" / "shop.css").read_bytes()
        files = {"shop.css": (css, "text/css; charset=utf-8"),
                 **images.artwork(catalog, list(self.contacts.values()))}
        self.assets = {path: (body, _etag(body), media) for path, (body, media) in files.items()}
        self.csv_chunks = self.data.catalog_csv_chunks()
        # Pages that are the same for every visitor: rendered once, kept as bytes.
        self.page_cache: dict[tuple[str, ...], tuple[bytes, str]] = {}

    # --- helpers ------------------------------------------------------------------------

    def render(self, name: str, **context: Any) -> bytes:
        return self.templates[name].render(**context).encode("utf-8")

    def public_page(self, request: Request, key: tuple[str, ...], build: Any) -> Response:
        entry = self.page_cache.get(key)
        if entry is None:
            body = build()
            entry = self.page_cache[key] = (body, _etag(body))
        return _cached(request, entry[0], entry[1], HTML, PUBLIC)

    def private_page(self, body: bytes, status: int = 200) -> Response:
        return Response(body, status_code=status, media_type=HTML,
                        headers={"Cache-Control": PRIVATE})

    def cart_of(self, request: Request) -> dict[str, int]:
        raw = unsign(self.secret, request.cookies.get(CART_COOKIE), purpose="cart")
        return decode_cart(raw, self.data.skus)

    def contact_of(self, request: Request) -> dict[str, Any] | None:
        cid = unsign(self.secret, request.cookies.get(SESSION_COOKIE), purpose="session")
        return self.contacts.get(cid) if cid else None

    def set_cart(self, response: Response, cart: dict[str, int]) -> None:
        if cart:
            response.set_cookie(CART_COOKIE, sign(self.secret, encode_cart(cart), purpose="cart"),
                                max_age=30 * 86400, httponly=True, samesite="lax")
        else:
            response.delete_cookie(CART_COOKIE, httponly=True, samesite="lax")

    def set_login_token(self, response: Response, contact: dict[str, Any]) -> None:
        """Tell the edge who this is: a token signed with the shop's secret."""
        token = make_login_token(self.secret, contact["contact_id"], email=contact["email"],
                                 ttl=LOGIN_TTL)
        response.set_cookie(self.login_cookie, token, max_age=LOGIN_TTL, httponly=True,
                            samesite="lax")

    def refresh_login(self, request: Request, response: Response,
                      contact: dict[str, Any] | None) -> Response:
        # The shop session outlives the short-lived token; re-issue it on private pages
        # (never on the public, cacheable ones) once the browser has dropped it.
        if contact is not None and not request.cookies.get(self.login_cookie):
            self.set_login_token(response, contact)
        return response

    async def form(self, request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413)
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    # --- catalog pages -------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return self.public_page(request, ("home",), lambda: self.render(
            "home.html", page_type="home", bestsellers=self.data.bestsellers,
            new_arrivals=self.data.new_arrivals))

    async def category(self, request: Request) -> Response:
        path = request.path_params["path"].strip("/")
        items = self.data.in_category.get(path)
        if not items:
            raise HTTPException(404)
        sort = request.query_params.get("sort", "popular")
        sort = sort if sort in SORTS else "popular"
        page_text = request.query_params.get("page", "1")
        pages = max(1, -(-len(items) // PAGE_SIZE))
        page = int(page_text) if page_text.isdigit() else 0
        if not 1 <= page <= pages:
            raise HTTPException(404)
        return self.public_page(request, ("category", path, sort, str(page)),
                                lambda: self._render_category(path, sort, page, pages))

    def _render_category(self, path: str, sort: str, page: int, pages: int) -> bytes:
        items = self.data.sorted_in(path, sort)
        top = self.data.top_node(path)

        def page_query(n: int) -> str:
            params = {"sort": sort} if sort != "popular" else {}
            return urlencode({**params, "page": n})

        return self.render(
            "category.html", page_type="category", category=path, label=self.data.label(path),
            crumbs=self.data.crumbs(path), active_top=top.path if top else "",
            subcats=top.children if top else (), total=len(items), page=page, pages=pages,
            items=items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], sort=sort,
            sort_options=list(SORTS.items()), page_query=page_query,
            top_in_category=self.data.top_in(path))

    async def product(self, request: Request) -> Response:
        p = self.data.by_sku.get(request.path_params["sku"])
        if p is None:
            raise HTTPException(404)
        return self.public_page(request, ("product", p["sku"]), lambda: self.render(
            "product.html", page_type="product", p=p, price_attr=price_attr(p["price"]),
            json_ld=self.data.json_ld(p), crumbs=self.data.crumbs(p["category"])
            + [("", p["name"])], active_top=p["category"].split("/")[0],
            attributes=self.data.attribute_rows(p), similar=self.data.similar(p)))

    # --- cart and orders ------------------------------------------------------------------

    async def cart(self, request: Request) -> Response:
        cart = self.cart_of(request)
        lines = []
        for sku, qty in cart.items():
            p = self.data.by_sku[sku]
            lines.append({"p": p, "qty": qty, "total": round(p["price"] * qty, 2),
                          "price_attr": price_attr(p["price"])})
        value = round(sum(line["total"] for line in lines), 2)
        in_cart = set(cart)
        suggestions = [p for p in self.data.bestsellers if p["sku"] not in in_cart][:4]
        return self.refresh_login(request, self.private_page(self.render(
            "cart.html", page_type="cart", lines=lines, cart_value=value,
            cart_value_attr=price_attr(value), cart_skus=",".join(cart), currency="PLN",
            cart_count=sum(cart.values()), suggestions=suggestions)), self.contact_of(request))

    async def cart_add(self, request: Request) -> Response:
        form = await self.form(request)
        sku = form.get("sku", "")
        p = self.data.by_sku.get(sku)
        qty_text = form.get("qty", "1").strip()
        if p is None or not qty_text.isdigit() or int(qty_text) < 1:
            raise HTTPException(400, "unknown product or bad quantity")
        cart = self.cart_of(request)
        if p["stock"] > 0:
            cart[sku] = min(cart.get(sku, 0) + int(qty_text), p["stock"], 20)
        response = RedirectResponse(_safe_next(form.get("next"), "/cart"), status_code=303)
        self.set_cart(response, cart)
        return response

    async def cart_remove(self, request: Request) -> Response:
        form = await self.form(request)
        cart = self.cart_of(request)
        cart.pop(form.get("sku", ""), None)
        response = RedirectResponse("/cart", status_code=303)
        self.set_cart(response, cart)
        return response

    async def checkout(self, request: Request) -> Response:
        cart = self.cart_of(request)
        if not cart:
            return RedirectResponse("/cart", status_code=303)
        now = datetime.now(UTC)
        order_id = f"SZ-{now:%Y}-{secrets.token_hex(4).upper()}"
        items = [{"sku": sku, "qty": qty, "price": self.data.by_sku[sku]["price"]}
                 for sku, qty in cart.items()]
        contact = self.contact_of(request)
        self.orders[order_id] = {
            "order_id": order_id, "items": items, "currency": "PLN",
            "value": round(sum(i["qty"] * i["price"] for i in items), 2),
            "ts": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "contact_id": contact["contact_id"] if contact else None,
        }
        while len(self.orders) > MAX_ORDERS:
            self.orders.popitem(last=False)
        response = RedirectResponse(f"/order/{order_id}", status_code=303)
        self.set_cart(response, {})
        return response

    async def order(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            raise HTTPException(404)
        items = [{**i, "name": self.data.by_sku[i["sku"]]["name"],
                  "price_attr": price_attr(i["price"])} for i in order["items"]]
        purchase = {k: order[k] for k in ("order_id", "items", "value", "currency")}
        return self.private_page(self.render(
            "order.html", page_type="purchase", order=order, items=items,
            value_attr=price_attr(order["value"]), purchase_json=script_json(purchase)))

    # --- login and account -----------------------------------------------------------------

    def _login_page(self, *, error: str = "", email: str = "", next_url: str = "/account",
                    status: int = 200) -> Response:
        return self.private_page(self.render(
            "login.html", page_type="login", error=error, email=email, next=next_url,
            accounts=list(self.contacts.values())), status)

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            return self._login_page(next_url=_safe_next(request.query_params.get("next"),
                                                        "/account"))
        form = await self.form(request)
        email = form.get("email", "").strip().lower()
        contact = self.by_email.get(email)
        next_url = _safe_next(form.get("next"), "/account")
        if contact is None or form.get("password") != DEMO_PASSWORD:
            return self._login_page(error="Nieprawidłowy e-mail lub hasło.", email=email,
                                    next_url=next_url, status=401)
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(SESSION_COOKIE,
                            sign(self.secret, contact["contact_id"], purpose="session"),
                            httponly=True, samesite="lax")
        self.set_login_token(response, contact)
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
        response.delete_cookie(self.login_cookie, httponly=True, samesite="lax")
        return response

    async def account(self, request: Request) -> Response:
        contact = self.contact_of(request)
        if contact is None:
            return RedirectResponse("/login?next=/account", status_code=303)
        placed = [o for o in self.orders.values() if o["contact_id"] == contact["contact_id"]]
        orders = sorted(contact.get("purchases", []) + placed, key=lambda o: o["ts"],
                        reverse=True)
        return self.refresh_login(request, self.private_page(self.render(
            "account.html", page_type="account", c=contact, orders=orders,
            cart_count=sum(self.cart_of(request).values()))), contact)

    # --- non-HTML --------------------------------------------------------------------------

    async def static(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["path"])
        if asset is None:
            raise HTTPException(404)
        return _cached(request, asset[0], asset[1], asset[2], "public, max-age=86400")

    async def favicon(self, request: Request) -> Response:
        body, etag, media = self.assets["favicon.svg"]
        return _cached(request, body, etag, media, "public, max-age=86400")

    async def stock(self, request: Request) -> Response:
        sku = request.path_params["sku"]
        p = self.data.by_sku.get(sku) if _SKU.match(sku) else None
        if p is None:
            return JSONResponse({"error": "unknown sku", "sku": sku}, status_code=404)
        return JSONResponse({"sku": sku, "stock": p["stock"], "available": p["stock"] > 0,
                             "price": p["price"], "currency": p["currency"]},
                            headers={"Cache-Control": "no-cache"})

    async def catalog_csv(self, request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in self.csv_chunks:
                yield chunk

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="szczyt-katalog.csv"',
            "Cache-Control": "public, max-age=300"})

    async def error_page(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "not found"}, status_code=status)
        if status != 404:
            return Response(getattr(exc, "detail", ""), status_code=status,
                            media_type="text/plain; charset=utf-8")
        return self.private_page(self.render("notfound.html", page_type="notfound"), 404)


def create_shop(catalog: list[dict[str, Any]] | None = None,
                shop_secret: str = DEFAULT_SHOP_SECRET, *, login_cookie: str = "edge_login",
                gzip: bool = False) -> Starlette:
    """The demo shop as an ASGI app. ``catalog`` defaults to :func:`edge.demo.catalog.products`.

    ``gzip=True`` compresses responses, to exercise the edge's Content-Encoding handling.
    The shop's state is on ``app.state.shop`` (a :class:`DemoShop`).
    """
    shop = DemoShop(products() if catalog is None else catalog, shop_secret, login_cookie)
    routes = [
        Route("/", shop.home),
        Route("/c/{path:path}", shop.category),
        Route("/p/{sku}", shop.product),
        Route("/cart", shop.cart),
        Route("/cart/add", shop.cart_add, methods=["POST"]),
        Route("/cart/remove", shop.cart_remove, methods=["POST"]),
        Route("/cart/checkout", shop.checkout, methods=["POST"]),
        Route("/order/{order_id}", shop.order),
        Route("/login", shop.login, methods=["GET", "POST"]),
        Route("/logout", shop.logout, methods=["GET", "POST"]),
        Route("/account", shop.account),
        Route("/static/{path:path}", shop.static),
        Route("/favicon.ico", shop.favicon),
        Route("/api/stock/{sku}", shop.stock),
        Route("/download/catalog.csv", shop.catalog_csv),
    ]
    middleware = [Middleware(GZipMiddleware, minimum_size=1024)] if gzip else []
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: shop.error_page, 400: shop.error_page,
                                        413: shop.error_page})
    app.state.shop = shop
    return app
