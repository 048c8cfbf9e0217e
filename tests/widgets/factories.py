"""Test data for widgets: a seeded catalog, co-occurrence signals and three kinds of visitor."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from widgets.catalog import Catalog
from widgets.context import RenderContext, Signals, build_context

CATEGORIES: dict[str, dict[str, list[Any]]] = {
    "shoes/running": {"color": ["blue", "black", "red"], "size": ["40", "42", "44"]},
    "shoes/casual": {"color": ["blue", "white", "brown"], "size": ["40", "42", "44"]},
    "clothes/jeans": {"color": ["blue", "black"], "fit": ["bootcut", "slim", "regular"]},
    "clothes/shirts": {"color": ["white", "blue", "green"], "fit": ["slim", "regular"]},
    "home/lamps": {"color": ["black", "white", "brass"]},
    "property/apartments": {"rooms": [1, 2, 3, 4], "district": ["Mokotów", "Wola", "Żoliborz"]},
}


def product_dicts(n: int = 300, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` products spread over CATEGORIES, deterministic for a seed."""
    rng = random.Random(seed)
    cats = list(CATEGORIES)
    out = []
    for i in range(n):
        cat = cats[i % len(cats)]
        attrs = {k: rng.choice(v) for k, v in CATEGORIES[cat].items()}
        base = 900_000.0 if cat.startswith("property") else 150.0
        out.append({
            "sku": f"P{i:04d}",
            "name": f"{cat.split('/')[-1].title()} {i}",
            "url": f"/p/{i}",
            "image": f"https://cdn.example.com/img/{i}.jpg",
            "price": round(base * rng.uniform(0.3, 3.0), 2),
            "currency": "PLN",
            "category": cat,
            "attributes": attrs,
            "stock": 0 if i % 11 == 5 else rng.randint(1, 50),
            "created_at": (date(2025, 1, 1) + timedelta(days=(i * 37) % 365)).isoformat(),
            "description": f"Product number {i}",
        })
    return out


def make_catalog(n: int = 300, seed: int = 7) -> Catalog:
    return Catalog.from_dicts(product_dicts(n, seed), version=f"test-{n}-{seed}")


def make_signals(catalog: Catalog, seed: int = 11) -> Signals:
    """Co-occurrence within categories (viewed) and across them (bought), plus bestsellers."""
    rng = random.Random(seed)
    skus = [p.sku for p in catalog]
    viewed: dict[str, list[tuple[str, float]]] = {}
    bought: dict[str, list[tuple[str, float]]] = {}
    for product in catalog:
        same = [p.sku for p in catalog.in_category(product.category) if p.sku != product.sku]
        viewed[product.sku] = [(s, float(rng.randint(1, 100))) for s in rng.sample(same, 8)]
        bought[product.sku] = [(s, float(rng.randint(1, 50))) for s in rng.sample(skus, 5)
                               if s != product.sku]
    best = [(s, float(rng.randint(1, 1000))) for s in rng.sample(skus, 40)]
    return Signals.from_raw(viewed, bought, best)


def anonymous_first_visit() -> dict[str, Any]:
    return {"known": False}


def returning_visitor(catalog: Catalog) -> dict[str, Any]:
    skus = [p.sku for p in catalog]
    return {
        "known": False,
        "viewed": [skus[7], skus[13], skus[1]],
        "cart": [{"sku": skus[19], "qty": 1, "price": catalog.get(skus[19]).price},  # type: ignore[union-attr]
                 {"sku": skus[25], "qty": 2, "price": catalog.get(skus[25]).price}],  # type: ignore[union-attr]
        "attribute_affinities": {"color": {"blue": 7, "black": 2}},
        "category_affinities": {"shoes": 5, "clothes": 1},
    }


def known_contact(catalog: Catalog) -> dict[str, Any]:
    skus = [p.sku for p in catalog]
    return {
        **returning_visitor(catalog),
        "known": True,
        "first_name": "Krzysztof",
        "attributes": {"city": "Kraków"},
        "advisor": {"name": "Anna Nowak", "role": "Doradca klienta", "phone": "+48 601 234 567",
                    "email": "anna.nowak@example.com",
                    "photo": "https://cdn.example.com/advisors/anna.jpg"},
        "loyalty": {"points": 1250, "tier": "Gold", "next_tier": "Platinum",
                    "points_to_next": 750},
        "purchased": [skus[31], skus[37]],
        "liked": [skus[43]],
        "preferences": {"color": "blue", "max_price": 200, "category": "shoes"},
    }


VISITORS = ("anonymous", "returning", "known")


def visitor(kind: str, catalog: Catalog) -> dict[str, Any]:
    if kind == "anonymous":
        return anonymous_first_visit()
    if kind == "returning":
        return returning_visitor(catalog)
    return known_contact(catalog)


def context(kind: str = "anonymous", *, catalog: Catalog | None = None,
            signals: Signals | None = None, language: str = "pl",
            page: dict[str, Any] | None = None, **visitor_overrides: Any) -> RenderContext:
    catalog = catalog if catalog is not None else make_catalog()
    return build_context(
        language=language, currency="PLN",
        page=page or {"page_type": "home", "url": "https://shop.example.com/"},
        visitor={**visitor(kind, catalog), **visitor_overrides},
        placement={"id": "hero", "variant": "B", "experiment": "exp-1"},
        catalog=catalog, signals=signals if signals is not None else make_signals(catalog))
