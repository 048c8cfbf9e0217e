"""explain() shows every rule considered, each condition held or failed, caps and experiments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rules import Context, explain, parse_documents

NOW = 1763900000
RULES = {
    "groups": [{"id": "promo"}],
    "segments": [{"id": "vip", "when": {"profile": {"tier": "gold"}}}],
    "experiments": [{"id": "t", "variants": [{"id": "a"}, {"id": "b"}]}],
    "placements": [
        {"id": "exit", "kind": "popup", "group": "promo", "trigger": "exit_intent",
         "caps": {"visit": 2, "stop_after_close": True},
         "when": {"all": [{"session": {"page_views": {"gte": 5}}},
                          {"any": [{"segment": "vip"}, {"not": {"newsletter": True}}]}]}},
        {"id": "hero_vip", "slot": "hero", "widget": "banner", "priority": 5,
         "segments": ["vip"], "experiment": "t"},
        {"id": "hero_all", "slot": "hero", "widget": "banner"},
    ],
}


def placement(e: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in e["placements"] if p["id"] == pid)


def test_explain_nested_conditions_caps_and_outcomes() -> None:
    rs = parse_documents([("r.yaml", RULES)])
    ctx = Context.from_dict({"visitor_id": "x", "now": NOW, "profile": {"tier": "gold"},
                             "session": {"page_views": 4},
                             "placements": {"exit": {"seen": {"visit": 1}}}})
    e = explain(rs, ctx)
    assert json.loads(json.dumps(e)) == e

    assert e["segments"][0]["id"] == "vip" and e["segments"][0]["held"] is True
    assert e["segments"][0]["condition"]["conditions"][0] == {
        "type": "profile.tier", "expected": "gold", "actual": "gold", "held": True}

    ex = placement(e, "exit")
    assert ex["shown"] is False and ex["qualifies"] is False
    assert ex["reason"] == "conditions not met"
    when = ex["checks"]["when"]
    assert when["type"] == "all" and when["held"] is False
    views = when["conditions"][0]["conditions"][0]
    assert views == {"type": "session.page_views", "expected": {"gte": 5}, "actual": 4,
                     "held": False}
    alternatives = when["conditions"][1]
    assert alternatives["type"] == "any" and alternatives["held"] is True
    assert alternatives["conditions"][1]["type"] == "not"
    assert ex["checks"]["caps"] == {"visit": {"limit": 2, "seen": 1, "held": True},
                                    "stop_after_close": {"closed": 0, "held": True}}

    vip = placement(e, "hero_vip")
    assert vip["shown"] is True and vip["outcome"] == "shown"
    assert vip["checks"]["segments"] == {"vip": True}
    assert vip["experiment"]["experiment"] == "t"
    assert vip["experiment"]["arm"] in ("a", "b")
    assert vip["experiment"]["arm"] == e["decision"]["slots"]["hero"]["variant"]

    fallback = placement(e, "hero_all")
    assert fallback["qualifies"] is True and fallback["shown"] is False
    assert fallback["outcome"] == "slot hero taken by hero_vip"


def test_explain_reports_caps_reached() -> None:
    rs = parse_documents([("r.yaml", RULES)])
    ctx = Context.from_dict({"now": NOW, "session": {"page_views": 9},
                             "placements": {"exit": {"closed": {"lifetime": 1}}}})
    ex = placement(explain(rs, ctx), "exit")
    assert ex["reason"] == "cap: closed before" and ex["outcome"] == "cap: closed before"
    assert ex["checks"]["caps"]["stop_after_close"] == {"closed": 1, "held": False}
    assert ex["checks"]["when"]["held"] is True


def test_context_from_bad_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid context"):
        Context.from_dict({"session": {"page_views": "many"}})
    with pytest.raises(ValueError, match="invalid context"):
        Context.from_dict({"purchases": [{"currency": "PLN"}]})


def test_context_round_trips_through_json() -> None:
    data = {"visitor_id": "v", "now": NOW, "local_time": "2026-11-23T08:15:00+01:00",
            "page": {"page_type": "home", "slots": ["hero"]},
            "purchases": [{"value": 10.0, "currency": "PLN", "ts": 1.0}],
            "placements": {"p": {"seen": {"visit": 1, "day": 1, "lifetime": 2, "last": 5.0}}}}
    ctx = Context.from_dict(data)
    assert (ctx.hour, ctx.weekday) == (8, 0)
    again = Context.from_dict(json.loads(json.dumps(ctx.to_dict())))
    assert again == ctx


def test_explain_is_json_even_for_yaml_dates(tmp_path: Any) -> None:
    from rules import load_dir

    (tmp_path / "r.yaml").write_text(
        "segments: [{id: s, when: {profile: {signed: 2026-01-15}}}]\n", encoding="utf-8")
    rs = load_dir(tmp_path)
    e = explain(rs, Context.from_dict({"profile": {"signed": "2026-01-15"}}))
    leaf = e["segments"][0]["condition"]["conditions"][0]
    assert json.loads(json.dumps(leaf))["expected"] == "2026-01-15"
    assert e["segments"][0]["held"] is True  # the YAML date equals the same date as text
