"""A/B/X experiments: deterministic sticky assignment, and the weights after the test.

Assignment: ``position = bucket(experiment.seed, visitor_id)`` (see rules.hashing) picks an arm
by cumulative weight, arms in declaration order with ``control`` last. The same stable visitor
id always lands on the same arm while weights stay the same, on any edge node and in the
widget JavaScript; the edge may store assignments, and a stored arm wins while the test runs.

After the test (``ends`` passed or ``status: finished``) the weights come from ``after``:
``keep`` the test weights, give the ``winner`` a share, or let a Thompson-sampling ``bandit``
set each arm's share to its probability of being best (computed from the counters the edge
passes in, with a fixed seed) with a floor per arm, once every arm has ``min_samples``.
Compute these with :func:`allocations` now and then and pass them to ``decide(weights=…)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rules.hashing import bucket, choose, hash32
from rules.model import CONTROL, Experiment, RuleSet
from rules.results import Counters, prob_best

Weights = Mapping[str, float]


@dataclass(frozen=True)
class Assignment:
    experiment: str
    arm: str
    phase: str          # "test" | "after"
    position: float     # the visitor's bucket in [0, 1)
    stored: bool        # the arm came from the edge's sticky storage

    def to_dict(self) -> dict[str, object]:
        return {"experiment": self.experiment, "arm": self.arm, "phase": self.phase,
                "position": round(self.position, 6), "stored": self.stored}


def pick(weights: Weights, position: float) -> str | None:
    arms = list(weights)
    i = choose(position, [weights[a] for a in arms])
    return arms[i] if i >= 0 else None


def assign(exp: Experiment, visitor_id: str, now: float, *, stored: str | None = None,
           weights: Weights | None = None) -> Assignment | None:
    """The visitor's arm; ``weights`` overrides the after-test weights (from allocations)."""
    position = bucket(exp.seed, visitor_id)
    if exp.running(now):
        if stored is not None and stored in exp.arms:
            return _assignment(exp.id, stored, "test", position, True)
        arms, shares = exp.test_shares
        i = choose(position, shares)
        return None if i < 0 else _assignment(exp.id, arms[i], "test", position, False)
    arm = pick(weights if weights is not None else after_weights(exp), position)
    return None if arm is None else _assignment(exp.id, arm, "after", position, False)


def _assignment(experiment: str, arm: str, phase: str, position: float, stored: bool
                ) -> Assignment:
    # Assignment(...) in a third of the time: a frozen dataclass's __init__ sets each field
    # through object.__setattr__; filling the instance's __dict__ at once gives the same object.
    a = object.__new__(Assignment)
    a.__dict__.update(experiment=experiment, arm=arm, phase=phase, position=position,
                      stored=stored)
    return a


def _normalise(w: Mapping[str, float]) -> dict[str, float]:
    total = sum(w.values())
    return {a: (v / total if total > 0 else 0.0) for a, v in w.items()}


def after_weights(exp: Experiment, counters: Counters | None = None, *,
                  draws: int = 10000) -> dict[str, float]:
    """Arm shares (summing to 1) once the test is over."""
    test = _normalise(exp.test_weights())
    control = test.pop(CONTROL, 0.0) if exp.after.keep_control else 0.0
    test.pop(CONTROL, None)
    variants = _normalise(test)
    a = exp.after
    if a.mode == "winner":
        winner: str | None = a.winner
        if winner == "auto":
            winner = _best(exp, counters, draws)
        if winner is not None:
            rest = [v for v in variants if v != winner]
            variants = {v: (a.share if v == winner else (1 - a.share) / len(rest))
                        for v in variants} if rest else {winner: 1.0}
    elif a.mode == "bandit" and _enough(exp, counters):
        assert counters is not None
        ids = list(variants)
        p = prob_best([_pair(counters, v, a.metric) for v in ids], draws=draws,
                      seed=hash32(exp.seed, "bandit"))
        free = 1.0 - a.floor * len(ids)
        variants = {v: a.floor + free * pv for v, pv in zip(ids, p, strict=True)}
    out = {v: w * (1.0 - control) for v, w in variants.items()}
    if control > 0:
        out[CONTROL] = control
    return out


def _pair(counters: Counters, arm: str, metric: str) -> tuple[int, int]:
    c = counters.get(arm, {})
    return int(c.get(metric, 0)), int(c.get("impressions", 0))


def _enough(exp: Experiment, counters: Counters | None) -> bool:
    if not counters:
        return False
    return all(int(counters.get(v.id, {}).get("impressions", 0)) >= exp.after.min_samples
               for v in exp.variants)


def _best(exp: Experiment, counters: Counters | None, draws: int) -> str | None:
    if not _enough(exp, counters):
        return None
    assert counters is not None
    ids = [v.id for v in exp.variants]
    p = prob_best([_pair(counters, v, exp.after.metric) for v in ids], draws=draws,
                  seed=hash32(exp.seed, "winner"))
    return ids[max(range(len(ids)), key=lambda i: (p[i], -i))]


def allocations(ruleset: RuleSet, counters: Mapping[str, Counters], now: float, *,
                draws: int = 10000) -> dict[str, dict[str, float]]:
    """Weights for every finished experiment, from counters per experiment and arm."""
    return {e.id: after_weights(e, counters.get(e.id), draws=draws)
            for e in ruleset.experiments.values() if not e.running(now)}
