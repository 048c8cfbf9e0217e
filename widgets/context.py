"""What a widget gets to render with: one plain, already-loaded context per placement.

The edge fills a :class:`RenderContext` from the profile, the page facts, the decided placement,
the shared :class:`~widgets.catalog.Catalog` and the co-occurrence :class:`Signals`. Widgets never
do I/O; everything they need is here. :func:`build_context` builds one from plain dicts (the
shape a profile has after msgpack), which is also what tests use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from widgets.catalog import Catalog

Scored = tuple[str, float]


@dataclass(frozen=True, slots=True)
class PageInfo:
    page_type: str = ""  # "home", "product", "category", "cart", ...
    url: str = ""
    sku: str | None = None  # the product on a product page
    category: str | None = None


@dataclass(frozen=True, slots=True)
class CartItem:
    sku: str
    qty: int = 1
    price: float = 0.0


@dataclass(frozen=True, slots=True)
class VisitorInfo:
    known: bool = False
    first_name: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    advisor: Mapping[str, Any] | None = None
    loyalty: Mapping[str, Any] | None = None  # {"points", "tier", "next_tier", "points_to_next"}
    viewed: tuple[str, ...] = ()  # most recent first
    cart: tuple[CartItem, ...] = ()
    purchased: tuple[str, ...] = ()
    liked: tuple[str, ...] = ()
    preferences: Mapping[str, Any] = field(default_factory=dict)
    # {"color": {"blue": 7, "red": 2}}: how often the visitor viewed products with each value.
    attribute_affinities: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    category_affinities: Mapping[str, float] = field(default_factory=dict)

    @property
    def has_history(self) -> bool:
        return bool(self.viewed or self.cart or self.purchased or self.liked)


@dataclass(frozen=True, slots=True)
class PlacementInfo:
    """Where the rendering goes and what it is counted as (impressions and clicks)."""

    id: str = ""
    variant: str = ""
    experiment: str = ""


@dataclass(frozen=True)
class Signals:
    """Shop-wide co-occurrence data, loaded by the edge; scores are higher-is-better."""

    viewed_together: Mapping[str, tuple[Scored, ...]] = field(default_factory=dict)
    bought_together: Mapping[str, tuple[Scored, ...]] = field(default_factory=dict)
    bestsellers: tuple[Scored, ...] = ()

    @cached_property
    def bestseller_scores(self) -> Mapping[str, float]:
        return dict(self.bestsellers)

    @cached_property
    def memo(self) -> dict[Any, Any]:
        """Derived rankings (e.g. a category by bestseller score), computed once per Signals:
        the edge loads signals per shop, not per request, so this is shared across requests."""
        return {}

    @classmethod
    def from_raw(cls, viewed_together: Mapping[str, Iterable[Any]] | None = None,
                 bought_together: Mapping[str, Iterable[Any]] | None = None,
                 bestsellers: Iterable[Any] | None = None) -> Signals:
        """Accepts lists of ``[sku, score]`` pairs (as they come out of JSON or msgpack)."""
        return cls(
            viewed_together={k: _scored(v) for k, v in (viewed_together or {}).items()},
            bought_together={k: _scored(v) for k, v in (bought_together or {}).items()},
            bestsellers=_scored(bestsellers or ()),
        )


def _scored(pairs: Iterable[Any]) -> tuple[Scored, ...]:
    out = []
    for pair in pairs:
        try:
            sku, score = pair
            out.append((str(sku), float(score)))
        except (TypeError, ValueError):
            continue
    out.sort(key=lambda p: -p[1])  # stable: equal scores keep their given order
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RenderContext:
    language: str = "en"
    currency: str = "PLN"
    page: PageInfo = field(default_factory=PageInfo)
    visitor: VisitorInfo = field(default_factory=VisitorInfo)
    placement: PlacementInfo = field(default_factory=PlacementInfo)
    catalog: Catalog = field(default_factory=Catalog.empty)
    signals: Signals = field(default_factory=Signals)


def _strs(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in (values or ()) if v is not None and v != "")


def _cart(items: Iterable[Any] | None) -> tuple[CartItem, ...]:
    out = []
    for item in items or ():
        if isinstance(item, CartItem):
            out.append(item)
        elif isinstance(item, Mapping) and item.get("sku"):
            try:
                out.append(CartItem(str(item["sku"]), int(item.get("qty", 1) or 1),
                                    float(item.get("price", 0) or 0)))
            except (TypeError, ValueError):
                continue
    return tuple(out)


def visitor_from_dict(data: Mapping[str, Any] | None) -> VisitorInfo:
    """A :class:`VisitorInfo` from a loose dict; unknown keys are ignored, bad ones dropped."""
    d = dict(data or {})

    def mapping(key: str) -> Mapping[str, Any]:
        value = d.get(key)
        return value if isinstance(value, Mapping) else {}

    def optional_mapping(key: str) -> Mapping[str, Any] | None:
        value = d.get(key)
        return value if isinstance(value, Mapping) else None

    return VisitorInfo(
        known=bool(d.get("known", False)),
        first_name=str(d.get("first_name") or ""),
        attributes=mapping("attributes"),
        advisor=optional_mapping("advisor"),
        loyalty=optional_mapping("loyalty"),
        viewed=_strs(d.get("viewed")),
        cart=_cart(d.get("cart")),
        purchased=_strs(d.get("purchased")),
        liked=_strs(d.get("liked")),
        preferences=mapping("preferences"),
        attribute_affinities=mapping("attribute_affinities"),
        category_affinities=mapping("category_affinities"),
    )


def build_context(*, language: str = "en", currency: str = "PLN",
                  page: PageInfo | Mapping[str, Any] | None = None,
                  visitor: VisitorInfo | Mapping[str, Any] | None = None,
                  placement: PlacementInfo | Mapping[str, Any] | None = None,
                  catalog: Catalog | None = None,
                  signals: Signals | Mapping[str, Any] | None = None) -> RenderContext:
    """Build a context from dataclasses or plain dicts of the same fields."""
    if page is None or isinstance(page, PageInfo):
        page_info = page or PageInfo()
    else:
        page_info = PageInfo(**{k: page[k] for k in PageInfo.__slots__ if k in page})
    if placement is None or isinstance(placement, PlacementInfo):
        placement_info = placement or PlacementInfo()
    else:
        placement_info = _placement(placement)
    if isinstance(visitor, VisitorInfo):
        visitor_info = visitor
    else:
        visitor_info = _NO_VISITOR if visitor is None else visitor_from_dict(visitor)
    if signals is None or isinstance(signals, Signals):
        signals_obj = signals or Signals()
    else:
        signals_obj = Signals.from_raw(**signals)
    return _render_context(language, currency, page_info, visitor_info, placement_info,
                           Catalog.empty() if catalog is None else catalog, signals_obj)


# No visitor (a pop-up's context, which holds no visitor data): one shared, read-only.
_NO_VISITOR = VisitorInfo(attributes=MappingProxyType({}), preferences=MappingProxyType({}),
                          attribute_affinities=MappingProxyType({}),
                          category_affinities=MappingProxyType({}))

# A page renders a handful of placements, each given as a fresh dict of the same few texts:
# their (frozen) PlacementInfo is made once per distinct dict.
_PLACEMENTS: dict[tuple[Any, ...], PlacementInfo] = {}
_MISSING: Any = object()


def _placement(placement: Mapping[str, Any]) -> PlacementInfo:
    key = (placement.get("id", _MISSING), placement.get("variant", _MISSING),
           placement.get("experiment", _MISSING))
    found = _PLACEMENTS.get(key) if len(placement) == 3 else None
    if found is None:
        found = PlacementInfo(
            **{k: str(placement[k]) for k in PlacementInfo.__slots__ if k in placement})
        if all(type(value) is str for value in key):  # str() of anything else may change
            if len(_PLACEMENTS) >= 4096:
                _PLACEMENTS.clear()
            _PLACEMENTS[key] = found
    return found


_set_language, _set_currency, _set_page, _set_visitor, _set_placement, _set_catalog, \
    _set_signals = (getattr(RenderContext, name).__set__ for name in RenderContext.__slots__)


def _render_context(language: str, currency: str, page: PageInfo, visitor: VisitorInfo,
                    placement: PlacementInfo, catalog: Catalog, signals: Signals
                    ) -> RenderContext:
    # What RenderContext(...) does, in half the time: a frozen dataclass's __init__ sets each
    # field through object.__setattr__; the slots' own descriptors set them directly.
    ctx = object.__new__(RenderContext)
    _set_language(ctx, language)
    _set_currency(ctx, currency)
    _set_page(ctx, page)
    _set_visitor(ctx, visitor)
    _set_placement(ctx, placement)
    _set_catalog(ctx, catalog)
    _set_signals(ctx, signals)
    return ctx
