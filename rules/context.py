"""The input of a decision: everything the engine may know about one visitor on one page.

The edge fills a :class:`Context` from the visitor's profile and the request; tests and the
widget JavaScript build the same thing from JSON with :meth:`Context.from_dict`. Every field has
a default, so a JSON object only needs what a rule looks at. Schema (JSON keys = field names)::

    {
      "visitor_id": "v-123",                  # stable id (survives anonymous → known merge)
      "now": 1763900000,                      # epoch seconds; makes evaluation deterministic
      "page": {"url": "https://shop/p/1", "path": "/p/1", "page_type": "product",
               "product": "SKU-1", "category": "shoes/running",
               "slots": ["hero", "advisor"]},  # slots on the page; null = any slot
      "session": {"seconds_on_site": 200, "page_views": 6, "visit_number": 3,
                  "referrer": "https://google.com/", "utm": {"source": "newsletter"}},
      "profile": {"first_name": "Anna", "tier": "gold", "advisor": {...}},
      "preferences": {"shoe_size": 39},
      "consents": {"marketing": true},
      "language": "pl", "device": "mobile",   # "mobile" | "tablet" | "desktop"
      "local_time": "2026-11-23T08:15:00+01:00",
      "purchases": [{"value": 350.0, "currency": "PLN", "ts": 1763000000}],
      "cart": {"items": [{"sku": "SKU-1", "qty": 2, "price": 99.0}], "value": 198.0},
      "views": {"categories": {"shoes/running": 4},
                "attributes": {"rooms": {"3": 12, "2": 4}}},
      "placements": {"promo_x": {                # counts per visit/today/ever, last = epoch
          "seen":    {"visit": 1, "day": 1, "lifetime": 4, "last": 1763899000},
          "clicked": {"visit": 0, "day": 0, "lifetime": 1, "last": 1763000000},
          "closed":  {"visit": 0, "day": 0, "lifetime": 0, "last": null}}},
      "newsletter": false,
      "experiments": {"hero_test": "b"}       # assignments the edge stored (optional)
    }
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class PageInfo:
    url: str = ""
    path: str = "/"
    page_type: str = ""
    product: str = ""
    # Category path, "/"-separated: "shoes/running".
    category: str = ""
    # Slot names present on the page; None means "fill any slot".
    slots: list[str] | None = None


@dataclass(slots=True)
class SessionInfo:
    seconds_on_site: float = 0.0
    page_views: int = 0
    visit_number: int = 1
    referrer: str = ""
    # utm_source → "source", etc. ("utm_" prefixes are stripped by from_dict).
    utm: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Purchase:
    value: float
    currency: str = ""
    ts: float = 0.0


@dataclass(slots=True)
class CartItem:
    sku: str
    qty: int = 1
    price: float = 0.0


@dataclass(slots=True)
class Cart:
    items: list[CartItem] = field(default_factory=list)
    value: float = 0.0


@dataclass(slots=True)
class Counter:
    """How often something happened to a placement, per visit, today and ever, and when last."""

    visit: int = 0
    day: int = 0
    lifetime: int = 0
    last: float | None = None


@dataclass(slots=True)
class PlacementHistory:
    seen: Counter = field(default_factory=Counter)
    clicked: Counter = field(default_factory=Counter)
    closed: Counter = field(default_factory=Counter)


@dataclass(slots=True)
class Views:
    categories: dict[str, int] = field(default_factory=dict)
    attributes: Mapping[str, dict[str, int]] = field(default_factory=dict)


class AttributeViews(Mapping[str, dict[str, int]]):
    """View counts per attribute value, from a profile's raw numbers; each attribute is turned
    into ``int`` counts on its first read (a page's rules read one or two attributes of the
    dozens a rich profile holds). Copies (``to_dict``) are plain dicts."""

    __slots__ = ("_raw", "_done")

    def __init__(self, raw: Mapping[str, Mapping[str, Any]]) -> None:
        self._raw = raw
        self._done: dict[str, dict[str, int]] = {}

    def __getitem__(self, name: str) -> dict[str, int]:
        got = self._done.get(name)
        if got is None:
            got = self._done[name] = {k: int(v) for k, v in self._raw[name].items()}
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, dict[str, int]]:
        return {name: dict(self[name]) for name in self._raw}


@dataclass(slots=True)
class Context:
    visitor_id: str = ""
    now: float = 0.0
    page: PageInfo = field(default_factory=PageInfo)
    session: SessionInfo = field(default_factory=SessionInfo)
    profile: dict[str, Any] = field(default_factory=dict)
    preferences: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, bool] = field(default_factory=dict)
    language: str = ""
    device: str = "desktop"
    # ISO 8601 with offset; hour and weekday are taken from it as written (the visitor's clock).
    local_time: str = ""
    purchases: list[Purchase] = field(default_factory=list)
    cart: Cart = field(default_factory=Cart)
    views: Views = field(default_factory=Views)
    placements: dict[str, PlacementHistory] = field(default_factory=dict)
    newsletter: bool = False
    experiments: dict[str, str] = field(default_factory=dict)
    # Derived once from local_time: 0-23 and 0=Monday … 6=Sunday; None when unknown.
    hour: int | None = field(default=None, init=False)
    weekday: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.hour = self.weekday = None
        if self.local_time:
            try:
                t = datetime.fromisoformat(self.local_time)
            except ValueError:
                return
            self.hour, self.weekday = t.hour, t.weekday()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Context:
        """Build a context from its JSON form; unknown keys are ignored. Raises ValueError
        naming the problem when a value has the wrong shape."""
        try:
            return cls._from_dict(data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"invalid context: {type(exc).__name__}: {exc}") from None

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> Context:
        page = dict(data.get("page") or {})
        session = dict(data.get("session") or {})
        utm = {str(k).removeprefix("utm_"): str(v) for k, v in (session.get("utm") or {}).items()}
        cart = data.get("cart") or {}
        views = data.get("views") or {}
        return cls(
            visitor_id=str(data.get("visitor_id", "")),
            now=float(data.get("now", 0.0)),
            page=PageInfo(
                url=str(page.get("url", "")), path=str(page.get("path", "/")),
                page_type=str(page.get("page_type", "")), product=str(page.get("product", "")),
                category=str(page.get("category", "")),
                slots=None if page.get("slots") is None else [str(s) for s in page["slots"]]),
            session=SessionInfo(
                seconds_on_site=float(session.get("seconds_on_site", 0)),
                page_views=int(session.get("page_views", 0)),
                visit_number=int(session.get("visit_number", 1)),
                referrer=str(session.get("referrer", "")), utm=utm),
            profile=dict(data.get("profile") or {}),
            preferences=dict(data.get("preferences") or {}),
            consents={str(k): bool(v) for k, v in (data.get("consents") or {}).items()},
            language=str(data.get("language", "")),
            device=str(data.get("device", "desktop")),
            local_time=str(data.get("local_time", "")),
            purchases=[Purchase(float(p["value"]), str(p.get("currency", "")),
                                float(p.get("ts", 0))) for p in data.get("purchases") or ()],
            cart=Cart([CartItem(str(i["sku"]), int(i.get("qty", 1)), float(i.get("price", 0)))
                       for i in cart.get("items") or ()],
                      float(cart.get("value", 0)) if "value" in cart else sum(
                          float(i.get("price", 0)) * int(i.get("qty", 1))
                          for i in cart.get("items") or ())),
            views=Views({str(k): int(v) for k, v in (views.get("categories") or {}).items()},
                        {str(a): {str(k): int(v) for k, v in vals.items()}
                         for a, vals in (views.get("attributes") or {}).items()}),
            placements={str(pid): _history(h) for pid, h in (data.get("placements") or {}).items()},
            newsletter=bool(data.get("newsletter", False)),
            experiments={str(k): str(v) for k, v in (data.get("experiments") or {}).items()},
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("hour")
        d.pop("weekday")
        return d


def _counter(c: Mapping[str, Any] | None) -> Counter:
    c = c or {}
    last = c.get("last")
    return Counter(int(c.get("visit", 0)), int(c.get("day", 0)), int(c.get("lifetime", 0)),
                   None if last is None else float(last))


def _history(h: Mapping[str, Any]) -> PlacementHistory:
    return PlacementHistory(_counter(h.get("seen")), _counter(h.get("clicked")),
                            _counter(h.get("closed")))
