from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import html5lib
import httpx
import pytest

from edge.demo.catalog import products
from edge.demo.contacts import contacts
from edge.demo.session import CART_COOKIE, SESSION_COOKIE
from edge.demo.shop import create_shop
from edge.store.signing import read_login_token
from tests.demo.helpers import NS, metas, parse, shop_client, slots, text_of
from tests.support.servers import serve

CATALOG = products()
BY_SKU = {p["sku"]: p for p in CATALOG}
SECRET = "test-shop-secret"
IN_STOCK = [p for p in CATALOG if p["stock"] >= 3]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with shop_client(create_shop(CATALOG, shop_secret=SECRET)) as c:
        yield c


def cart_rows(html: str) -> dict[str, int]:
    doc = parse(html)
    return {tr.get("data-edge-cart-item"): int(tr.get("data-edge-qty"))
            for tr in doc.iter(f"{NS}tr") if tr.get("data-edge-cart-item")}


async def test_cart_add_remove_and_checkout(client: httpx.AsyncClient) -> None:
    a, b = IN_STOCK[0], IN_STOCK[1]
    r = await client.post("/cart/add", data={"sku": a["sku"], "qty": "2"})
    assert r.status_code == 303 and r.headers["location"] == "/cart"
    await client.post("/cart/add", data={"sku": b["sku"], "qty": "1", "next": b["url"]})
    page = await client.get("/cart")
    assert page.status_code == 200
    assert cart_rows(page.text) == {a["sku"]: 2, b["sku"]: 1}
    doc = parse(page.text)
    facts = metas(doc)
    assert facts["edge:page-type"] == "cart"
    assert facts["edge:cart-items"].split(",") == [a["sku"], b["sku"]]
    value = round(2 * a["price"] + b["price"], 2)
    assert float(facts["edge:cart-value"]) == value
    assert "recommendations" in slots(doc)

    await client.post("/cart/remove", data={"sku": b["sku"]})
    assert cart_rows((await client.get("/cart")).text) == {a["sku"]: 2}

    r = await client.post("/cart/checkout")
    assert r.status_code == 303 and r.headers["location"].startswith("/order/SZ-")
    order_id = r.headers["location"].removeprefix("/order/")
    thanks = await client.get(r.headers["location"])
    assert thanks.status_code == 200
    doc = parse(thanks.text)
    assert metas(doc)["edge:page-type"] == "purchase"
    main = doc.find(f".//{NS}main")
    assert main.get("data-edge-purchase") == order_id
    assert float(main.get("data-edge-purchase-value")) == round(2 * a["price"], 2)
    assert main.get("data-edge-purchase-currency") == "PLN"
    data = json.loads(next(s for s in doc.iter(f"{NS}script")
                           if s.get("id") == "edge-purchase").text)
    assert data == {"order_id": order_id, "currency": "PLN", "value": round(2 * a["price"], 2),
                    "items": [{"sku": a["sku"], "qty": 2, "price": a["price"]}]}
    # The cart is emptied after the order.
    assert cart_rows((await client.get("/cart")).text) == {}


async def test_cart_limits_and_bad_input(client: httpx.AsyncClient) -> None:
    low = next(p for p in CATALOG if 1 <= p["stock"] <= 3)
    await client.post("/cart/add", data={"sku": low["sku"], "qty": "9"})
    assert cart_rows((await client.get("/cart")).text) == {low["sku"]: low["stock"]}
    out = next(p for p in CATALOG if p["stock"] == 0)
    await client.post("/cart/add", data={"sku": out["sku"], "qty": "1"})
    assert out["sku"] not in cart_rows((await client.get("/cart")).text)
    assert (await client.post("/cart/add", data={"sku": "NOPE", "qty": "1"})).status_code == 400
    bad_qty = await client.post("/cart/add", data={"sku": low["sku"], "qty": "-1"})
    assert bad_qty.status_code == 400
    r = await client.post("/cart/add", data={"sku": low["sku"], "next": "//evil.example/"})
    assert r.headers["location"] == "/cart"


async def test_tampered_cart_cookie_is_an_empty_cart(client: httpx.AsyncClient) -> None:
    await client.post("/cart/add", data={"sku": IN_STOCK[0]["sku"], "qty": "1"})
    value = client.cookies[CART_COOKIE]
    body, _, mac = value.partition(".")
    client.cookies.set(CART_COOKIE, body + "." + ("A" if mac[0] != "A" else "B") + mac[1:])
    assert cart_rows((await client.get("/cart")).text) == {}
    assert (await client.post("/cart/checkout")).headers["location"] == "/cart"


async def test_login_sets_a_verifiable_edge_token(client: httpx.AsyncClient) -> None:
    who = contacts()[0]
    r = await client.post("/login", data={"email": who["email"].upper(), "password": "demo"})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    set_cookies = r.headers.get_list("set-cookie")
    login = next(c for c in set_cookies if c.startswith("edge_login="))
    assert "HttpOnly" in login and "Max-Age=3600" in login
    claims = read_login_token(SECRET, client.cookies["edge_login"])
    assert claims is not None
    assert claims.contact_id == who["contact_id"] and claims.email == who["email"]
    assert read_login_token("another-secret", client.cookies["edge_login"]) is None

    account = await client.get("/account")
    assert account.status_code == 200
    doc = parse(account.text)
    assert metas(doc)["edge:page-type"] == "account"
    text = text_of(doc.find(f".//{NS}main"))
    assert who["attributes"]["first_name"] in text and who["attributes"]["last_name"] in text
    assert who["purchases"][0]["order_id"] in text
    assert who["advisor"]["name"] in text


