from __future__ import annotations

import json
from typing import Any

from edge.store import keys
from edge.store.catalog import catalog_version, get_product, load_catalog
from edge.store.imports import import_catalog, import_contacts
from edge.store.store import Store
from tests.store.factories import add_events, make_settings

GOOD_PRODUCT = {"sku": "SOFA-1", "name": "Sofa", "url": "/p/sofa-1", "image": "/i/sofa.jpg",
                "price": 1999.0, "currency": "pln", "category": "home/living/sofas",
                "attributes": {"color": "blue", "seats": 3}, "stock": 4,
                "created_at": "2026-10-01"}


async def test_catalog_jsonl_with_broken_rows(redis: Any) -> None:
    lines = [
        json.dumps(GOOD_PRODUCT),
        "{not json",
        json.dumps({**GOOD_PRODUCT, "sku": "NO-PRICE", "price": None}),
        "",
        json.dumps({**GOOD_PRODUCT, "sku": "SOFA-2", "price": 10}),
        json.dumps([1, 2]),
        json.dumps({**GOOD_PRODUCT, "sku": "BAD-DATE", "created_at": "yesterday"}),
    ]
    before = await catalog_version(redis)
    report = await import_catalog(redis, lines, "jsonl")
    assert report.imported == 2 and report.failed == 4
    assert [row["line"] for row in report.bad_rows] == [2, 3, 6, 7]
    assert report.bad_rows[1]["error"].startswith("price:")
    assert report.bad_rows[3]["error"].startswith("created_at:")
    assert [p["sku"] for p in await load_catalog(redis)] == ["SOFA-1", "SOFA-2"]
    product = await get_product(redis, "SOFA-1")
    assert product is not None and product["currency"] == "PLN"
    assert product["attributes"] == {"color": "blue", "seats": 3}
    assert await catalog_version(redis) > before


async def test_catalog_csv(redis: Any) -> None:
    lines = [
        "sku,name,url,price,currency,category,stock,created_at,attr_rooms,attr_city",
        "F1,Flat one,/f1,350000,PLN,flats/gdansk,1,2026-01-02,3,Gdańsk",
        "F2,Flat two,/f2,not-a-price,PLN,flats,1,2026-01-02,2,Gdynia",
        "F3,short row",
        b"F4,Flat four,/f4,420000,PLN,flats,0,2026-01-03,4,Sopot",
    ]
    report = await import_catalog(redis, lines, "csv")
    assert report.imported == 2 and [r["line"] for r in report.bad_rows] == [3, 4]
    product = await get_product(redis, "F1")
    assert product is not None and product["attributes"] == {"rooms": 3, "city": "Gdańsk"}


async def test_contacts_with_broken_rows(redis: Any) -> None:
    store = Store(redis)
    rows = [
        {"contact_id": "c-1", "email": "Ann@Example.com",
         "attributes": {"first_name": "Anna", "language": "pl"},
         "advisor": {"name": "Kate", "role": "sales", "phone": "+48 1", "email": "k@s.test",
                     "photo_url": "/k.jpg"},
         "loyalty": {"points": 1200, "tier": "gold", "next_tier": "platinum",
                     "points_to_next": 800},
         "consents": {"newsletter": True, "sms": {"granted": False, "ts": 5}},
         "facts": {"test_drive_date": "2026-11-30"}},
        {"attributes": {"first_name": "Nobody"}},  # neither id nor email
        {"contact_id": "c-2", "email": "not-an-email"},
        {"email": "bob@example.com", "loyalty": {"points": "many"}},
        {"email": "carl@example.com"},
    ]
    report = await import_contacts(redis, rows, "dicts")
    assert (report.imported, report.failed) == (2, 3)
    assert [r["line"] for r in report.bad_rows] == [2, 3, 4]
    pid = (await redis.get(keys.contact_key("c-1"))).decode()
    assert await redis.get(keys.email_key("ann@example.com")) == pid.encode()
    p = await store.load(pid)
    assert p.known and p.contact_id == "c-1" and p.email == "ann@example.com"
    assert p.attributes == {"first_name": "Anna", "language": "pl"}
    assert p.advisor is not None and p.advisor.photo_url == "/k.jpg"
    assert (p.loyalty.points, p.loyalty.tier, p.loyalty.points_to_next) == (1200, "gold", 800)
    assert p.consents["newsletter"].granted and not p.consents["sms"].granted
    assert p.facts == {"test_drive_date": "2026-11-30"}
    # importing the same contact again updates the same profile
    again = await import_contacts(redis, [json.dumps({"contact_id": "c-1",
                                                      "attributes": {"city": "Sopot"}})], "jsonl")
    assert again.imported == 1
    assert (await store.load(pid)).attributes["city"] == "Sopot"


async def test_contacts_csv(redis: Any) -> None:
    lines = ["contact_id,email,first_name,advisor_name,points,tier,consent_newsletter,"
             "fact_contract",
             "c-9,eve@example.com,Ewa,Kate,50,bronze,yes,2026-05-01",
             ",,,,,,,"]
    report = await import_contacts(redis, lines, "csv")
    assert report.imported == 1 and [r["line"] for r in report.bad_rows] == [3]
    pid = (await redis.get(keys.contact_key("c-9"))).decode()
    p = await Store(redis).load(pid)
    assert p.attributes == {"first_name": "Ewa"} and p.loyalty.points == 50
    assert p.consented("newsletter", default=False) and p.facts["contract"] == "2026-05-01"


async def test_past_purchases_import_once_newest_first(redis: Any) -> None:
    store = Store(redis, make_settings())
    row = {"contact_id": "c-3", "purchases": [
        {"order_id": "A", "items": [{"sku": "S1", "qty": 2, "price": 10}], "value": 20,
         "currency": "pln", "ts": "2026-03-14T10:21:00Z"},
        {"order_id": "B", "items": [], "value": 5, "currency": "PLN", "ts": 1_790_000_000},
    ]}
    assert (await import_contacts(redis, [row], "dicts")).imported == 1
    pid = (await redis.get(keys.contact_key("c-3"))).decode()
    await add_events(store, pid, {"type": "purchase", "order_id": "WEB-1", "value": 1,
                                  "currency": "PLN", "items": [{"sku": "S2"}]})
    assert (await import_contacts(redis, [row], "dicts")).imported == 1  # again: no duplicates
    purchases = (await store.load(pid)).purchases
    assert [p["order_id"] for p in purchases] == ["WEB-1", "B", "A"]
    assert purchases[2]["ts"] == 1_773_483_660_000 and purchases[2]["currency"] == "PLN"
    assert purchases[1]["ts"] == 1_790_000_000_000
    bad = await import_contacts(redis, [{"contact_id": "c-4", "purchases": [{"order_id": "X"}]}],
                                "dicts")
    assert bad.failed == 1 and bad.bad_rows[0]["error"].startswith("purchases.0.ts")
