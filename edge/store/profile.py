"""The profile: what the edge knows about one visitor, as a typed, read-only snapshot.

``parse_part`` turns one part's Redis reply (a hash as a dict, a list or sorted set as a list of
bytes) into read-only values, and ``Profile.from_parts`` assembles the parsed parts, adding what
depends on the time (the visit, today's placement counts). ``Profile.from_raw`` does both, for
the replies keyed by part name. All of it is pure and tolerant: a broken stored value is
skipped, never raised. ``edge.store.store.Store.load`` reads the parts in one round trip and
reuses the parse of a part whose bytes did not change (``edge.store.partcache``), so the
containers in a Profile are shared and read-only (``edge.store.frozen``): copy one to change it.
Rules and widgets read a Profile; only ``edge.store`` writes Redis.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import msgpack

from edge.store.frozen import EMPTY_DICT, EMPTY_LIST, FrozenDict, FrozenList, thaw, unpack_frozen

_T = TypeVar("_T")
VISIT_IDLE_MS = 30 * 60 * 1000  # a new visit starts after 30 minutes without activity
PLACEMENT_ACTIONS = ("seen", "click", "close")


def unpack(blob: Any) -> Any:
    if blob is None:
        return None
    try:
        return msgpack.unpackb(blob, raw=False, strict_map_key=False)
    except Exception:  # a broken stored value is skipped, never fatal
        return None


# One packer, reused: msgpack.packb makes a packer with a fresh 256 KB buffer on every call.
# (The edge packs on its event loop's thread only; a failed pack leaves the packer empty.)
_pack = msgpack.Packer(use_bin_type=True).pack


def pack(value: Any) -> bytes:
    return _pack(value)


def text(value: Any) -> str:
    """A Redis reply (bytes) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _s(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _text(value: Any) -> str:
    return "" if value is None else _s(value)


def _num(value: Any, default: float = 0) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):  # also "nan" and "inf"
        return default


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
        return cart_value(self.cart)

    def to_json(self) -> dict[str, Any]:
        """Everything in the profile as plain JSON (for export and debugging)."""
        data: dict[str, Any] = thaw(dataclasses.asdict(self))
        data["known"] = self.known
        return data

    @classmethod
    def empty(cls, pid: str) -> Profile:
        """``Profile(id=pid, stable_id=pid)`` (a visitor with nothing stored) in a tenth of
        the time, its containers the shared read-only empty ones (what a load gives for
        missing parts), so what is derived from them is remembered too."""
        profile = object.__new__(cls)
        profile.__dict__.update(_EMPTY_FIELDS, id=pid, stable_id=pid)
        return profile

    @classmethod
    def from_raw(cls, pid: str, raw: Mapping[str, Any], now_ms: int | None = None) -> Profile:
        """Build a profile from the load's replies, keyed by part name."""
        return cls.from_parts(pid, {part: parse_part(part, raw.get(part)) for part in PARTS},
                              now_ms)

    @classmethod
    def from_parts(cls, pid: str, parts: Mapping[str, Any], now_ms: int | None = None
                   ) -> Profile:
        """Build a profile from parsed parts (``parse_part``), keyed by part name."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        scalars: Scalars = parts.get("p") or _NO_SCALARS
        p = scalars.fields
        visit_no = _int(p.get(b"visit_no"))
        last_seen = _int(p.get(b"last_seen"))
        active = visit_no > 0 and now_ms - last_seen <= VISIT_IDLE_MS
        visit = _new(Visit, number=visit_no, start=_int(p.get(b"visit_start")),
                     last_seen=last_seen, page_views=_int(p.get(b"pv_visit")) if active else 0,
                     time_on_site_ms=_int(p.get(b"tos_visit")) if active else 0, active=active)
        categories, attr_values = parts.get("agg") or _NO_AGG
        return _new(
            cls,
            id=pid,
            stable_id=_text(p.get(b"stable")) or pid,
            contact_id=_text(p.get(b"contact")) or None,
            email=_text(p.get(b"email")) or None,
            created=_int(p.get(b"created")),
            attributes=parts.get("attrs", EMPTY_DICT),
            consents=parts.get("consents", EMPTY_DICT),
            preferences=parts.get("prefs", EMPTY_DICT),
            facts=parts.get("facts", EMPTY_DICT),
            advisor=scalars.advisor,
            loyalty=_new(Loyalty, points=_num(p.get(b"points")), tier=_text(p.get(b"tier")),
                         next_tier=_text(p.get(b"next_tier")),
                         points_to_next=_num(p.get(b"points_to_next"))),
            page_views=parts.get("views", EMPTY_LIST),
            product_views=parts.get("pviews", EMPTY_LIST),
            cart=parts.get("cart", EMPTY_LIST),
            purchases=parts.get("buys", EMPTY_LIST),
            likes=parts.get("likes", EMPTY_LIST),
            forms=parts.get("forms", EMPTY_LIST),
            custom_events=parts.get("events", EMPTY_LIST),
            inbox=parts.get("inbox", EMPTY_DICT),
            placements=(parts.get("place") or _NO_PLACEMENTS).at(now_ms,
                                                                  visit_no if active else -1),
            experiments=parts.get("exp", EMPTY_DICT),
            visit=visit,
            visits=_int(p.get(b"visits")),
            page_views_total=_int(p.get(b"pv_total")),
            time_on_site_ms=_int(p.get(b"tos_ms")),
            categories=categories,
            attribute_values=attr_values,
        )


def cart_value(cart: Any) -> float:
    """What the cart's lines (``Profile.cart``) are worth together."""
    return sum(_num(line.get("price")) * _int(line.get("qty"), 1) for line in cart)


