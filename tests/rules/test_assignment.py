"""Properties of experiment assignment: shares follow weights, assignment is sticky (also
across an anonymous → known merge) and independent between experiments."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from rules import Context, decide, parse_documents
from rules.experiments import assign
from rules.hashing import bucket, choose, fmix32, fnv1a32, hash32
from rules.model import CONTROL, Experiment, Variant

N = 4000
NOW = 1763900000.0


def experiment(seed: str, weights: list[float], control: float = 0.0) -> Experiment:
    variants = tuple(Variant(f"v{i}", w) for i, w in enumerate(weights))
    return Experiment("e", "e.yaml", seed, variants, control)


def within(observed: int, p: float, n: int) -> bool:
    # Five standard deviations: a false alarm about once in 3.5 million checks.
    return abs(observed / n - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-9


seeds = st.text(min_size=1, max_size=20)
weights = st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, w=weights, control=st.integers(min_value=0, max_value=10),
       prefix=st.text(max_size=8))
def test_shares_match_weights(seed: str, w: list[int], control: int, prefix: str) -> None:
    exp = experiment(seed, [float(x) for x in w], float(control))
    counts: dict[str, int] = {}
    for i in range(N):
        a = assign(exp, f"{prefix}{i}", NOW)
        assert a is not None
        counts[a.arm] = counts.get(a.arm, 0) + 1
    total = sum(w) + control
    expected = {f"v{i}": x / total for i, x in enumerate(w)}
    if control:
        expected[CONTROL] = control / total
    assert set(counts) <= set(expected)
    for arm, p in expected.items():
        assert within(counts.get(arm, 0), p, N), (arm, counts, expected)


@settings(max_examples=50, deadline=None)
@given(seed=seeds, w=weights, visitor=st.text(max_size=40))
def test_sticky_across_calls(seed: str, w: list[int], visitor: str) -> None:
    exp = experiment(seed, [float(x) for x in w], 1.0)
    first = assign(exp, visitor, NOW)
    again = assign(experiment(seed, [float(x) for x in w], 1.0), visitor, NOW + 86400)
    assert first is not None and again is not None
    assert first.arm == again.arm and first.position == again.position


RULES = {
    "experiments": [{"id": "hero_test", "variants": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                     "control": 1}],
    "placements": [{"id": "hero", "slot": "hero", "widget": "banner",
                    "experiment": "hero_test"}],
}


@settings(max_examples=50, deadline=None)
@given(visitor=st.text(min_size=1, max_size=30))
def test_sticky_across_a_merge(visitor: str) -> None:
    rs = parse_documents([("hero.yaml", RULES)])
    anonymous = Context.from_dict({"visitor_id": visitor, "now": NOW,
                                   "session": {"visit_number": 1}})
    # After login the profile is merged into the known contact; the edge passes the stable id.
    known = Context.from_dict({"visitor_id": visitor, "now": NOW + 3600,
                               "profile": {"email": "x@example.com", "first_name": "Ola"},
                               "session": {"visit_number": 2, "page_views": 7}})
    d1, d2 = decide(rs, anonymous), decide(rs, known)
    assert d1.assignments == d2.assignments
    assert d1.assignments["hero_test"] in ("a", "b", "c", CONTROL)


@settings(max_examples=15, deadline=None)
@given(seed_a=seeds, seed_b=seeds)
def test_independent_between_experiments(seed_a: str, seed_b: str) -> None:
    if seed_a == seed_b:
        seed_b += "-2"
    ea, eb = experiment(seed_a, [1.0, 1.0]), experiment(seed_b, [1.0, 1.0])
    cells: dict[tuple[str, str], int] = {}
    for i in range(N):
        a, b = assign(ea, f"visitor-{i}", NOW), assign(eb, f"visitor-{i}", NOW)
        assert a is not None and b is not None
        cells[(a.arm, b.arm)] = cells.get((a.arm, b.arm), 0) + 1
    for x in ("v0", "v1"):
        for y in ("v0", "v1"):
            assert within(cells.get((x, y), 0), 0.25, N), cells


def test_stored_arm_wins_while_running_only() -> None:
    exp = experiment("s", [1.0, 1.0])
    natural = assign(exp, "visitor-7", NOW)
    assert natural is not None
    other = "v1" if natural.arm == "v0" else "v0"
    stored = assign(exp, "visitor-7", NOW, stored=other)
    assert stored is not None and (stored.arm, stored.stored) == (other, True)
    unknown = assign(exp, "visitor-7", NOW, stored="gone")  # a removed arm is ignored
    assert unknown is not None and unknown.arm == natural.arm
    finished = Experiment("e", "e.yaml", "s", exp.variants, ends=NOW - 1)
    after = assign(finished, "visitor-7", NOW, stored=other)
    assert after is not None and after.phase == "after" and after.stored is False


@given(position=st.floats(min_value=0, max_value=1, exclude_max=True),
       w=st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=5))
def test_choose_picks_a_weighted_arm(position: float, w: list[float]) -> None:
    i = choose(position, w)
    if sum(w) <= 0:
        assert i == -1
    else:
        assert 0 <= i < len(w) and w[i] > 0


@given(seed=st.text(), visitor=st.text())
def test_bucket_in_unit_interval(seed: str, visitor: str) -> None:
    assert 0.0 <= bucket(seed, visitor) < 1.0


@given(seed=st.text(), visitor=st.text())
def test_the_hash_goes_on_from_the_seeds_state_as_over_the_whole_key(seed: str,
                                                                     visitor: str) -> None:
    assert hash32(seed, visitor) == fmix32(fnv1a32(f"{seed}:{visitor}".encode()))
