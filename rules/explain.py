"""explain(ruleset, context) → a JSON-serialisable account of a decision: every segment and
placement considered, each condition (nested) with held/failed and the actual value, the caps
state, experiment assignments and why each placement was shown or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.context import Context
from rules.decide import Trace, blocked, popup_caps_reached, run
from rules.experiments import Weights, assign
from rules.model import Placement, RuleSet
from rules.tree import Env


def _caps(p: Placement, ctx: Context) -> dict[str, Any]:
    h = ctx.placements.get(p.id)
    out: dict[str, Any] = {}
    for scope in ("visit", "day", "lifetime"):
        limit = getattr(p.caps, scope)
        if limit is not None:
            seen = getattr(h.seen, scope) if h else 0
            out[scope] = {"limit": limit, "seen": seen, "held": seen < limit}
    if p.caps.stop_after_close:
        closed = h.closed.lifetime if h else 0
        out["stop_after_close"] = {"closed": closed, "held": closed == 0}
    if p.caps.stop_after_click:
        clicked = h.clicked.lifetime if h else 0
        out["stop_after_click"] = {"clicked": clicked, "held": clicked == 0}
    return out


def _placement(ruleset: RuleSet, p: Placement, env: Env, trace: Trace,
               weights: Mapping[str, Weights] | None) -> dict[str, Any]:
    ctx = env.ctx
    entry: dict[str, Any] = {"id": p.id, "kind": p.kind, "file": p.file,
                             "priority": p.priority, "group": p.group, "widget": p.widget,
                             "starts": p.starts, "ends": p.ends}
    if p.kind == "slot":
        entry["slot"] = p.slot
    elif p.kind == "popup":
        entry["trigger"] = p.trigger.to_dict()
    else:
        entry.update(offer=p.offer, expires=p.expires)
    reason = blocked(p, env)
    entry["checks"] = {
        "consents": {c: ctx.consents.get(c) is True for c in p.consents},
        "caps": _caps(p, ctx),
        "segments": {s: env.segment(s) for s in p.segments},
        "exclude_segments": {s: env.segment(s) for s in p.exclude_segments},
        "when": None if p.when is None else p.when.explain(env),
    }
    entry["qualifies"] = reason is None
    entry["reason"] = reason
    t = trace.get(p.id, {})
    entry["outcome"] = t.get("outcome", "not reached")
    entry["shown"] = t.get("shown", False)
    if p.experiment is not None:
        a = assign(ruleset.experiments[p.experiment], ctx.visitor_id, ctx.now,
                   stored=ctx.experiments.get(p.experiment),
                   weights=None if weights is None else weights.get(p.experiment))
        entry["experiment"] = None if a is None else a.to_dict()
    return entry


def explain(ruleset: RuleSet, context: Context, *,
            weights: Mapping[str, Weights] | None = None) -> dict[str, Any]:
    trace: Trace = {}
    decision = run(ruleset, context, weights, trace)
    env = Env(context, ruleset.segment_conds)
    return {
        "visitor_id": context.visitor_id,
        "now": context.now,
        "segments": [{"id": s.id, "file": s.file, "held": env.segment(s.id),
                      "condition": s.when.explain(env)} for s in ruleset.segments.values()],
        "placements": [_placement(ruleset, p, env, trace, weights) for p in ruleset.placements],
        "global_caps": {"popups_per_visit": ruleset.caps.popups_per_visit,
                        "popups_per_day": ruleset.caps.popups_per_day,
                        "blocked": popup_caps_reached(ruleset, context)},
        "decision": decision.to_dict(),
    }