def _new(cls: type[_T], **values: Any) -> _T:
    # A frozen dataclass's __init__ sets each field through object.__setattr__: ten times the
    # cost of filling the instance's __dict__ at once. Callers pass every field (tested).
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


# Every field of a profile with nothing stored (Profile.empty), containers read-only.
_EMPTY_FIELDS = {
    f.name: (f.default if f.default is not dataclasses.MISSING
             else EMPTY_LIST if f.default_factory is list else EMPTY_DICT)
    for f in dataclasses.fields(Profile)}  # id and stable_id: given by Profile.empty


# --- values derived from parts -------------------------------------------------------------
# A load hands out the very same part object for byte-identical stored data (partcache), and
# a part that did not change between two pages of a visitor is that same object again. What a
# page derives from a part (a rule context's purchases, the sku lists the widgets read) can be
# derived once per part object rather than once per page.

_READ_ONLY = (FrozenDict, FrozenList, Advisor, type(None))
DERIVED_SIZE = 8192


class DerivedMemo:
    """``fn(*parts)`` remembered by ``fn`` and the parts' identity.

    Only read-only parts count (``FrozenDict``, ``FrozenList``, an ``Advisor``, None): a plain
    dict could change in place under the same id, so with one among the parts ``fn`` runs every
    time. An entry holds its parts, so an id in a key cannot come to name another object while
    the entry lives. ``fn`` must read nothing but its arguments, and callers must not change
    what it returns (hand out copies of mutable results).

    Bounded by two generations of ``size`` entries: when the young one is full it becomes the
    old one (the previous old one goes); a hit in the old generation moves back to the young."""

    __slots__ = ("size", "_young", "_old")

    def __init__(self, size: int = DERIVED_SIZE) -> None:
        self.size = size
        self._young: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
        self._old: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def __call__(self, fn: Callable[..., _T], *parts: Any) -> _T:
        if len(parts) == 1:  # the common case, without the loops
            if type(parts[0]) not in _READ_ONLY:
                return fn(*parts)
            key: tuple[Any, ...] = (fn, id(parts[0]))
        else:
            for part in parts:
                if type(part) not in _READ_ONLY:
                    return fn(*parts)
            key = (fn, *map(id, parts))
        # An entry's parts are alive, so equal ids in its key name the very same objects.
        entry = self._young.get(key)
        if entry is None:
            entry = self._old.get(key)
            if entry is None:
                entry = (parts, fn(*parts))
            self._put(key, entry)
        return entry[1]  # type: ignore[no-any-return]

    def keyed(self, fn: Callable[..., _T], values: tuple[Any, ...], *parts: Any) -> _T:
        """``fn(values, *parts)``, remembered by ``values`` (hashable, compared with ``==``:
        put in the types where equal values of two types would give different results) and
        the parts' identity."""
        for part in parts:
            if type(part) not in _READ_ONLY:
                return fn(values, *parts)
        key = (fn, values, *map(id, parts))
        entry = self._young.get(key)
        if entry is None:
            entry = self._old.get(key)
            if entry is None:
                entry = (parts, fn(values, *parts))
            self._put(key, entry)
        return entry[1]  # type: ignore[no-any-return]

    def _put(self, key: tuple[Any, ...], entry: tuple[tuple[Any, ...], Any]) -> None:
        if len(self._young) >= self.size:
            self._old, self._young = self._young, {}
        self._young[key] = entry

    def clear(self) -> None:
        self._young.clear()
        self._old.clear()


