"""Experiment results from the counters the store keeps per placement and variant."""

from __future__ import annotations

from typing import Any

from edge.store.recs import placement_stats
from rules import RuleSet

Counters = dict[str, dict[str, int]]


def experiment_counters(ruleset: RuleSet, stats: dict[str, dict[str, dict[str, int]]]
                        ) -> dict[str, Counters]:
    """Counters per experiment and arm, summed over the placements that run the experiment."""
    out: dict[str, Counters] = {}
    for placement in ruleset.placements:
        if not placement.experiment or placement.id not in stats:
            continue
        arms = out.setdefault(placement.experiment, {})
        for arm, values in stats[placement.id].items():
            into = arms.setdefault(arm, {})
            for name, n in values.items():
                into[name] = into.get(name, 0) + int(n)
    return out


async def load_experiment_counters(redis: Any, ruleset: RuleSet) -> dict[str, Counters]:
    return experiment_counters(ruleset, await placement_stats(redis))