async def test_account_comes_from_the_shop_session_not_the_edge_token(
        client: httpx.AsyncClient) -> None:
    who = contacts()[1]
    await client.post("/login", data={"email": who["email"], "password": "demo"})
    client.cookies.delete("edge_login")
    assert who["attributes"]["first_name"] in (await client.get("/account")).text
    client.cookies.delete(SESSION_COOKIE)
    r = await client.get("/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_wrong_password_and_logout(client: httpx.AsyncClient) -> None:
    who = contacts()[2]
    r = await client.post("/login", data={"email": who["email"], "password": "nope"})
    assert r.status_code == 401
    assert "edge_login" not in client.cookies and SESSION_COOKIE not in client.cookies
    assert metas(parse(r.text))["edge:page-type"] == "login"
    await client.post("/login", data={"email": who["email"], "password": "demo"})
    assert "edge_login" in client.cookies
    r = await client.post("/logout")
    assert r.status_code == 303
    assert "edge_login" not in client.cookies and SESSION_COOKIE not in client.cookies
    assert (await client.get("/account")).status_code == 303


async def test_orders_show_on_the_account(client: httpx.AsyncClient) -> None:
    who = contacts()[4]
    await client.post("/login", data={"email": who["email"], "password": "demo"})
    await client.post("/cart/add", data={"sku": IN_STOCK[3]["sku"], "qty": "1"})
    order_id = (await client.post("/cart/checkout")).headers["location"].removeprefix("/order/")
    assert order_id in (await client.get("/account")).text


async def test_login_page_lists_the_demo_accounts(client: httpx.AsyncClient) -> None:
    html = (await client.get("/login")).text
    for c in contacts():
        assert c["email"] in html


async def test_stock_api_is_json(client: httpx.AsyncClient) -> None:
    p = CATALOG[7]
    r = await client.get(f"/api/stock/{p['sku']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"sku": p["sku"], "stock": p["stock"], "available": p["stock"] > 0,
                        "price": p["price"], "currency": "PLN"}
    missing = await client.get("/api/stock/NOPE-0")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"


def test_catalog_csv_streams_in_chunks() -> None:
    # A real server: the in-process ASGI transport would buffer the body.
    with serve(create_shop(CATALOG, shop_secret=SECRET), lifespan="off") as base:
        with httpx.Client(base_url=base, timeout=10) as c, \
                c.stream("GET", "/download/catalog.csv") as r:
            assert r.status_code == 200
            assert r.headers["content-type"] == "text/csv; charset=utf-8"
            assert "attachment" in r.headers["content-disposition"]
            assert r.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in r.headers
            body = b"".join(r.iter_raw())
    assert len(body) > 50_000
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row["sku"] for row in rows] == [p["sku"] for p in CATALOG]
    assert float(rows[0]["price"]) == CATALOG[0]["price"]


async def test_static_assets(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/shop.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "data-edge-slot" in css.text and "@import" not in css.text and "url(" not in css.text
    r304 = await client.get("/static/shop.css", headers={"if-none-match": css.headers["etag"]})
    assert r304.status_code == 304
    img = await client.get(CATALOG[0]["image"])
    assert img.headers["content-type"] == "image/svg+xml"
    assert img.text.startswith("<svg") and CATALOG[0]["attributes"]["brand"] in img.text
    for c in contacts():
        if c["advisor"]:
            avatar = await client.get(c["advisor"]["photo_url"])
            assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/svg+xml"
    for url in ("/favicon.ico", "/static/favicon.svg"):
        assert (await client.get(url)).headers["content-type"] == "image/svg+xml"
    assert (await client.get("/static/nothing.css")).status_code == 404


async def test_no_external_resources_on_pages(client: httpx.AsyncClient) -> None:
    for url in ("/", "/c/jackets", "/p/JKR-101", "/cart", "/login"):
        doc = parse((await client.get(url)).text)
        for el in doc.iter():
            for attr in ("src", "href"):
                value = el.get(attr) if isinstance(el.tag, str) else None
                if value and el.tag != f"{NS}a":
                    assert value.startswith("/"), (url, value)


async def test_login_token_is_reissued_on_private_pages_while_logged_in(
        client: httpx.AsyncClient) -> None:
    who = contacts()[3]
    await client.post("/login", data={"email": who["email"], "password": "demo"})
    client.cookies.delete("edge_login")  # the browser dropped it after its max-age
    home = await client.get("/")
    assert "set-cookie" not in home.headers  # public pages stay cacheable
    r = await client.get("/account")
    assert any(c.startswith("edge_login=") for c in r.headers.get_list("set-cookie"))
    claims = read_login_token(SECRET, client.cookies["edge_login"])
    assert claims is not None and claims.contact_id == who["contact_id"]
    again = await client.get("/cart")
    assert "edge_login" not in again.headers.get("set-cookie", "")


async def test_every_page_parses_without_a_single_html_error(client: httpx.AsyncClient) -> None:
    await client.post("/cart/add", data={"sku": IN_STOCK[0]["sku"], "qty": "1"})
    await client.post("/login", data={"email": contacts()[0]["email"], "password": "demo"})
    out_of_stock = next(p for p in CATALOG if p["stock"] == 0)
    urls = ["/", "/c/shoes", "/c/jackets/down?page=1&sort=new", "/c/new", IN_STOCK[0]["url"],
            out_of_stock["url"], "/cart", "/login", "/account", "/nowhere"]
    urls.append((await client.post("/cart/checkout")).headers["location"])
    for url in urls:
        parser = html5lib.HTMLParser(strict=False)
        parser.parse((await client.get(url)).text)
        assert parser.errors == [], url
