from __future__ import annotations

import json
from collections.abc import AsyncIterator

import html5lib
import httpx
import pytest

from edge.demo.catalog import products
from edge.demo.data import PAGE_SIZE
from edge.demo.shop import create_shop
from edge.errors import SettingsError
from tests.demo.helpers import NS, metas, parse, raw_slot, shop_client, slots, text_of

CATALOG = products()
BY_SKU = {p["sku"]: p for p in CATALOG}
SECRET = "test-shop-secret"

# page → (url, page type, slots it must carry)
PAGES = {
    "home": ("/", "home", {"hero": "section", "advisor": "aside", "recommendations": "div"}),
    "top category": ("/c/shoes", "category", {"recommendations": "div"}),
    "sub category": ("/c/tents/camping", "category", {"recommendations": "div"}),
    "product": ("/p/SHR-105", "product", {"advisor": "aside", "recommendations": "div"}),
    "cart": ("/cart", "cart", {"advisor": "aside", "recommendations": "div"}),
    "collection": ("/c/new", "category", {"recommendations": "div"}),
    "login": ("/login", "login", {}),
}


@pytest.fixture(scope="module")
def app() -> object:
    return create_shop(CATALOG, shop_secret=SECRET)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with shop_client(app) as c:  # type: ignore[arg-type]
        yield c


@pytest.mark.parametrize("name", PAGES)
async def test_page_renders_with_facts_and_slots(client: httpx.AsyncClient, name: str) -> None:
    url, page_type, expected = PAGES[name]
    r = await client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"pl\">")
    assert html.endswith("</body></html>")
    doc = parse(html)
    assert metas(doc)["edge:page-type"] == page_type
    title = doc.find(f"{NS}head/{NS}title")
    assert title is not None and len(text_of(title)) > 5
    found = slots(doc)
    assert {k: v.tag.removeprefix(NS) for k, v in found.items()} == expected


@pytest.mark.parametrize("name", [n for n in PAGES if PAGES[n][2]])
async def test_slot_markup_is_well_formed(client: httpx.AsyncClient, name: str) -> None:
    """Each slot's raw bytes, cut out by tag counting, are the same element a spec parser
    sees in the page: no implied end tags, nothing spilling out of a slot."""
    html = (await client.get(PAGES[name][0])).text
    in_page = slots(parse(html))
    for slot, element in in_page.items():
        tag, raw = raw_slot(html, slot)
        assert raw.startswith(f'<{tag} data-edge-slot="{slot}">')
        fragment = html5lib.parseFragment(raw, treebuilder="etree")
        children = [c for c in fragment if isinstance(c.tag, str)]
        assert len(children) == 1 and (fragment.text or "").strip() == ""
        assert text_of(children[0]) == text_of(element)
        assert len(text_of(element)) > 10  # real default content, not an empty box
        # No slot inside a slot.
        assert raw.count("data-edge-slot=") == 1


async def test_category_and_product_facts(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get("/c/tents/camping")).text)
    assert metas(doc)["edge:category"] == "tents/camping"
    p = BY_SKU["TNC-104"]
    html = (await client.get("/p/TNC-104")).text
    facts = metas(parse(html))
    assert facts["edge:product"] == "TNC-104"
    assert facts["edge:category"] == p["category"]
    main = parse(html).find(f".//{NS}main")
    assert main.get("data-edge-product") == "TNC-104"
    assert main.get("data-edge-category") == p["category"]
    assert float(main.get("data-edge-price")) == p["price"]


async def test_product_page_json_ld_and_buttons(client: httpx.AsyncClient) -> None:
    p = next(p for p in CATALOG if p["stock"] > 0)
    doc = parse((await client.get(p["url"])).text)
    scripts = [s for s in doc.iter(f"{NS}script") if s.get("type") == "application/ld+json"]
    assert len(scripts) == 1
    ld = json.loads(scripts[0].text)
    assert ld["@type"] == "Product" and ld["@context"] == "https://schema.org"
    assert (ld["sku"], ld["name"], ld["image"], ld["category"]) == (
        p["sku"], p["name"], p["image"], p["category"])
    assert ld["offers"]["price"] == p["price"]
    assert ld["offers"]["priceCurrency"] == "PLN"
    assert ld["offers"]["availability"].endswith("InStock")
    add = [b for b in doc.iter(f"{NS}button") if b.get("data-edge-add-to-cart") == p["sku"]]
    assert add and add[0].get("disabled") is None
    assert [b for b in doc.iter(f"{NS}button") if b.get("data-edge-like") == p["sku"]]
    forms = [f for f in doc.iter(f"{NS}form") if f.get("action") == "/cart/add"]
    assert forms and forms[0].get("method") == "post"
    imgs = [i.get("src") for i in doc.iter(f"{NS}img")]
    assert p["image"] in imgs


