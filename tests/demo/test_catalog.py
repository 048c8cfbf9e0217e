from __future__ import annotations

from datetime import date

from edge.demo.catalog import SUBCATEGORIES, bestseller_skus, category_label, products
from edge.demo.contacts import TIERS, contacts, loyalty

KEYS = {"sku", "name", "url", "image", "price", "currency", "category", "attributes", "stock",
        "created_at", "description"}

# The attribute each kind of product must carry so that preferences can be aggregated.
PER_CATEGORY = {
    "shoes": "size", "jackets": "size", "tents": "persons", "backpacks": "capacity_l",
    "sleeping/bags": "temp_comfort_c", "sleeping/mats": "r_value", "climbing/ropes": "length_m",
    "accessories/headlamps": "lumens", "accessories/bottles": "capacity_l",
}


def test_catalog_is_deterministic_and_fresh() -> None:
    first, second = products(), products()
    assert first == second
    first[0]["name"] = "changed"
    assert products()[0]["name"] != "changed"


def test_catalog_matches_the_schema() -> None:
    catalog = products()
    assert len(catalog) >= 300
    assert len({p["sku"] for p in catalog}) == len(catalog)
    for p in catalog:
        assert set(p) == KEYS, p["sku"]
        assert p["url"] == f"/p/{p['sku']}"
        assert p["image"] == f"/static/img/p/{p['sku']}.svg"
        assert isinstance(p["price"], float) and p["price"] > 0
        assert p["currency"] == "PLN"
        top, sub = p["category"].split("/")
        assert top and sub
        assert isinstance(p["stock"], int) and p["stock"] >= 0
        assert date(2024, 1, 1) <= date.fromisoformat(p["created_at"]) <= date(2026, 12, 31)
        assert p["name"] in p["description"]
        assert {"brand", "color"} <= set(p["attributes"])


def test_categories_have_meaningful_attributes() -> None:
    for p in products():
        for prefix, attribute in PER_CATEGORY.items():
            if p["category"] == prefix or p["category"].startswith(prefix + "/"):
                assert attribute in p["attributes"], (p["sku"], attribute)
        if p["category"].startswith("tents/"):
            assert 1 <= p["attributes"]["persons"] <= 8


def test_catalog_spreads_over_categories_with_some_out_of_stock() -> None:
    catalog = products()
    paths = {p["category"] for p in catalog}
    assert paths == {s.path for s in SUBCATEGORIES}
    assert len({path.split("/")[0] for path in paths}) >= 6
    out = [p for p in catalog if p["stock"] == 0]
    assert 0 < len(out) < len(catalog) // 4
    assert category_label("shoes/running") == "Buty › Biegowe"


def test_bestsellers_are_in_stock_and_varied() -> None:
    catalog = products()
    by_sku = {p["sku"]: p for p in catalog}
    picks = bestseller_skus(catalog, 8)
    assert len(picks) == len(set(picks)) == 8
    assert all(by_sku[s]["stock"] > 0 for s in picks)
    assert len({by_sku[s]["category"].split("/")[0] for s in picks}) >= 6


def test_contacts_match_the_schema() -> None:
    people = contacts()
    assert 4 <= len(people) <= 6
    assert people == contacts()
    assert len({c["contact_id"] for c in people}) == len(people)
    assert len({c["email"] for c in people}) == len(people)
    for c in people:
        attrs = c["attributes"]
        assert {"first_name", "last_name", "city", "language"} <= set(attrs)
        assert attrs["language"] in ("pl", "en", "de")
        assert c["consents"]["personalization"] is True
        assert isinstance(c["consents"]["newsletter"], bool)
        assert isinstance(c["facts"], dict)
        if c["advisor"] is not None:
            assert set(c["advisor"]) == {"name", "role", "phone", "email", "photo_url"}
            assert c["advisor"]["photo_url"].startswith("/static/img/advisors/")
    assert sum(1 for c in people if c["advisor"]) > len(people) // 2
    assert {c["attributes"]["first_name"] for c in people} >= {"Krzysztof", "Anna"}


def test_purchases_use_catalog_prices_and_add_up() -> None:
    prices = {p["sku"]: p["price"] for p in products()}
    buyers = [c for c in contacts() if c["purchases"]]
    assert len(buyers) >= 2
    for c in buyers:
        for order in c["purchases"]:
            assert order["currency"] == "PLN"
            assert order["ts"].endswith("Z")
            for item in order["items"]:
                assert item["price"] == prices[item["sku"]]
                assert item["qty"] >= 1
            total = sum(i["qty"] * i["price"] for i in order["items"])
            assert abs(order["value"] - total) < 0.005


def test_loyalty_tiers() -> None:
    assert loyalty(0) == {"points": 0, "tier": TIERS[0][0], "next_tier": TIERS[1][0],
                          "points_to_next": TIERS[1][1]}
    assert loyalty(TIERS[1][1])["tier"] == TIERS[1][0]
    top = loyalty(TIERS[-1][1] + 5)
    assert top["tier"] == TIERS[-1][0] and top["next_tier"] == "" and top["points_to_next"] == 0
    for c in contacts():
        assert c["loyalty"] == loyalty(c["loyalty"]["points"])


def test_attribute_values_are_text_or_numbers() -> None:
    for p in products():
        for value in p["attributes"].values():
            assert type(value) in (str, int, float), (p["sku"], value)
