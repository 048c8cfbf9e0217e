"""The demo shop's catalog indexes, built once at start-up so that pages need no look-ups.

Pure: no I/O, no request objects. ``ShopData`` answers what the pages ask (a category's products
sorted and paged, similar products, the category tree) from dicts prepared in ``__init__``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from edge.demo.catalog import SUBCATEGORIES, TOP_LABELS, bestseller_skus, category_label

PAGE_SIZE = 24
SORTS: dict[str, str] = {
    "popular": "Polecane",
    "price_asc": "Cena: od najniższej",
    "price_desc": "Cena: od najwyższej",
    "new": "Najnowsze",
}

ATTRIBUTE_LABELS: dict[str, str] = {
    "brand": "Marka", "color": "Kolor", "size": "Rozmiar", "waterproof": "Wodoodporne",
    "weight_g": "Waga (g)", "gender": "Krój", "fill_power": "Puch (cuin)",
    "waterproof_mm": "Wodoodporność (mm)", "persons": "Liczba osób", "seasons": "Sezony",
    "capacity_l": "Pojemność (l)", "temp_comfort_c": "Temperatura komfortu (°C)",
    "fill": "Wypełnienie", "r_value": "Izolacja (R)", "thickness_cm": "Grubość (cm)",
    "length_m": "Długość (m)", "diameter_mm": "Średnica (mm)", "lumens": "Moc (lm)",
    "material": "Materiał", "length_cm": "Długość (cm)",
}

# Collections: pages listed like categories but not catalog categories (hero links use them).
COLLECTIONS: dict[str, str] = {"new": "Nowości", "premium": "Kolekcja premium"}
PREMIUM_FROM = 999.0

CSV_FIELDS = ("sku", "name", "category", "brand", "color", "price", "currency", "stock",
              "created_at", "url", "description")


def format_pln(value: float) -> str:
    """Polish price format: "1 299,99 zł" (non-breaking spaces)."""
    whole = f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")
    return f"{whole}\u00a0zł"


def price_attr(value: float) -> str:
    """Machine-readable price for data attributes and meta tags: "1299.99"."""
    return f"{value:.2f}"


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element (no "</script>", no comment openers)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True)
class CategoryNode:
    path: str
    label: str
    count: int
    image: str
    children: tuple[CategoryNode, ...] = ()


class ShopData:
    """Read-only views over one catalog."""

    def __init__(self, catalog: list[dict[str, Any]]):
        self.products = catalog
        self.by_sku: dict[str, dict[str, Any]] = {p["sku"]: p for p in catalog}
        self.skus = frozenset(self.by_sku)
        # Every category path and each of its ancestors → products, in catalog order.
        self.in_category: dict[str, list[dict[str, Any]]] = {}
        for p in catalog:
            parts = p["category"].split("/")
            for depth in range(1, len(parts) + 1):
                self.in_category.setdefault("/".join(parts[:depth]), []).append(p)
        self.tree = self._build_tree()
        self.in_category["new"] = sorted(catalog, key=lambda p: (p["created_at"], p["sku"]),
                                         reverse=True)[:PAGE_SIZE * 2]
        self.in_category["premium"] = sorted((p for p in catalog if p["price"] >= PREMIUM_FROM),
                                             key=lambda p: (-p["price"], p["sku"]))
        self.bestsellers = [self.by_sku[s] for s in bestseller_skus(catalog, 8)
                            if s in self.by_sku][:4]
        self.new_arrivals = sorted((p for p in catalog if p["stock"] > 0),
                                   key=lambda p: (p["created_at"], p["sku"]), reverse=True)[:4]
        self._sorted: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def _build_tree(self) -> tuple[CategoryNode, ...]:
        order = list(TOP_LABELS) + sorted({p.split("/")[0] for p in self.in_category}
                                          - set(TOP_LABELS))
        subs_known = {s.path for s in SUBCATEGORIES}
        nodes = []
        for top in order:
            if top not in self.in_category:
                continue
            children = tuple(
                CategoryNode(path, category_label(path).split(" › ")[-1]
                             if path in subs_known else path.split("/")[-1],
                             len(self.in_category[path]), self.in_category[path][0]["image"])
                for path in sorted(self.in_category, key=self._category_order)
                if path.startswith(top + "/") and path.count("/") == 1)
            first = self.in_category[top][0]
            nodes.append(CategoryNode(top, TOP_LABELS.get(top, top), len(self.in_category[top]),
                                      first["image"], children))
        return tuple(nodes)

    @staticmethod
    def _category_order(path: str) -> tuple[int, str]:
        for i, s in enumerate(SUBCATEGORIES):
            if s.path == path:
                return (i, path)
        return (len(SUBCATEGORIES), path)

    def top_node(self, path: str) -> CategoryNode | None:
        top = path.split("/")[0]
        return next((n for n in self.tree if n.path == top), None)

    def label(self, path: str) -> str:
        if path in COLLECTIONS:
            return COLLECTIONS[path]
        top = self.top_node(path)
        if top is None:
            return path
        if "/" not in path:
            return top.label
        sub = next((c for c in top.children if c.path == path), None)
        return f"{top.label} › {sub.label if sub else path.split('/')[-1]}"

    def crumbs(self, path: str) -> list[tuple[str, str]]:
        if path in COLLECTIONS:
            return [(f"/c/{path}", COLLECTIONS[path])]
        top = self.top_node(path)
        if top is None:
            return []
        crumbs = [(f"/c/{top.path}", top.label)]
        if "/" in path:
            crumbs.append((f"/c/{path}", self.label(path).split(" › ")[-1]))
        return crumbs

    def sorted_in(self, path: str, sort: str) -> list[dict[str, Any]]:
        """Products of a category in the given order; computed once per (path, sort)."""
        key = (path, sort)
        if key not in self._sorted:
            items = list(self.in_category.get(path, []))
            if sort == "price_asc":
                items.sort(key=lambda p: (p["price"], p["sku"]))
            elif sort == "price_desc":
                items.sort(key=lambda p: (-p["price"], p["sku"]))
            elif sort == "new":
                items.sort(key=lambda p: (p["created_at"], p["sku"]), reverse=True)
            else:  # "popular": in stock first, then catalog order
                items.sort(key=lambda p: p["stock"] == 0)
            self._sorted[key] = items
        return self._sorted[key]

    def similar(self, product: dict[str, Any], n: int = 4) -> list[dict[str, Any]]:
        """Other in-stock products of the same sub-category, nearest in price."""
        pool = [p for p in self.in_category.get(product["category"], [])
                if p["sku"] != product["sku"] and p["stock"] > 0]
        pool.sort(key=lambda p: (abs(p["price"] - product["price"]), p["sku"]))
        return pool[:n]

    def top_in(self, path: str, n: int = 4) -> list[dict[str, Any]]:
        """A static 'most chosen' list for a category: the first in-stock products."""
        return [p for p in self.sorted_in(path, "popular") if p["stock"] > 0][:n]

    def attribute_rows(self, product: dict[str, Any]) -> list[tuple[str, str]]:
        rows = []
        for key, value in product.get("attributes", {}).items():
            if isinstance(value, bool):
                value = "tak" if value else "nie"
            elif isinstance(value, float):
                value = f"{value:g}".replace(".", ",")
            rows.append((ATTRIBUTE_LABELS.get(key, key), str(value)))
        return rows

    def json_ld(self, product: dict[str, Any]) -> str:
        """schema.org Product for the product page, safe to put inside <script>."""
        return script_json({
            "@context": "https://schema.org",
            "@type": "Product",
            "sku": product["sku"],
            "name": product["name"],
            "image": product["image"],
            "description": product.get("description", ""),
            "category": product["category"],
            "brand": {"@type": "Brand", "name": product.get("attributes", {}).get("brand", "")},
            "offers": {
                "@type": "Offer",
                "price": product["price"],
                "priceCurrency": product.get("currency", "PLN"),
                "availability": "https://schema.org/" + ("InStock" if product["stock"] > 0
                                                         else "OutOfStock"),
                "url": product["url"],
            },
        })

    def catalog_csv_chunks(self, rows_per_chunk: int = 64) -> list[bytes]:
        """The catalog as CSV (UTF-8 with BOM, for spreadsheets), pre-cut into chunks."""
        chunks: list[bytes] = []
        buf = io.StringIO()
        writer = csv.writer(buf)
        buf.write("\ufeff")
        writer.writerow(CSV_FIELDS)
        for i, p in enumerate(self.products, 1):
            attrs = p.get("attributes", {})
            writer.writerow([p["sku"], p["name"], p["category"], attrs.get("brand", ""),
                             attrs.get("color", ""), price_attr(p["price"]), p["currency"],
                             p["stock"], p["created_at"], p["url"], p.get("description", "")])
            if i % rows_per_chunk == 0:
                chunks.append(buf.getvalue().encode("utf-8"))
                buf.seek(0)
                buf.truncate()
        if buf.getvalue():
            chunks.append(buf.getvalue().encode("utf-8"))
        return chunks
