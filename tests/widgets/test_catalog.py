from datetime import date

import pytest

from edge.errors import WidgetError
from tests.widgets.factories import make_catalog, product_dicts
from widgets.catalog import Catalog, category_chain, parent_category


def test_lookup_by_sku_and_membership() -> None:
    catalog = make_catalog(30)
    product = catalog.get("P0003")
    assert product is not None and product.sku == "P0003"
    assert "P0003" in catalog and "nope" not in catalog
    assert catalog.get("nope") is None and catalog.get(None) is None
    assert len(catalog) == 30


def test_category_includes_descendants_and_parent_is_known() -> None:
    catalog = make_catalog(60)
    running = catalog.in_category("shoes/running")
    shoes = catalog.in_category("shoes")
    assert running and all(p.category == "shoes/running" for p in running)
    assert set(running) < set(shoes)
    assert {p.category for p in shoes} == {"shoes/running", "shoes/casual"}
    assert catalog.in_category("/shoes/running/") == running
    assert catalog.in_category("nothing") == ()
    assert parent_category("shoes/running") == "shoes" and parent_category("shoes") is None
    assert category_chain("a/b/c") == ("a/b/c", "a/b", "a")
    assert running[0].categories == ("shoes/running", "shoes")


def test_new_arrivals_are_newest_first() -> None:
    arrivals = make_catalog(50).new_arrivals()
    dates = [p.created_at for p in arrivals]
    assert dates == sorted(dates, reverse=True)
    assert len(arrivals) == 50


def test_products_are_immutable_and_typed() -> None:
    product = make_catalog(5).get("P0001")
    assert product is not None
    assert isinstance(product.created_at, date) and isinstance(product.price, float)
    with pytest.raises(AttributeError):
        product.price = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        product.attributes["color"] = "x"  # type: ignore[index]


def test_invalid_products_are_left_out_or_raise_when_strict() -> None:
    items = product_dicts(3) + [{"sku": "bad", "name": "x", "price": "free"}, {"name": "no sku"}]
    catalog = Catalog.from_dicts(items, version="v1")
    assert len(catalog) == 3 and catalog.rejected == 2 and catalog.version == "v1"
    with pytest.raises(WidgetError, match="bad"):
        Catalog.from_dicts(items, strict=True)


def test_duplicate_skus_keep_the_first() -> None:
    items = product_dicts(2)
    dup = {**items[0], "name": "Second copy"}
    catalog = Catalog.from_dicts([*items, dup])
    assert len(catalog) == 2 and catalog.get("P0000").name != "Second copy"  # type: ignore[union-attr]
