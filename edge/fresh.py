"""Fills remembered for visitors the edge has just met.

A visitor minted on this request (no cookie, no login, no fingerprint match) has an empty
profile: what the rules decide and the widgets render for them depends on the page and the
request (language, device, referrer, URL and its UTM parameters), the clock, the experiment
arms their id falls into, and what every visitor shares (rules, catalog, signals, weights).
Crawlers and first page views are a large share of a shop's traffic, and they all look alike,
so the decision and the rendered fills are kept under exactly those inputs and reused:

* the arms are worked out for every experiment of the rules, as ``decide`` would for this
  visitor, and are part of the key, so each visitor still gets their own variant;
* an entry holds for the rest of the second it was made in (the rules read the clock as hour
  and weekday), and never past a schedule's start or end, an offer's expiry or an
  experiment's end;
* the rules, the catalog, the signals or the weights being replaced forgets every entry.

Nothing of one visitor is kept: the profile is empty, the widgets are pure, and the writes the
decision makes (experiment arms, exposures, inbox offers) are made for each visitor anew.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.page import Page
from rules.decision import Decision
from rules.experiments import assign
from rules.model import RuleSet

LIMIT = 2048  # entries; past it the memo starts over


@dataclass(frozen=True)
class FreshFill:
    decision: Decision
    slots: Mapping[str, str]
    body_end: str
    until: float  # epoch seconds: the entry holds for ``now < until``


def boundaries(ruleset: RuleSet) -> tuple[float, ...]:
    """Every time at which the rules decide otherwise for the same visitor and page, sorted:
    schedules' starts and ends, offers' expiries, experiments' ends."""
    times = {t for p in ruleset.placements for t in (p.starts, p.ends, p.expires)
             if t is not None}
    times.update(e.ends for e in ruleset.experiments.values() if e.ends is not None)
    return tuple(sorted(times))


def valid_until(now: float, times: tuple[float, ...]) -> float:
    """The end of ``now``'s second, or the first of ``times`` after ``now`` if sooner."""
    until = math.floor(now) + 1.0
    for t in times:
        if t > now:
            return min(until, t)
    return until


class FreshFills:
    """The memo: ``get`` and ``put`` under a key from ``key``; ``matches`` forgets every entry
    when what all visitors share was replaced."""

    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self._entries: dict[tuple[Any, ...], FreshFill] = {}
        self._ruleset: RuleSet | None = None
        self._catalog: Any = None
        self._signals: Any = None
        self._weights: Any = None
        self._times: tuple[float, ...] = ()

    def matches(self, ruleset: RuleSet, catalog: Any, signals: Any, weights: Any) -> None:
        """Start over unless these are the objects the entries were made with (compared by
        identity: each is replaced whole when it changes)."""
        if not (self._ruleset is ruleset and self._catalog is catalog
                and self._signals is signals and self._weights is weights):
            self._entries.clear()
            self._ruleset, self._catalog = ruleset, catalog
            self._signals, self._weights = signals, weights
            self._times = boundaries(ruleset)

    def key(self, ruleset: RuleSet, visitor_id: str, now: float,
            weights: Mapping[str, Any] | None, page: Page, language: str, device: str
            ) -> tuple[Any, ...]:
        arms = []
        for eid, exp in ruleset.experiments.items():
            a = assign(exp, visitor_id, now, weights=None if weights is None else weights.get(eid))
            arms.append(None if a is None else a.arm)
        request = page.request
        return (request.path, request.query, request.host, request.scheme,
                request.headers.get("referer", ""), language, device, page.shape, tuple(arms))

    def get(self, key: tuple[Any, ...], now: float) -> FreshFill | None:
        found = self._entries.get(key)
        if found is None or now >= found.until:
            return None
        return found

    def put(self, key: tuple[Any, ...], now: float, decision: Decision,
            slots: Mapping[str, str], body_end: str) -> None:
        entries = self._entries
        if len(entries) >= self.limit:
            entries.clear()
        entries[key] = FreshFill(decision, dict(slots), body_end,
                                 valid_until(now, self._times))
