"""Attribute view counts in a rule context: turned into int counts when a rule reads them."""

from __future__ import annotations

import json

from rules import Context, decide, parse_documents
from rules.context import AttributeViews, Views

RAW = {"rooms": {"3": 6.0, "2": 2.9, "4": 2.2}, "color": {"blue": 1.0}}


def test_reads_give_int_counts_and_copies_are_plain_dicts() -> None:
    views = AttributeViews(RAW)
    assert views.get("rooms") == {"3": 6, "2": 2, "4": 2}
    assert views.get("size") is None and views.get("size", {}) == {}
    assert "color" in views and len(views) == 2 and list(views) == ["rooms", "color"]
    ctx = Context(views=Views({"flats": 3}, views))
    data = ctx.to_dict()
    assert data["views"]["attributes"] == {"rooms": {"3": 6, "2": 2, "4": 2},
                                           "color": {"blue": 1}}
    again = Context.from_dict(json.loads(json.dumps(data)))
    assert again.views == ctx.views


def test_rules_on_attribute_views_decide_as_on_eager_counts() -> None:
    rs = parse_documents([("v.yaml", {"placements": [
        {"id": "top3", "slot": "a", "widget": "banner", "when": {"views": {"attribute": "rooms",
                                                                           "top": "3"}}},
        {"id": "two", "slot": "b", "widget": "banner",
         "when": {"views": {"attribute": "rooms", "value": "2", "count": {"gte": 3}}}},
        {"id": "blue", "slot": "c", "widget": "banner",
         "when": {"views": {"attribute": "color", "value": "blue", "count": {"gte": 1}}}},
    ]})])
    eager = Context(views=Views(attributes={a: {k: int(v) for k, v in c.items()}
                                            for a, c in RAW.items()}))
    lazy = Context(views=Views(attributes=AttributeViews(RAW)))
    assert decide(rs, lazy) == decide(rs, eager)
    assert set(decide(rs, lazy).slots) == {"a", "c"}  # 2.9 views count as 2