async def test_out_of_stock_product_cannot_be_added(client: httpx.AsyncClient) -> None:
    p = next(p for p in CATALOG if p["stock"] == 0)
    doc = parse((await client.get(p["url"])).text)
    ld = json.loads(next(s for s in doc.iter(f"{NS}script")
                         if s.get("type") == "application/ld+json").text)
    assert ld["offers"]["availability"].endswith("OutOfStock")
    add = [b for b in doc.iter(f"{NS}button") if b.get("data-edge-add-to-cart") == p["sku"]]
    assert add[0].get("disabled") is not None


async def test_category_pages_paginate_at_24(client: httpx.AsyncClient) -> None:
    shoes = [p for p in CATALOG if p["category"].startswith("shoes/")]
    pages = -(-len(shoes) // PAGE_SIZE)
    assert pages >= 2
    seen: list[str] = []
    for n in range(1, pages + 1):
        doc = parse((await client.get(f"/c/shoes?page={n}")).text)
        results = doc.find(f".//{NS}section[@class='results']")
        cards = [a.get("href") for a in results.iter(f"{NS}a") if a.get("class") == "card-link"]
        assert len(cards) == (PAGE_SIZE if n < pages else len(shoes) - PAGE_SIZE * (pages - 1))
        seen += cards
    assert sorted(seen) == sorted(p["url"] for p in shoes)
    assert (await client.get(f"/c/shoes?page={pages + 1}")).status_code == 404
    assert (await client.get("/c/shoes?page=0")).status_code == 404
    assert (await client.get("/c/shoes?page=x")).status_code == 404


async def test_category_sort_by_price(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get("/c/backpacks/daypacks?sort=price_asc")).text)
    results = doc.find(f".//{NS}section[@class='results']")
    skus = [a.get("href").removeprefix("/p/") for a in results.iter(f"{NS}a")
            if a.get("class") == "card-link"]
    prices = [BY_SKU[s]["price"] for s in skus]
    assert prices == sorted(prices) and len(prices) > 1


async def test_unknown_pages_are_404_html(client: httpx.AsyncClient) -> None:
    for url in ("/nowhere", "/p/NOPE-1", "/c/spaceships", "/order/SZ-0000-FFFF"):
        r = await client.get(url)
        assert r.status_code == 404, url
        assert r.headers["content-type"].startswith("text/html")
        assert metas(parse(r.text))["edge:page-type"] == "notfound"
        assert r.text.endswith("</body></html>")


async def test_public_pages_are_cacheable_with_etags(client: httpx.AsyncClient) -> None:
    r = await client.get("/p/SHR-101")
    assert r.headers["cache-control"].startswith("public")
    again = await client.get("/p/SHR-101", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert (await client.get("/cart")).headers["cache-control"] == "private, no-store"


async def test_head_requests(client: httpx.AsyncClient) -> None:
    r = await client.head("/")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"].startswith("text/html")


async def test_text_from_the_catalog_is_escaped() -> None:
    evil = dict(CATALOG[0], sku="EVIL-1", url="/p/EVIL-1", image="/static/img/p/EVIL-1.svg",
                name='Boot </script><script>alert(1)</script> "x"', stock=5)
    evil["description"] = evil["name"] + " <b>bold</b>"
    async with shop_client(create_shop([evil], shop_secret=SECRET)) as c:
        html = (await c.get("/p/EVIL-1")).text
        assert "<script>alert(1)" not in html
        doc = parse(html)
        ld = json.loads(next(s for s in doc.iter(f"{NS}script")
                             if s.get("type") == "application/ld+json").text)
        assert ld["name"] == evil["name"]
        assert text_of(doc.find(f".//{NS}h1")) == " ".join(evil["name"].split())
        svg = (await c.get(evil["image"])).text
        assert "<script>" not in svg


async def test_gzip_option_compresses() -> None:
    async with shop_client(create_shop(CATALOG, shop_secret=SECRET, gzip=True)) as c:
        r = await c.get("/", headers={"accept-encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.text.endswith("</body></html>")


async def test_collections_list_new_and_premium_products(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get("/c/premium?sort=price_asc")).text)
    assert metas(doc)["edge:category"] == "premium"
    results = doc.find(f".//{NS}section[@class='results']")
    skus = [a.get("href").removeprefix("/p/") for a in results.iter(f"{NS}a")
            if a.get("class") == "card-link"]
    assert skus and all(BY_SKU[s]["price"] >= 999 for s in skus)
    newest = max(CATALOG, key=lambda p: (p["created_at"], p["sku"]))
    assert newest["url"] in (await client.get("/c/new")).text


async def test_hero_artwork_is_served(client: httpx.AsyncClient) -> None:
    for url in ("/static/img/hero/welcome.svg", "/static/img/hero/running.svg",
                "/static/hero-premium.jpg"):
        r = await client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml", url
        assert r.text.startswith("<svg")


def test_shop_needs_a_secret() -> None:
    with pytest.raises(SettingsError, match="shop_secret"):
        create_shop(CATALOG, shop_secret="")
