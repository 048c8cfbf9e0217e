"""Known contacts of the demo shop: the accounts on its /login page (password "demo").

Each contact has the shape the edge imports into a profile::

    {"contact_id", "email", "attributes": {"first_name", "last_name", "city", "language"},
     "advisor": {"name", "role", "phone", "email", "photo_url"} | None,
     "loyalty": {"points", "tier", "next_tier", "points_to_next"},
     "consents": {"newsletter", "personalization"}, "facts": {...},
     "purchases": [{"order_id", "items": [{"sku", "qty", "price"}], "value", "currency", "ts"}]}

Purchases point at real catalog SKUs with their catalog prices.
"""

from __future__ import annotations

from typing import Any

from edge.demo.catalog import CURRENCY, products

DEMO_PASSWORD = "demo"

# Loyalty tiers by points, lowest first.
TIERS: tuple[tuple[str, int], ...] = (("Brąz", 0), ("Srebro", 1000), ("Złoto", 3000),
                                      ("Platyna", 7000))

ADVISORS: dict[str, dict[str, str]] = {
    "marta": {
        "name": "Marta Zielińska",
        "role": "Doradczyni ds. sprzętu górskiego",
        "phone": "+48 12 345 67 01",
        "email": "marta.zielinska@szczyt.example",
        "photo_url": "/static/img/advisors/marta-zielinska.svg",
    },
    "pawel": {
        "name": "Paweł Kamiński",
        "role": "Doradca ds. biegania i wspinaczki",
        "phone": "+48 12 345 67 02",
        "email": "pawel.kaminski@szczyt.example",
        "photo_url": "/static/img/advisors/pawel-kaminski.svg",
    },
}


def loyalty(points: int) -> dict[str, Any]:
    """Tier, next tier and points still needed, for a points balance. At the top tier
    ``next_tier`` is "" (the edge's importer takes loyalty fields as text, never null)."""
    tier, next_tier, to_next = TIERS[0][0], "", 0
    for i, (name, floor) in enumerate(TIERS):
        if points >= floor:
            tier = name
            if i + 1 < len(TIERS):
                next_tier, to_next = TIERS[i + 1][0], TIERS[i + 1][1] - points
            else:
                next_tier, to_next = "", 0
    return {"points": points, "tier": tier, "next_tier": next_tier, "points_to_next": to_next}


def _order(prices: dict[str, float], order_id: str, ts: str,
           lines: list[tuple[str, int]]) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"sku": sku, "qty": qty, "price": prices[sku]}
                                   for sku, qty in lines]
    value = round(sum(qty * prices[sku] for sku, qty in lines), 2)
    return {"order_id": order_id, "items": items, "value": value, "currency": CURRENCY, "ts": ts}


def contacts() -> list[dict[str, Any]]:
    """The demo shop's known contacts; deterministic, fresh dicts on each call."""
    prices = {p["sku"]: p["price"] for p in products()}
    return [
        {
            "contact_id": "c-1001",
            "email": "krzysztof.nowak@example.com",
            "attributes": {"first_name": "Krzysztof", "last_name": "Nowak", "city": "Kraków",
                           "language": "pl"},
            "advisor": dict(ADVISORS["pawel"]),
            "loyalty": loyalty(3420),
            "consents": {"newsletter": True, "personalization": True},
            "facts": {"shoe_size": 44, "favourite_activity": "trail running",
                      "next_race": "2027-05-16"},
            "purchases": [
                _order(prices, "SZ-2026-00412", "2026-03-14T10:21:00Z",
                       [("SHR-105", 1), ("ACB-103", 2)]),
                _order(prices, "SZ-2026-01877", "2026-10-30T18:02:00Z",
                       [("JKR-110", 1), ("ACH-104", 1)]),
            ],
        },
        {
            "contact_id": "c-1002",
            "email": "anna.kowalska@example.com",
            "attributes": {"first_name": "Anna", "last_name": "Kowalska", "city": "Warszawa",
                           "language": "pl"},
            "advisor": dict(ADVISORS["marta"]),
            "loyalty": loyalty(1250),
            "consents": {"newsletter": False, "personalization": True},
            "facts": {"shoe_size": 38, "favourite_activity": "trekking",
                      "tent_persons": 2},
            "purchases": [
                _order(prices, "SZ-2026-01203", "2026-08-02T09:45:00Z",
                       [("TNT-103", 1), ("SLM-102", 2)]),
            ],
        },
        {
            "contact_id": "c-1003",
            "email": "tomasz.wisniewski@example.com",
            "attributes": {"first_name": "Tomasz", "last_name": "Wiśniewski", "city": "Gdańsk",
                           "language": "en"},
            "advisor": dict(ADVISORS["marta"]),
            "loyalty": loyalty(120),
            "consents": {"newsletter": True, "personalization": True},
            "facts": {"favourite_activity": "climbing", "test_session_date": "2026-12-05"},
            "purchases": [],
        },
        {
            "contact_id": "c-1004",
            "email": "katarzyna.wojcik@example.com",
            "attributes": {"first_name": "Katarzyna", "last_name": "Wójcik", "city": "Wrocław",
                           "language": "pl"},
            "advisor": dict(ADVISORS["pawel"]),
            "loyalty": loyalty(7600),
            "consents": {"newsletter": False, "personalization": True},
            "facts": {"shoe_size": 39, "favourite_activity": "ski touring",
                      "preferred_color": "niebieski"},
            "purchases": [
                _order(prices, "SZ-2025-03310", "2025-12-11T15:30:00Z",
                       [("JKD-104", 1), ("SLB-107", 1)]),
                _order(prices, "SZ-2026-00951", "2026-06-21T12:05:00Z",
                       [("BPT-106", 1), ("ACP-102", 1)]),
                _order(prices, "SZ-2026-01990", "2026-11-09T08:14:00Z",
                       [("SHH-111", 1)]),
            ],
        },
        {
            "contact_id": "c-1005",
            "email": "jan.schmidt@example.com",
            "attributes": {"first_name": "Jan", "last_name": "Schmidt", "city": "Opole",
                           "language": "de"},
            "advisor": None,
            "loyalty": loyalty(0),
            "consents": {"newsletter": False, "personalization": True},
            "facts": {},
            "purchases": [],
        },
    ]