derived = DerivedMemo()


# --- parsing one part ---------------------------------------------------------------------
# Every parse is a function of the part's stored bytes alone (never of the time or of another
# part), so a parse can be kept and reused for byte-identical data.

# The parts a profile is built from, and how each is stored.
HASH_PARTS = ("p", "attrs", "consents", "prefs", "facts", "exp", "cart", "place", "agg", "inbox",
              "clk")
LIST_PARTS = ("views", "pviews", "buys", "forms", "events")
ZSET_PARTS = ("likes",)
PARTS = HASH_PARTS + LIST_PARTS + ZSET_PARTS

Unpack = Callable[[Any], Any]  # a stored msgpack value -> read-only value, or None if broken


class Scalars(NamedTuple):
    """The ``p`` hash: its fields as stored (all but the advisor), and the advisor."""

    fields: Mapping[bytes, Any]  # as Redis answers: decoded only where a Profile needs text
    advisor: Advisor | None


_NO_SCALARS = Scalars(EMPTY_DICT, None)
_NO_AGG: tuple[dict[str, float], dict[str, dict[str, float]]] = (EMPTY_DICT, EMPTY_DICT)
_NO_ADVISOR = FrozenDict(dataclasses.asdict(Advisor()))


def parse_part(part: str, reply: Any, item: Unpack = unpack_frozen,
               advisor: Callable[[Any], Advisor | None] | None = None) -> Any:
    """One part's reply as the values a Profile holds: read-only, broken values left out.

    ``reply`` is a hash as a dict (or a flat [field, value, ...] list), a list or sorted set as
    a list of bytes. ``item`` unpacks one stored msgpack value and ``advisor`` reads the stored
    advisor (``parse_advisor`` with ``item``); a caller may remember what they return."""
    if part in LIST_PARTS:
        return _items(reply, item)
    if part == "likes":
        return FrozenList(_s(m) for m in reply or ())
    if part == "p":
        return _scalars(reply, advisor or (lambda blob: parse_advisor(blob, item)))
    fields = _hash(reply)
    if part in ("attrs", "prefs", "facts", "inbox"):
        return _unpacked(fields, item)
    if part == "consents":
        consents = {}
        for name, blob in fields.items():
            value = _dict(item(blob))
            if "granted" in value:
                consents[name] = Consent(bool(value["granted"]), _int(value.get("ts")))
        return FrozenDict(consents)
    if part == "exp":
        return FrozenDict((k, _s(v)) for k, v in fields.items())
    if part == "cart":
        lines = ({"sku": sku, **_dict(v)} for sku, v in _unpacked(fields, item).items())
        return FrozenList(FrozenDict(line) for line in sorted(lines, key=_newest_first))
    if part == "agg":
        return _aggregates(fields)
    if part == "place":
        return PlacementCounts(fields)
    return FrozenDict(fields)  # clk


def _scalars(reply: Any, advisor: Callable[[Any], Advisor | None]) -> Scalars:
    if isinstance(reply, list):  # HGETALL's flat [field, value, ...]
        fields = dict(zip(reply[0::2], reply[1::2], strict=False))
    elif isinstance(reply, dict):
        fields = {k if isinstance(k, bytes) else str(k).encode(): v for k, v in reply.items()}
    else:
        fields = {}
    return Scalars(FrozenDict(fields), advisor(fields.pop(b"advisor", None)))


