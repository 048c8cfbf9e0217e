"""The profile: what the edge knows about one visitor, as a typed, read-only snapshot.

``Profile.from_raw`` builds it from the replies of the one pipelined load (see
``edge.store.store.Store.load``); it is pure and tolerant: a broken stored value is skipped,
never raised. Rules and widgets read a Profile; only ``edge.store`` writes Redis.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgpack

VISIT_IDLE_MS = 30 * 60 * 1000  # a new visit starts after 30 minutes without activity
PLACEMENT_ACTIONS = ("seen", "click", "close")


def unpack(blob: Any) -> Any:
    if blob is None:
        return None
    try:
        return msgpack.unpackb(blob, raw=False, strict_map_key=False)
    except Exception:  # a broken stored value is skipped, never fatal
        return None


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def text(value: Any) -> str:
    """A Redis reply (bytes) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _s(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _num(value: Any, default: float = 0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any, default: int = 0) -> int:
    return int(_num(value, default))


def _dict(value: Any) -> dict[str, Any]:
    # Lua's msgpack writes an empty map as an empty array.
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Consent:
    granted: bool
    ts: int


@dataclass(frozen=True)
class Advisor:
    name: str = ""
    role: str = ""
    phone: str = ""
    email: str = ""
    photo_url: str = ""


@dataclass(frozen=True)
class Loyalty:
    points: float = 0
    tier: str = ""
    next_tier: str = ""
    points_to_next: float = 0


@dataclass(frozen=True)
class Visit:
    number: int = 0  # 1 for the first visit; 0 if the visitor was never seen
    start: int = 0  # epoch ms
    last_seen: int = 0  # epoch ms
    page_views: int = 0  # page views in this visit
    time_on_site_ms: int = 0  # in this visit
    active: bool = False  # False when the last activity is older than the idle limit

    @property
    def current_number(self) -> int:
        """The number of the visit a request now belongs to (the next one after idling)."""
        return self.number if self.active else self.number + 1

    @property
    def seconds_on_site(self) -> float:
        """This visit's time on site: reported durations, or the span of its activity."""
        if not self.active:
            return 0.0
        return max(self.time_on_site_ms, self.last_seen - self.start) / 1000


@dataclass(frozen=True)
class ActionCounts:
    lifetime: int = 0
    today: int = 0
    this_visit: int = 0
    last_ts: int = 0


@dataclass(frozen=True)
class PlacementHistory:
    seen: ActionCounts = ActionCounts()
    click: ActionCounts = ActionCounts()
    close: ActionCounts = ActionCounts()


@dataclass(frozen=True)
class Profile:
    id: str
    stable_id: str  # hashed for experiments; kept across merges
    contact_id: str | None = None
    email: str | None = None
    created: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, Consent] = field(default_factory=dict)
    preferences: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    advisor: Advisor | None = None
    loyalty: Loyalty = Loyalty()
    page_views: list[dict[str, Any]] = field(default_factory=list)  # url, title, duration_ms, ts
    # sku, name, category, price, attributes, ts
    product_views: list[dict[str, Any]] = field(default_factory=list)
    cart: list[dict[str, Any]] = field(default_factory=list)  # sku, qty, price, ts
    # order_id, value, currency, ts, items [{sku, qty, price}]
    purchases: list[dict[str, Any]] = field(default_factory=list)
    likes: list[str] = field(default_factory=list)  # newest first
    forms: list[dict[str, Any]] = field(default_factory=list)  # form, fields, ts
    custom_events: list[dict[str, Any]] = field(default_factory=list)  # name, params, ts
    inbox: dict[str, Any] = field(default_factory=dict)  # offer id -> state
    placements: dict[str, PlacementHistory] = field(default_factory=dict)
    experiments: dict[str, str] = field(default_factory=dict)
    visit: Visit = Visit()
    visits: int = 0
    page_views_total: int = 0
    time_on_site_ms: int = 0  # lifetime
    categories: dict[str, float] = field(default_factory=dict)  # category path -> views
    attribute_values: dict[str, dict[str, float]] = field(default_factory=dict)  # rooms -> {"3": 4}

    @property
    def known(self) -> bool:
        return bool(self.contact_id)

    @property
    def is_empty(self) -> bool:
        return not (self.created or self.contact_id or self.attributes or self.consents)

    def consented(self, name: str, default: bool = True) -> bool:
        consent = self.consents.get(name)
        return default if consent is None else consent.granted

    def top_categories(self, n: int = 5) -> list[tuple[str, float]]:
        return sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def top_attribute_value(self, name: str) -> str | None:
        values = self.attribute_values.get(name)
        if not values:
            return None
        return min(values.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    @property
    def cart_value(self) -> float:
        return sum(_num(line.get("price")) * _int(line.get("qty"), 1) for line in self.cart)

    def to_json(self) -> dict[str, Any]:
        """Everything in the profile as plain JSON (for export and debugging)."""
        data = dataclasses.asdict(self)
        data["known"] = self.known
        return data

    @classmethod
    def from_raw(cls, pid: str, raw: Mapping[str, Any], now_ms: int | None = None) -> Profile:
        """Build a profile from the load pipeline's replies, keyed by part name."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        p = {_s(k): v for k, v in _dict(raw.get("p")).items()}
        text = {k: _s(v) for k, v in p.items() if k != "advisor"}
        consents: dict[str, Consent] = {}
        for name, blob in _hash(raw.get("consents")).items():
            value = _dict(unpack(blob))
            if "granted" in value:
                consents[name] = Consent(bool(value["granted"]), _int(value.get("ts")))
        advisor_raw = _dict(unpack(p.get("advisor")))
        advisor = None
        if advisor_raw:
            names = {f.name for f in dataclasses.fields(Advisor)}
            advisor = Advisor(**{k: str(v) for k, v in advisor_raw.items() if k in names})
        visit_no = _int(text.get("visit_no"))
        last_seen = _int(text.get("last_seen"))
        active = visit_no > 0 and now_ms - last_seen <= VISIT_IDLE_MS
        visit = Visit(visit_no, _int(text.get("visit_start")), last_seen,
                      _int(text.get("pv_visit")) if active else 0,
                      _int(text.get("tos_visit")) if active else 0, active)
        categories: dict[str, float] = {}
        attr_values: dict[str, dict[str, float]] = {}
        for name, count in _hash(raw.get("agg")).items():
            kind, _, rest = name.partition(":")
            if kind == "cat":
                categories[rest] = _num(count)
            elif kind == "attr" and "=" in rest:
                attr, _, attr_value = rest.partition("=")
                attr_values.setdefault(attr, {})[attr_value] = _num(count)
        likes = raw.get("likes") or []
        return cls(
            id=pid,
            stable_id=text.get("stable") or pid,
            contact_id=text.get("contact") or None,
            email=text.get("email") or None,
            created=_int(text.get("created")),
            attributes=_unpacked(raw.get("attrs")),
            consents=consents,
            preferences=_unpacked(raw.get("prefs")),
            facts=_unpacked(raw.get("facts")),
            advisor=advisor,
            loyalty=Loyalty(_num(text.get("points")), text.get("tier", ""),
                            text.get("next_tier", ""), _num(text.get("points_to_next"))),
            page_views=_items(raw.get("views")),
            product_views=_items(raw.get("pviews")),
            cart=sorted(
                ({"sku": sku, **_dict(v)} for sku, v in _unpacked(raw.get("cart")).items()),
                key=lambda line: -_num(line.get("ts")),
            ),
            purchases=_items(raw.get("buys")),
            likes=[_s(m) for m in likes],
            forms=_items(raw.get("forms")),
            custom_events=_items(raw.get("events")),
            inbox={k: v for k, v in _unpacked(raw.get("inbox")).items()},
            placements=_placements(_hash(raw.get("place")), now_ms, visit_no if active else -1),
            experiments={k: _s(v) for k, v in _hash(raw.get("exp")).items()},
            visit=visit,
            visits=_int(text.get("visits")),
            page_views_total=_int(text.get("pv_total")),
            time_on_site_ms=_int(text.get("tos_ms")),
            categories=categories,
            attribute_values=attr_values,
        )


def _hash(value: Any) -> dict[str, Any]:
    return {_s(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _unpacked(value: Any) -> dict[str, Any]:
    out = {}
    for k, v in _hash(value).items():
        item = unpack(v)
        if item is not None:
            out[k] = item
    return out


def _items(values: Sequence[bytes] | None) -> list[dict[str, Any]]:
    out = []
    for blob in values or []:
        item = unpack(blob)
        if isinstance(item, dict):
            out.append(item)
    return out


def _placements(fields: dict[str, Any], now_ms: int, visit_no: int) -> dict[str, PlacementHistory]:
    today = str(now_ms // 86_400_000)
    found: dict[str, dict[str, ActionCounts]] = {}
    for name, value in fields.items():
        placement, _, action = name.rpartition("|")
        if action not in PLACEMENT_ACTIONS or not placement:
            continue
        base = f"{placement}|{action}"
        counts = ActionCounts(
            lifetime=_int(value),
            today=(_int(fields.get(base + "|d"))
                   if _s(fields.get(base + "|dk", b"")) == today else 0),
            this_visit=(_int(fields.get(base + "|v"))
                        if _s(fields.get(base + "|vn", b"")) == str(visit_no) else 0),
            last_ts=_int(fields.get(base + "|t")),
        )
        found.setdefault(placement, {})[action] = counts
    return {name: PlacementHistory(**actions) for name, actions in found.items()}
