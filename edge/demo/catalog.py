"""The demo shop's catalog: a few hundred outdoor products, generated from a seeded RNG.

The same call always returns the same products (same SKUs, prices, stock and dates), so tests,
seeded Redis data and benchmarks agree. Each product follows the edge's catalog schema::

    {"sku", "name", "url", "image", "price", "currency", "category", "attributes",
     "stock", "created_at", "description"}

``category`` is a path "top/sub"; ``attributes`` always holds ``brand`` and ``color`` plus what
matters in that category (``size`` for shoes and jackets, ``persons`` for tents, ...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SEED = 20261123
CURRENCY = "PLN"


@dataclass(frozen=True)
class Subcategory:
    path: str
    label: str  # Polish name shown in the shop
    code: str  # SKU prefix
    count: int
    price_range: tuple[int, int]
    nouns: tuple[str, ...]  # English product-name cores
    blurb: str  # Polish description fragment


# Display names of the top-level categories, in the order the shop shows them.
TOP_LABELS: dict[str, str] = {
    "shoes": "Buty",
    "jackets": "Kurtki",
    "tents": "Namioty",
    "backpacks": "Plecaki",
    "sleeping": "Spanie",
    "climbing": "Wspinaczka",
    "accessories": "Akcesoria",
}

SUBCATEGORIES: tuple[Subcategory, ...] = (
    Subcategory("shoes/running", "Biegowe", "SHR", 28, (249, 799),
                ("Trail Runner", "Skyline Racer", "Mud Grip", "Ridge Sprint", "Forest Flow"),
                "lekkie buty do biegania w terenie z agresywnym bieżnikiem"),
    Subcategory("shoes/hiking", "Trekkingowe", "SHH", 28, (349, 1199),
                ("Summit Hiker", "Tatra Trek", "Rock Mid", "Valley Walker", "Alpine Boot"),
                "wygodne buty trekkingowe na długie górskie wędrówki"),
    Subcategory("shoes/approach", "Podejściowe", "SHA", 20, (399, 899),
                ("Approach Pro", "Crag Hopper", "Scree Runner", "Granite Step"),
                "buty podejściowe z przyczepną podeszwą do skalnego terenu"),
    Subcategory("jackets/rain", "Przeciwdeszczowe", "JKR", 26, (299, 1499),
                ("Storm Shell", "Rain Shield", "Monsoon Jacket", "Drizzle Pro", "Cloudburst"),
                "wodoodporna i oddychająca kurtka z membraną"),
    Subcategory("jackets/softshell", "Softshelle", "JKS", 22, (249, 899),
                ("Wind Breaker", "Flex Shell", "Ridge Softshell", "Breeze Hoody"),
                "elastyczny softshell chroniący przed wiatrem"),
    Subcategory("jackets/down", "Puchowe", "JKD", 22, (499, 1899),
                ("Down Parka", "Thermo Puffer", "Frost Hoody", "Glacier Down"),
                "ciepła kurtka puchowa na zimowe wyjścia"),
    Subcategory("tents/trekking", "Trekkingowe", "TNT", 20, (599, 2999),
                ("Ultralight Tent", "Ridge Dome", "Trail Shelter", "Nomad Tunnel"),
                "lekki namiot trekkingowy o szybkim rozbijaniu"),
    Subcategory("tents/camping", "Kempingowe", "TNC", 18, (799, 3999),
                ("Family Dome", "Camp Tunnel", "Lakeside Lodge", "Meadow Base"),
                "przestronny namiot kempingowy dla całej rodziny"),
    Subcategory("backpacks/daypacks", "Jednodniowe", "BPD", 26, (149, 549),
                ("Day Pack", "Hike Pack", "City Trail", "Summit Daypack", "Ridge Pack"),
                "wygodny plecak na jednodniowe wycieczki"),
    Subcategory("backpacks/trekking", "Trekkingowe", "BPT", 24, (399, 1299),
                ("Expedition Pack", "Trek Hauler", "Long Trail", "Mountain Carrier"),
                "plecak trekkingowy z regulowanym systemem nośnym"),
    Subcategory("sleeping/bags", "Śpiwory", "SLB", 24, (249, 1699),
                ("Down Bag", "Synthetic Cocoon", "Alpine Sleeper", "Summer Quilt"),
                "śpiwór o dobrym stosunku ciepła do wagi"),
    Subcategory("sleeping/mats", "Karimaty i maty", "SLM", 20, (79, 699),
                ("Air Mat", "Foam Pad", "Self-Inflating Mat", "Insulated Air Pad"),
                "mata izolująca od zimnego podłoża"),
    Subcategory("climbing/harnesses", "Uprzęże", "CLH", 16, (199, 599),
                ("Sport Harness", "Alpine Harness", "Gym Harness", "Big Wall Harness"),
                "wygodna uprząż wspinaczkowa z regulowanymi taśmami udowymi"),
    Subcategory("climbing/helmets", "Kaski", "CLK", 14, (179, 549),
                ("Rock Helmet", "Shell Helmet", "Foam Lite Helmet"),
                "lekki kask wspinaczkowy z dobrą wentylacją"),
    Subcategory("climbing/ropes", "Liny", "CLR", 14, (399, 1299),
                ("Dynamic Rope", "Dry Rope", "Single Rope", "Half Rope"),
                "dynamiczna lina wspinaczkowa z impregnacją"),
    Subcategory("accessories/headlamps", "Czołówki", "ACH", 18, (79, 499),
                ("Head Torch", "Night Beam", "Trail Lamp", "Bright Peak"),
                "mocna latarka czołowa z kilkoma trybami świecenia"),
    Subcategory("accessories/poles", "Kijki", "ACP", 16, (129, 599),
                ("Trekking Poles", "Carbon Poles", "Trail Sticks", "Folding Poles"),
                "regulowane kijki trekkingowe odciążające kolana"),
    Subcategory("accessories/bottles", "Butelki i termosy", "ACB", 16, (39, 249),
                ("Water Bottle", "Thermo Flask", "Soft Flask", "Hydration Bladder"),
                "szczelna butelka na wodę i ciepłe napoje"),
)

BRANDS = ("Halny", "Kozica", "Tatra Gear", "Orlik", "Nordvik", "Alpenfeld", "Granite Co.",
          "Summit Lab")
COLORS = ("czarny", "granatowy", "czerwony", "zielony", "niebieski", "szary", "pomarańczowy",
          "żółty", "oliwkowy", "fioletowy")
MODEL_SUFFIXES = ("", " II", " 2", " 3", " GTX", " Pro", " Lite", " XT", " Evo", " Plus")
CLOTHING_SIZES = ("XS", "S", "M", "L", "XL", "XXL")


def category_label(path: str) -> str:
    """Human label of a category path, e.g. "shoes/running" → "Buty › Biegowe"."""
    top, _, sub = path.partition("/")
    if not sub:
        return TOP_LABELS.get(top, top)
    for s in SUBCATEGORIES:
        if s.path == path:
            return f"{TOP_LABELS[top]} › {s.label}"
    return path


def _attributes(sub: Subcategory, rng: random.Random) -> dict[str, Any]:
    attrs: dict[str, Any] = {"brand": rng.choice(BRANDS), "color": rng.choice(COLORS)}
    top, _, leaf = sub.path.partition("/")
    if top == "shoes":
        attrs["size"] = rng.randint(36, 47)
        # Text, not bool: catalog attributes are text or numbers, as in a CSV import.
        attrs["waterproof"] = "tak" if rng.random() < 0.4 else "nie"
        attrs["weight_g"] = rng.randrange(240, 720, 10)
    elif top == "jackets":
        attrs["size"] = rng.choice(CLOTHING_SIZES)
        attrs["gender"] = rng.choice(("damska", "męska", "unisex"))
        if leaf == "down":
            attrs["fill_power"] = rng.choice((600, 650, 700, 750, 800, 850))
        else:
            attrs["waterproof_mm"] = rng.choice((5000, 10000, 15000, 20000, 28000))
    elif top == "tents":
        attrs["persons"] = rng.randint(1, 3) if leaf == "trekking" else rng.randint(3, 8)
        attrs["weight_g"] = rng.randrange(900, 3000 if leaf == "trekking" else 12000, 50)
        attrs["seasons"] = rng.choice((3, 3, 4))
    elif top == "backpacks":
        lo, hi = (15, 35) if leaf == "daypacks" else (40, 85)
        attrs["capacity_l"] = rng.randrange(lo, hi + 1, 5)
    elif leaf == "bags":
        attrs["temp_comfort_c"] = rng.randint(-15, 12)
        attrs["fill"] = rng.choice(("puch", "syntetyk"))
    elif leaf == "mats":
        attrs["r_value"] = round(rng.uniform(1.0, 7.0), 1)
        attrs["thickness_cm"] = rng.choice((1.5, 2.5, 5, 7, 10))
    elif top == "climbing":
        if leaf == "ropes":
            attrs["length_m"] = rng.choice((50, 60, 70, 80))
            attrs["diameter_mm"] = rng.choice((8.9, 9.2, 9.5, 9.8, 10.2))
        else:
            attrs["size"] = rng.choice(("S/M", "M/L", "uniwersalny"))
    elif leaf == "headlamps":
        attrs["lumens"] = rng.choice((200, 350, 450, 600, 900, 1200))
    elif leaf == "poles":
        attrs["material"] = rng.choice(("aluminium", "karbon"))
        attrs["length_cm"] = rng.choice(("100-135", "105-140", "110-145"))
    elif leaf == "bottles":
        attrs["capacity_l"] = rng.choice((0.5, 0.75, 1.0, 1.5, 2.0))
    return attrs


def products() -> list[dict[str, Any]]:
    """The full catalog, deterministically generated. Returns fresh dicts on each call."""
    rng = random.Random(SEED)
    first_day = date(2024, 1, 8)
    span_days = (date(2026, 11, 16) - first_day).days
    items: list[dict[str, Any]] = []
    for sub in SUBCATEGORIES:
        for n in range(1, sub.count + 1):
            sku = f"{sub.code}-{100 + n:03d}"
            attrs = _attributes(sub, rng)
            name = f"{attrs['brand']} {rng.choice(sub.nouns)}{rng.choice(MODEL_SUFFIXES)}"
            lo, hi = sub.price_range
            # Prices end in ,99 like real shop prices.
            price = float(rng.randint(lo, hi)) - 0.01
            stock = 0 if rng.random() < 0.1 else rng.randint(1, 60)
            created = first_day + timedelta(days=rng.randint(0, span_days))
            items.append({
                "sku": sku,
                "name": name,
                "url": f"/p/{sku}",
                "image": f"/static/img/p/{sku}.svg",
                "price": price,
                "currency": CURRENCY,
                "category": sub.path,
                "attributes": attrs,
                "stock": stock,
                "created_at": created.isoformat(),
                "description": (f"{name} to {sub.blurb}. Kolor: {attrs['color']}. "
                                f"Nasz zespół testował ten model na szlakach Tatr i Beskidów."),
            })
    return items


def bestseller_skus(catalog: list[dict[str, Any]], n: int = 8) -> list[str]:
    """A fixed, plausible 'bestsellers' list: in-stock products taken round-robin over the
    top-level categories (a shop's static list, not computed from sales)."""
    by_top: dict[str, list[str]] = {}
    for p in catalog:
        if p["stock"] > 0:
            by_top.setdefault(p["category"].split("/")[0], []).append(p["sku"])
    picks: list[str] = []
    rank = 0
    while len(picks) < n and any(rank < len(v) for v in by_top.values()):
        for skus in by_top.values():
            # Every third product of a category, so the list is not just the first ones.
            if rank * 3 < len(skus) and len(picks) < n:
                picks.append(skus[rank * 3])
        rank += 1
        if all(rank * 3 >= len(v) for v in by_top.values()):
            break
    return picks
