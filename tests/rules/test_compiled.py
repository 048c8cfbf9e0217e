"""Generated condition code decides exactly like the condition tree it was generated from."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import Context, parse_documents
from rules.conditions import Scope, build_condition, compile_condition
from rules.errors import RuleError
from rules.tree import Env

NOW = 1763900000
SCOPE = Scope(segments=frozenset({"vip"}), placements=frozenset({"p1"}))
SEGMENTS = {"vip": compile_condition({"profile": {"tier": "gold"}}, SCOPE)}

nums = st.integers(min_value=-1, max_value=12)
num_test = st.one_of(nums, st.lists(nums, min_size=1, max_size=3),
                     st.builds(lambda op, n: {op: n}, st.sampled_from(["gt", "gte", "lt", "lte",
                                                                       "eq", "ne"]), nums))
text_test = st.one_of(st.sampled_from(["gold", "silver", "42"]),
                      st.builds(lambda op, v: {op: v},
                                st.sampled_from(["eq", "ne", "contains", "matches", "glob"]),
                                st.sampled_from(["gold", "ol", "^s", "g*"])),
                      st.builds(lambda b: {"exists": b}, st.booleans()))

leaves = st.one_of(
    st.builds(lambda t: {"page": {"type": t}}, st.sampled_from(["home", ["home", "product"]])),
    st.builds(lambda c: {"page": {"category": c}},
              st.sampled_from(["shoes/*", "shoes", ["bags", "shoes/r?n*"]])),
    st.just({"page": {"url_regex": "promo=", "path_regex": "^/c/"}}),
    st.builds(lambda f, t: {"session": {f: t}},
              st.sampled_from(["page_views", "seconds_on_site", "minutes_on_site"]), num_test),
    st.builds(lambda t: {"session": {"utm_source": t}}, text_test),
    st.builds(lambda k, t: {"profile": {k: t}}, st.sampled_from(["tier", "info.level"]),
              st.one_of(text_test, num_test)),
    st.builds(lambda t: {"preferences": {"size": t}}, num_test),
    st.just({"segment": "vip"}),
    st.builds(lambda f, t: {"purchases": {"days": 30, f: t}}, st.sampled_from(["sum", "count"]),
              num_test),
    st.builds(lambda t: {"cart": {"value": t}}, num_test),
    st.builds(lambda t: {"views": {"category": "shoes/*", "count": t}}, num_test),
    st.just({"consent": "marketing"}),
    st.builds(lambda t: {"language": t}, text_test),
    st.builds(lambda t: {"device": t}, st.sampled_from(["mobile", ["mobile", "tablet"]])),
    st.builds(lambda t: {"time": {"hour": t}}, num_test),
    st.builds(lambda d: {"seen": {"placement": "p1", "within_days": d}}, st.integers(1, 5)),
    st.builds(lambda b: {"newsletter": b}, st.booleans()),
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
        st.builds(lambda a, b: {**a, **b}, inner, inner),
    ),
    max_leaves=12,
)

contexts = st.builds(
    lambda page_type, category, url, views, seconds, tier, level, size, spend, consent, lang,
    device, hour, seen_days, newsletter: Context.from_dict({
        "now": NOW,
        "page": {"page_type": page_type, "category": category, "url": url,
                 "path": url.split("?")[0]},
        "session": {"page_views": views, "seconds_on_site": seconds,
                    "utm": {"source": tier or ""}},
        "profile": {"tier": tier, "info": {"level": level}} if tier is not None else {},
        "preferences": {"size": size},
        "purchases": [{"value": spend, "currency": "PLN", "ts": NOW - 86400}] if spend else [],
        "cart": {"items": [{"sku": "a", "qty": 1, "price": spend}]},
        "views": {"categories": {category: views}} if category else {},
        "consents": {"marketing": consent},
        "language": lang, "device": device,
        "local_time": f"2026-11-23T{hour:02d}:00:00+01:00",
        "placements": {"p1": {"seen": {"lifetime": 1, "last": NOW - seen_days * 86400}}},
        "newsletter": newsletter}),
    st.sampled_from(["home", "product", "category", ""]),
    st.sampled_from(["shoes/running", "shoes", "bags", ""]),
    st.sampled_from(["/c/shoes?promo=x", "/p/1", "/"]),
    nums, st.integers(0, 600), st.sampled_from([None, "gold", "silver", "42", 42]),
    st.one_of(nums, st.text(max_size=3)), st.one_of(nums, st.just("7")), st.integers(0, 12),
    st.booleans(), st.sampled_from(["pl", "en", ""]), st.sampled_from(["mobile", "desktop"]),
    st.integers(0, 23), st.integers(0, 6), st.booleans())


@settings(max_examples=400, deadline=None)
@given(spec=conditions, ctx=contexts)
def test_generated_code_matches_the_tree(spec: dict[str, Any], ctx: Context) -> None:
    generated = compile_condition(spec, SCOPE)
    tree = build_condition(spec, SCOPE)
    held = tree.test(Env(ctx, SEGMENTS))
    assert generated.test(Env(ctx, SEGMENTS)) == held
    assert generated.explain(Env(ctx, SEGMENTS))["held"] == held


def nested(levels: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"session": {"page_views": {"gte": 2}}}
    for _ in range(levels):
        spec = {"not": {"not": spec}}
    return spec


def test_deep_rules_fall_back_to_the_tree() -> None:
    # Too many nested parentheses for Python's compiler: the closures decide instead.
    rs = parse_documents([("deep.yaml", {"segments": [{"id": "deep", "when": nested(120)}]})])
    cond = rs.segment_conds["deep"]
    assert cond.test.__name__ != "_when"
    for views, held in ((3, True), (1, False)):
        ctx = Context.from_dict({"session": {"page_views": views}})
        assert cond.test(Env(ctx, rs.segment_conds)) is held


def test_absurdly_deep_rules_are_an_error() -> None:
    with pytest.raises(RuleError, match="nested too deeply") as info:
        parse_documents([("deep.yaml", {"segments": [{"id": "deep", "when": nested(2000)}]})])
    assert info.value.file == "deep.yaml"


def test_rule_text_never_becomes_code() -> None:
    # Names and values from rule files reach generated code only as constants.
    key = "x')) or __import__('os') or (('"
    spec = {"profile": {key: "1) or True or (1"}, "session": {"utm_a') or ('": "b"}}
    cond = compile_condition(spec, SCOPE)
    assert cond.test.__name__ == "_when"
    plain = Context.from_dict({"profile": {key: "nope"}})
    assert cond.test(Env(plain, SEGMENTS)) is False
    exact = Context.from_dict({"profile": {key: "1) or True or (1"},
                               "session": {"utm": {"a') or ('": "b"}}})
    assert cond.test(Env(exact, SEGMENTS)) is True