def parse_advisor(blob: Any, item: Unpack = unpack_frozen) -> Advisor | None:
    """The advisor stored in the ``p`` hash (msgpack); None without one or if it is broken."""
    found = _dict(item(blob))
    if not found:
        return None
    given = {k: str(v) for k, v in found.items() if k in _NO_ADVISOR}
    return _new(Advisor, **{**_NO_ADVISOR, **given})


def _aggregates(fields: dict[str, Any]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    categories: dict[str, float] = {}
    attr_values: dict[str, dict[str, float]] = {}
    for name, count in fields.items():
        kind, _, rest = name.partition(":")
        if kind == "cat":
            categories[rest] = _num(count)
        elif kind == "attr" and "=" in rest:
            attr, _, attr_value = rest.partition("=")
            attr_values.setdefault(attr, {})[attr_value] = _num(count)
    return FrozenDict(categories), FrozenDict((k, FrozenDict(v)) for k, v in attr_values.items())


def _newest_first(line: Mapping[str, Any]) -> float:
    return -_num(line.get("ts"))


def _hash(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {_s(k): v for k, v in value.items()}
    if isinstance(value, list):  # HGETALL's flat [field, value, ...]
        pairs = zip(value[0::2], value[1::2], strict=False)
        try:
            return {k.decode("utf-8", "replace"): v for k, v in pairs}
        except AttributeError:
            return {_s(k): v for k, v in zip(value[0::2], value[1::2], strict=False)}
    return {}


def _unpacked(fields: dict[str, Any], item: Unpack) -> FrozenDict:
    out = {}
    for k, v in fields.items():
        value = item(v)
        if value is not None:
            out[k] = value
    return FrozenDict(out)


def _items(values: Any, item: Unpack) -> FrozenList:
    parsed = [item(blob) for blob in values or ()]
    return FrozenList([v for v in parsed if isinstance(v, dict)])


class PlacementCounts:
    """The ``place`` hash, parsed once: per placement and action, the stored counters. Today's
    and this visit's counts depend on the time and the visit number: ``at`` picks them, and
    remembers its last answer (pages of one visit ask the same)."""

    __slots__ = ("_counters", "_last")

    def __init__(self, fields: Mapping[str, Any]):
        # (placement, action, lifetime, day count, day, visit count, visit number, last ts)
        counters = []
        for name, value in fields.items():
            placement, _, action = name.rpartition("|")
            if action not in PLACEMENT_ACTIONS or not placement:
                continue
            base = f"{placement}|{action}"
            counters.append((placement, action, _int(value), _int(fields.get(base + "|d")),
                             _s(fields.get(base + "|dk", b"")), _int(fields.get(base + "|v")),
                             _s(fields.get(base + "|vn", b"")), _int(fields.get(base + "|t"))))
        self._counters = tuple(counters)
        self._last: tuple[tuple[str, str], dict[str, PlacementHistory]] | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlacementCounts) and other._counters == self._counters

    __hash__ = None  # type: ignore[assignment]

    def at(self, now_ms: int, visit_no: int) -> dict[str, PlacementHistory]:
        """Placement history at ``now_ms`` in visit ``visit_no`` (-1: no visit is active)."""
        when = (str(now_ms // 86_400_000), str(visit_no))
        last = self._last
        if last is not None and last[0] == when:
            return last[1]
        today, visit = when
        found: dict[str, dict[str, ActionCounts]] = {}
        for placement, action, lifetime, d, dk, v, vn, ts in self._counters:
            found.setdefault(placement, {})[action] = _new(
                ActionCounts, lifetime=lifetime, today=d if dk == today else 0,
                this_visit=v if vn == visit else 0, last_ts=ts)
        history = FrozenDict({name: PlacementHistory(**actions) for name, actions in found.items()})
        self._last = (when, history)  # a shared parse: the answer is read-only too
        return history


_NO_PLACEMENTS = PlacementCounts({})

