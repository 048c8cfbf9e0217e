"""The shared table of cases (rules/cases.json): rules and contexts in, decisions out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rules import Context, decide, explain, parse_documents
from rules.hashing import bucket, fnv1a32, hash32

CASES = json.loads((Path(__file__).resolve().parents[2] / "rules" / "cases.json")
                   .read_text(encoding="utf-8"))


def _cases() -> list[Any]:
    out = []
    for suite in CASES["suites"]:
        for case in suite["cases"]:
            out.append(pytest.param(suite, case, id=f"{suite['name']} | {case['name']}"))
    return out


@pytest.mark.parametrize(("suite", "case"), _cases())
def test_case(suite: dict[str, Any], case: dict[str, Any]) -> None:
    ruleset = parse_documents([(f"{suite['name']}.yaml", suite["rules"])])
    ctx = Context.from_dict(case["context"])
    d = decide(ruleset, ctx)
    expect = case["expect"]
    if "segments" in expect:
        assert d.segments == expect["segments"]
    if "slots" in expect:
        assert {s: f.placement for s, f in d.slots.items()} == expect["slots"]
    if "popup" in expect:
        assert (d.popup.placement if d.popup else None) == expect["popup"]
    if "trigger" in expect:
        assert d.popup is not None and d.popup.trigger == expect["trigger"]
    if "inbox" in expect:
        assert [o.placement for o in d.inbox] == expect["inbox"]
    if "inbox_languages" in expect:
        assert [o.language for o in d.inbox] == expect["inbox_languages"]
    for slot, arm in expect.get("variants", {}).items():
        assert d.slots[slot].variant == arm
    for slot, params in expect.get("params", {}).items():
        assert d.slots[slot].params == params
    for slot, widget in expect.get("widgets", {}).items():
        assert d.slots[slot].widget == widget
    if "assignments" in expect:
        assert d.assignments == expect["assignments"]
    if "impressions" in expect:
        assert [[i.placement, i.variant, i.shown] for i in d.impressions] == expect["impressions"]

    # explain() tells the same story and survives a JSON round trip.
    e = json.loads(json.dumps(explain(ruleset, ctx)))
    assert e["decision"] == json.loads(json.dumps(d.to_dict()))
    assert [s["id"] for s in e["segments"] if s["held"]] == d.segments
    shown = {p["id"] for p in e["placements"] if p["shown"]}
    assert shown == {i.placement for i in d.impressions if i.shown}


def test_every_case_suite_checks_something() -> None:
    for suite in CASES["suites"]:
        assert suite["cases"], suite["name"]
        for case in suite["cases"]:
            assert case["expect"], case["name"]


@pytest.mark.parametrize(("text", "value"), CASES["hashing"]["fnv1a32"])
def test_fnv1a_published_vectors(text: str, value: int) -> None:
    assert fnv1a32(text.encode()) == value


@pytest.mark.parametrize(("seed", "visitor", "h", "b"), CASES["hashing"]["buckets"])
def test_bucket_reference_outputs(seed: str, visitor: str, h: int, b: float) -> None:
    assert hash32(seed, visitor) == h
    assert bucket(seed, visitor) == b
