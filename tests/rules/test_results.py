"""Experiment results (CTR, uplift, probability of being best) and the weights after a test."""

from __future__ import annotations

import math

import pytest

from rules import parse_documents
from rules.experiments import after_weights, allocations
from rules.model import CONTROL
from rules.results import prob_best, summarize


def _lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def p_b_beats_a(sa: int, ta: int, sb: int, tb: int) -> float:
    """Closed form of P(p_B > p_A) for Beta(1+s, 1+t-s) posteriors (integer parameters)."""
    a, b, c, d = 1 + sa, 1 + ta - sa, 1 + sb, 1 + tb - sb
    return sum(math.exp(_lbeta(a + i, b + d) - math.log(d + i) - _lbeta(1 + i, d)
                        - _lbeta(a, b)) for i in range(c))


@pytest.mark.parametrize(("a", "b"), [((10, 100), (15, 100)), ((30, 1000), (42, 1000)),
                                      ((5, 40), (5, 40)), ((0, 10), (1, 10))])
def test_prob_best_matches_the_closed_form(a: tuple[int, int], b: tuple[int, int]) -> None:
    p = prob_best([a, b], draws=40000, seed=3)
    assert math.isclose(sum(p), 1.0)
    assert abs(p[1] - p_b_beats_a(*a, *b)) < 0.015


def test_prob_best_is_reproducible_and_ranks() -> None:
    arms = [(20, 1000), (40, 1000), (25, 1000), (30, 1000)]
    assert prob_best(arms, seed=7) == prob_best(arms, seed=7)
    p = prob_best(arms, seed=7)
    assert max(range(4), key=lambda i: p[i]) == 1
    assert p[1] > 0.8
    assert prob_best([(1, 2)]) == [1.0] and prob_best([]) == []


def test_summarize_clicks_baseline_is_first_variant() -> None:
    s = summarize({"a": {"impressions": 1000, "clicks": 50},
                   "b": {"impressions": 1000, "clicks": 60, "conversions": 6},
                   CONTROL: {"impressions": 500}}, seed=1)
    assert s["baseline"] == "a"
    arms = s["arms"]
    assert arms["a"]["ctr"] == 0.05 and arms["a"]["uplift"] is None
    assert arms["b"]["ctr"] == 0.06 and arms["b"]["uplift"] == pytest.approx(0.2)
    assert arms["b"]["conversion_rate"] == 0.006
    assert arms[CONTROL]["p_best"] is None  # a control shows nothing to click
    assert arms["a"]["p_best"] + arms["b"]["p_best"] == pytest.approx(1.0)


def test_summarize_conversions_against_control() -> None:
    s = summarize({"a": {"impressions": 1000, "conversions": 30},
                   CONTROL: {"impressions": 1000, "conversions": 20}}, metric="conversions")
    assert s["baseline"] == CONTROL
    assert s["arms"]["a"]["uplift"] == pytest.approx(0.5)
    assert s["arms"]["a"]["p_best"] > 0.9
    with pytest.raises(ValueError, match="baseline"):
        summarize({"a": {"impressions": 1}}, baseline="zzz")


def rules(after: dict[str, object], control: float = 0.0) -> object:
    return parse_documents([("e.yaml", {"experiments": [{
        "id": "e", "status": "finished", "control": control,
        "variants": [{"id": "a", "weight": 1}, {"id": "b", "weight": 3}], "after": after}]})])


COUNTS = {"a": {"impressions": 500, "clicks": 10}, "b": {"impressions": 500, "clicks": 40}}


def test_after_keep_drops_the_control_unless_kept() -> None:
    assert after_weights(rules({}, 1.0).experiments["e"]) == pytest.approx({"a": 0.25, "b": 0.75})
    kept = after_weights(rules({"keep_control": True}, 1.0).experiments["e"])
    assert kept == pytest.approx({"a": 0.2, "b": 0.6, CONTROL: 0.2})


def test_after_winner_explicit_and_auto() -> None:
    assert after_weights(rules({"mode": "winner", "winner": "a", "share": 0.8})
                         .experiments["e"]) == pytest.approx({"a": 0.8, "b": 0.2})
    auto = rules({"mode": "winner", "share": 0.9, "min_samples": 100}).experiments["e"]
    # No counters yet: the test weights stay.
    assert after_weights(auto) == pytest.approx({"a": 0.25, "b": 0.75})
    assert after_weights(auto, COUNTS) == pytest.approx({"a": 0.1, "b": 0.9})


def test_bandit_waits_for_samples_then_moves_with_a_floor() -> None:
    exp = rules({"mode": "bandit", "floor": 0.1, "min_samples": 600}).experiments["e"]
    assert after_weights(exp, COUNTS) == pytest.approx({"a": 0.25, "b": 0.75})  # under min_samples
    exp = rules({"mode": "bandit", "floor": 0.1, "min_samples": 100}).experiments["e"]
    w = after_weights(exp, COUNTS)
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["a"] >= 0.1 and w["b"] > 0.85
    assert after_weights(exp, COUNTS) == w  # reproducible
    even = {"a": {"impressions": 500, "clicks": 25}, "b": {"impressions": 500, "clicks": 25}}
    assert abs(after_weights(exp, even)["a"] - 0.5) < 0.05


def test_allocations_only_for_finished_experiments() -> None:
    rs = parse_documents([("e.yaml", {"experiments": [
        {"id": "running", "variants": [{"id": "a"}]},
        {"id": "over", "ends": "2020-01-01T00:00:00Z", "variants": [{"id": "a"}, {"id": "b"}],
         "after": {"mode": "winner", "winner": "b", "share": 1.0}}]})])
    assert allocations(rs, {}, now=1763900000) == {"over": {"a": 0.0, "b": 1.0}}


def test_bandit_without_a_minimum_tolerates_missing_arms() -> None:
    exp = rules({"mode": "bandit", "floor": 0.1, "min_samples": 0}).experiments["e"]
    w = after_weights(exp, {"b": {"impressions": 10, "clicks": 5}})
    assert sum(w.values()) == pytest.approx(1.0) and w["a"] >= 0.1
