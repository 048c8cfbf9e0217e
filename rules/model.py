"""The loaded, compiled rules: plain frozen objects the decision functions read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from rules.gates import Gate, build_gate
from rules.tree import Cond

KINDS = ("slot", "popup", "inbox")
TRIGGERS = ("immediate", "delay", "exit_intent", "scroll", "page_views")
CONTROL = "control"


@dataclass(frozen=True)
class Trigger:
    """When the widget script opens a pop-up. ``page_views`` is also checked here, on the
    server: the pop-up is only offered once the visit has that many page views."""

    type: str = "immediate"
    seconds: float | None = None      # delay
    percent: int | None = None        # scroll depth
    page_views: int | None = None     # after N page views this visit

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        for k in ("seconds", "percent", "page_views"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d


@dataclass(frozen=True)
class Caps:
    visit: int | None = None
    day: int | None = None
    lifetime: int | None = None
    stop_after_close: bool = False
    stop_after_click: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False)}


@dataclass(frozen=True)
class Segment:
    id: str
    file: str
    when: Cond
    description: str = ""


@dataclass(frozen=True)
class Placement:
    id: str
    kind: str
    file: str
    order: int                                # declaration order, breaks priority ties
    priority: int = 0
    when: Cond | None = None
    segments: tuple[str, ...] = ()           # all must hold
    exclude_segments: tuple[str, ...] = ()   # none may hold (negative segments)
    consents: tuple[str, ...] = ()
    caps: Caps = Caps()
    group: str | None = None
    experiment: str | None = None
    widget: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    # Per-arm params merged over ``params`` (on top of the experiment variant's own params).
    variant_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    slot: str = ""                            # kind == "slot"
    trigger: Trigger = Trigger()              # kind == "popup"
    offer: str = ""                           # kind == "inbox"
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    url: str = ""
    expires: float | None = None
    # Schedule (epoch seconds): shown from ``starts`` on and before ``ends``.
    starts: float | None = None
    ends: float | None = None
    # All qualification checks in one closure, built from the fields above.
    gate: Gate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gate", build_gate(self))


@dataclass(frozen=True)
class Variant:
    id: str
    weight: float = 1.0
    widget: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class After:
    """What happens once the test is over: ``keep`` the test weights, give the ``winner`` a
    share, or let a Thompson-sampling ``bandit`` reallocate (see rules.experiments)."""

    mode: str = "keep"           # keep | winner | bandit
    winner: str = "auto"         # a variant id, or "auto": best from the counters passed in
    share: float = 0.9           # winner mode: the winner's share, the rest split evenly
    floor: float = 0.05          # bandit: no arm goes below this share
    min_samples: int = 100       # impressions every arm needs before weights move
    metric: str = "clicks"       # clicks | conversions (per impression)
    keep_control: bool = False   # keep the control's test share after the test


@dataclass(frozen=True)
class Experiment:
    id: str
    file: str
    seed: str
    variants: tuple[Variant, ...]
    control: float = 0.0                  # weight of the control arm (no placement)
    ends: float | None = None             # epoch seconds; None = runs until status changes
    status: str = "running"               # running | finished
    after: After = After()

    # Worked out once per experiment (cached_property writes past the frozen __setattr__):
    # every page with the experiment's placement asks.
    @cached_property
    def arms(self) -> tuple[str, ...]:
        ids = tuple(v.id for v in self.variants)
        return ids + (CONTROL,) if self.control > 0 else ids

    def test_weights(self) -> dict[str, float]:
        w = {v.id: v.weight for v in self.variants}
        if self.control > 0:
            w[CONTROL] = self.control
        return w

    @cached_property
    def test_shares(self) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """``test_weights()`` as the arms and their weights, in the same order."""
        w = self.test_weights()
        return tuple(w), tuple(w.values())

    def running(self, now: float) -> bool:
        return self.status == "running" and (self.ends is None or now < self.ends)

    def variant(self, arm: str) -> Variant | None:
        for v in self.variants:
            if v.id == arm:
                return v
        return None


@dataclass(frozen=True)
class Group:
    """A campaign group: its placements are mutually exclusive on a page (highest priority
    wins)."""

    id: str
    file: str
    description: str = ""


@dataclass(frozen=True)
class GlobalCaps:
    popups_per_visit: int | None = None
    popups_per_day: int | None = None


@dataclass(frozen=True)
class RuleSet:
    segments: Mapping[str, Segment] = field(default_factory=dict)
    # Every placement, highest priority first (ties: declaration order).
    placements: tuple[Placement, ...] = ()
    experiments: Mapping[str, Experiment] = field(default_factory=dict)
    groups: Mapping[str, Group] = field(default_factory=dict)
    caps: GlobalCaps = GlobalCaps()
    files: tuple[str, ...] = ()
    segment_conds: Mapping[str, Cond] = field(init=False)
    popup_ids: tuple[str, ...] = field(init=False)
    _candidates: dict[tuple[str, ...] | None, tuple[Placement, ...]] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segment_conds",
                           MappingProxyType({k: s.when for k, s in self.segments.items()}))
        object.__setattr__(self, "popup_ids",
                           tuple(p.id for p in self.placements if p.kind == "popup"))
        object.__setattr__(self, "_candidates", {})

    def candidates(self, page_slots: list[str] | None) -> tuple[Placement, ...]:
        """The placements that can matter on a page with these slots (all pop-ups and inbox
        offers, and slot placements for slots on the page), in priority order. Cached: a
        shop's pages hold a handful of slot combinations."""
        key = None if page_slots is None else tuple(page_slots)
        got = self._candidates.get(key)
        if got is None:
            on_page = None if key is None else frozenset(key)
            got = tuple(p for p in self.placements
                        if p.kind != "slot" or on_page is None or p.slot in on_page)
            if len(self._candidates) >= 256:  # odd pages must not grow this without bound
                self._candidates.clear()
            self._candidates[key] = got
        return got

    def placement(self, pid: str) -> Placement | None:
        for p in self.placements:
            if p.id == pid:
                return p
        return None
