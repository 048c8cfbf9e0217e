"""What :func:`rules.decide` returns: JSON-friendly results for the widgets.

Treat them as read-only. They are not frozen because frozen dataclasses are several times
slower to build, and a decision builds a handful per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class SlotFill:
    slot: str
    placement: str
    widget: str
    params: dict[str, Any]
    experiment: str | None = None
    variant: str | None = None


@dataclass(slots=True)
class Popup:
    placement: str
    widget: str
    params: dict[str, Any]
    trigger: dict[str, Any]
    experiment: str | None = None
    variant: str | None = None


@dataclass(slots=True)
class InboxOffer:
    placement: str
    offer: str
    language: str
    texts: dict[str, str]          # title, body, … in ``language``
    url: str = ""
    expires: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    experiment: str | None = None
    variant: str | None = None


@dataclass(slots=True)
class Impression:
    """One thing for the edge to count. ``shown`` is False for a control exposure: the
    visitor qualified but, being in the control arm, saw nothing. For a pop-up this means
    "offered": count its ``seen`` history when the widget script reports it opened."""

    placement: str
    kind: str
    experiment: str | None = None
    variant: str | None = None
    shown: bool = True


@dataclass(slots=True)
class Decision:
    slots: dict[str, SlotFill] = field(default_factory=dict)
    popup: Popup | None = None
    inbox: list[InboxOffer] = field(default_factory=list)
    impressions: list[Impression] = field(default_factory=list)
    # Experiment id → arm for every experiment the visitor took part in (for sticky storage).
    assignments: dict[str, str] = field(default_factory=dict)
    # The matched segments are worked out on first use: a page rarely asks, and testing every
    # segment the placements did not need is a quarter of a decision's time.
    _segments: list[str] | None = field(default=None, repr=False)
    _segment_source: Callable[[], list[str]] | None = field(default=None, repr=False,
                                                            compare=False)

    @property
    def segments(self) -> list[str]:
        """The segments the visitor is in, in rule-file order."""
        if self._segments is None:
            source, self._segment_source = self._segment_source, None
            self._segments = source() if source is not None else []
        return self._segments

    @segments.setter
    def segments(self, value: list[str]) -> None:
        self._segments, self._segment_source = list(value), None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {
            "slots": {k: asdict(v) for k, v in self.slots.items()},
            "popup": None if self.popup is None else asdict(self.popup),
            "inbox": [asdict(o) for o in self.inbox],
            "segments": list(self.segments),
            "impressions": [asdict(i) for i in self.impressions],
            "assignments": dict(self.assignments),
        }
