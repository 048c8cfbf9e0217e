"""An immutable, in-memory product index: built once per catalog version, shared by requests.

Input is a list of product dicts::

    {"sku", "name", "url", "image", "price": float, "currency", "category": "a/b",
     "attributes": {...}, "stock": int, "created_at": "YYYY-MM-DD", "description"?}

Invalid products are left out (and counted in ``Catalog.rejected``) rather than failing the
whole catalog; ``strict=True`` raises :class:`~edge.errors.WidgetError` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge.errors import WidgetError

log = logging.getLogger("edge.widgets.catalog")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _ProductIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=200)
    name: str = Field(max_length=1000)
    url: str = ""
    image: str = ""
    price: float = Field(ge=0, allow_inf_nan=False)
    currency: str = Field("", max_length=3)
    category: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    stock: int = 0
    created_at: date = date(1970, 1, 1)
    description: str = ""

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return "/".join(p.strip() for p in value.split("/") if p.strip())


# eq=False: a product is identified by its object (one per sku in a catalog), and hashable.
@dataclass(frozen=True, slots=True, eq=False)
class Product:
    sku: str
    name: str
    url: str
    image: str
    price: float
    currency: str
    category: str
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    stock: int = 0
    created_at: date = date(1970, 1, 1)
    description: str = ""
    # The category and each of its ancestors, deepest first: "a/b/c" → (a/b/c, a/b, a).
    categories: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", category_chain(self.category))

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


def category_chain(category: str) -> tuple[str, ...]:
    parts = [p for p in category.split("/") if p]
    return tuple("/".join(parts[:i]) for i in range(len(parts), 0, -1))


def parent_category(category: str) -> str | None:
    chain = category_chain(category)
    return chain[1] if len(chain) > 1 else None


class Catalog:
    """Lookups by sku, by category (a category includes its descendants) and newest first."""

    __slots__ = ("version", "rejected", "_by_sku", "_by_category", "_new_arrivals", "_order")

    def __init__(self, products: Iterable[Product], *, version: str = "", rejected: int = 0):
        self.version = version
        self.rejected = rejected
        by_sku: dict[str, Product] = {}
        for product in products:
            by_sku.setdefault(product.sku, product)  # first one wins on duplicate skus
        self._by_sku: Mapping[str, Product] = MappingProxyType(by_sku)
        # Catalog order is the tie-breaker everywhere, so results are deterministic.
        self._order = {sku: i for i, sku in enumerate(by_sku)}
        by_category: dict[str, list[Product]] = {}
        for product in by_sku.values():
            for cat in product.categories:
                by_category.setdefault(cat, []).append(product)
        self._by_category = {k: tuple(v) for k, v in by_category.items()}
        self._new_arrivals = tuple(sorted(by_sku.values(),
                                          key=lambda p: (-p.created_at.toordinal(),
                                                         self._order[p.sku])))

    @classmethod
    def from_dicts(cls, items: Iterable[Mapping[str, Any]], *, version: str = "",
                   strict: bool = False) -> Catalog:
        products: list[Product] = []
        rejected = 0
        for i, item in enumerate(items):
            try:
                data = _ProductIn.model_validate(item)
            except ValidationError as exc:
                sku = item.get("sku") if isinstance(item, Mapping) else None
                if strict:
                    raise WidgetError(f"catalog product #{i} ({sku!r}): {exc.errors()[0]['msg']}"
                                      ) from exc
                rejected += 1
                continue
            products.append(Product(
                sku=data.sku, name=data.name, url=data.url, image=data.image,
                price=float(data.price), currency=data.currency.upper(), category=data.category,
                attributes=MappingProxyType(dict(data.attributes)), stock=data.stock,
                created_at=data.created_at, description=data.description))
        if rejected:
            log.warning("catalog %s: %d invalid products left out", version or "-", rejected)
        return cls(products, version=version, rejected=rejected)

    @classmethod
    def empty(cls) -> Catalog:
        return cls(())

    def __len__(self) -> int:
        return len(self._by_sku)

    def __contains__(self, sku: object) -> bool:
        return sku in self._by_sku

    def __iter__(self) -> Iterator[Product]:
        return iter(self._by_sku.values())

    def get(self, sku: str | None) -> Product | None:
        return self._by_sku.get(sku) if sku else None

    def order(self, sku: str) -> int:
        """Position in the catalog as given; used to break ties."""
        return self._order.get(sku, len(self._order))

    def in_category(self, category: str) -> tuple[Product, ...]:
        """Products in ``category`` or any category below it."""
        key = "/".join(p for p in category.split("/") if p)
        return self._by_category.get(key, ())

    def categories(self) -> tuple[str, ...]:
        return tuple(self._by_category)

    def new_arrivals(self) -> tuple[Product, ...]:
        """All products, newest ``created_at`` first."""
        return self._new_arrivals
