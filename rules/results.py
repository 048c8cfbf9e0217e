"""Experiment results from counters the edge records: CTR, uplift and the probability that
each arm is best. Pure and reproducible (Monte Carlo with a fixed seed)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from rules.model import CONTROL

Counters = Mapping[str, Mapping[str, int]]  # arm → {"impressions", "clicks", "conversions"}


def rate(successes: int, trials: int) -> float:
    return successes / trials if trials > 0 else 0.0


def prob_best(arms: Sequence[tuple[int, int]], *, draws: int = 10000,
              seed: int = 0) -> list[float]:
    """P(arm has the highest rate) for ``(successes, trials)`` pairs, from Beta(1+s, 1+t-s)
    posteriors, by ``draws`` Monte Carlo samples from ``random.Random(seed)``."""
    if not arms:
        return []
    if len(arms) == 1:
        return [1.0]
    rng = random.Random(seed)
    params = [(1.0 + s, 1.0 + max(t - s, 0)) for s, t in arms]
    wins = [0] * len(arms)
    beta = rng.betavariate
    for _ in range(draws):
        best, best_i = -1.0, 0
        for i, (a, b) in enumerate(params):
            x = beta(a, b)
            if x > best:
                best, best_i = x, i
        wins[best_i] += 1
    return [w / draws for w in wins]


def summarize(counters: Counters, *, metric: str = "clicks", baseline: str | None = None,
              draws: int = 10000, seed: int = 0) -> dict[str, Any]:
    """Per arm: impressions, clicks, conversions, ctr, conversion_rate, rate (of ``metric``
    per impression), uplift vs ``baseline`` and p_best.

    The baseline defaults to the control when the metric is conversions and a control exists
    (a control shows nothing, so it has no clicks); otherwise to the first other arm. With the
    clicks metric the control takes no part in p_best.
    """
    arms = list(counters)
    if baseline is None:
        others = [a for a in arms if a != CONTROL]
        baseline = CONTROL if (metric == "conversions" and CONTROL in counters) or not others \
            else others[0]
    if arms and baseline not in counters:
        raise ValueError(f"baseline {baseline!r} is not one of the arms {arms}")
    rates = {a: rate(int(c.get(metric, 0)), int(c.get("impressions", 0)))
             for a, c in counters.items()}
    ranked = [a for a in arms if metric == "conversions" or a != CONTROL]
    p = prob_best([(int(counters[a].get(metric, 0)), int(counters[a].get("impressions", 0)))
                   for a in ranked], draws=draws, seed=seed)
    p_by = dict(zip(ranked, p, strict=True))
    base = rates.get(baseline, 0.0)
    out: dict[str, Any] = {"metric": metric, "baseline": baseline, "arms": {}}
    for a, c in counters.items():
        imp = int(c.get("impressions", 0))
        out["arms"][a] = {
            "impressions": imp,
            "clicks": int(c.get("clicks", 0)),
            "conversions": int(c.get("conversions", 0)),
            "ctr": rate(int(c.get("clicks", 0)), imp),
            "conversion_rate": rate(int(c.get("conversions", 0)), imp),
            "rate": rates[a],
            "uplift": None if a == baseline or base == 0 else rates[a] / base - 1.0,
            "p_best": p_by.get(a),
        }
    return out
