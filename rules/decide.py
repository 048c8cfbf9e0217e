"""decide(ruleset, context) → Decision: the pure heart of the edge.

Placements are walked once, highest priority first (ties: declaration order):

* a **slot** placement fills its slot if the slot is still free (and on the page, when the
  context lists the page's slots);
* a **pop-up** is taken if no pop-up was chosen yet and the global pop-up caps allow one;
* an **inbox** offer is delivered whenever it qualifies and has not expired;
* a placement in a **campaign group** is skipped once another of the group was taken.

A placement qualifies when its consents are given, its frequency caps are not reached, it was
not closed/clicked (when it stops after that), it is in none of ``exclude_segments``, in all of
``segments`` and its ``when`` holds. With an experiment, the visitor's arm picks the variant;
the control arm shows nothing (the slot falls to the next placement) and counts an exposure.
Cheap checks run first, and placements that cannot win are not evaluated at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.context import Context
from rules.decision import Decision, Impression, InboxOffer, Popup, SlotFill
from rules.experiments import Assignment, Weights, assign
from rules.model import CONTROL, Placement, RuleSet
from rules.tree import Env

Trace = dict[str, dict[str, Any]]


def blocked(p: Placement, env: Env) -> str | None:
    """Why ``p`` does not qualify for this visitor now, or None when it does."""
    ctx = env.ctx
    for c in p.consents:
        if ctx.consents.get(c) is not True:
            return f"consent {c} not given"
    if p.starts is not None and ctx.now < p.starts:
        return "schedule: not started"
    if p.ends is not None and ctx.now >= p.ends:
        return "schedule: ended"
    if p.expires is not None and ctx.now >= p.expires:
        return "expired"
    h = ctx.placements.get(p.id)
    if h is not None:
        caps = p.caps
        seen = h.seen
        if caps.visit is not None and seen.visit >= caps.visit:
            return "cap: visit"
        if caps.day is not None and seen.day >= caps.day:
            return "cap: day"
        if caps.lifetime is not None and seen.lifetime >= caps.lifetime:
            return "cap: lifetime"
        if caps.stop_after_close and h.closed.lifetime > 0:
            return "cap: closed before"
        if caps.stop_after_click and h.clicked.lifetime > 0:
            return "cap: clicked before"
    tv = p.trigger.page_views
    if tv is not None and ctx.session.page_views < tv:
        return "trigger: not enough page views yet"
    for s in p.exclude_segments:
        if env.segment(s):
            return f"in excluded segment {s}"
    for s in p.segments:
        if not env.segment(s):
            return f"not in segment {s}"
    if p.when is not None and not p.when.test(env):
        return "conditions not met"
    return None


def popup_caps_reached(ruleset: RuleSet, ctx: Context) -> str | None:
    caps = ruleset.caps
    if caps.popups_per_visit is None and caps.popups_per_day is None:
        return None
    visit = day = 0
    for pid in ruleset.popup_ids:
        h = ctx.placements.get(pid)
        if h is not None:
            visit += h.seen.visit
            day += h.seen.day
    if caps.popups_per_visit is not None and visit >= caps.popups_per_visit:
        return "global cap: pop-ups per visit"
    if caps.popups_per_day is not None and day >= caps.popups_per_day:
        return "global cap: pop-ups per day"
    return None


def _content(p: Placement, ruleset: RuleSet, arm: str | None) -> tuple[str, dict[str, Any]]:
    params = dict(p.params)
    widget = p.widget
    if arm is not None and p.experiment is not None:
        v = ruleset.experiments[p.experiment].variant(arm)
        if v is not None:
            params.update(v.params)
            widget = v.widget or widget
        params.update(p.variant_params.get(arm, {}))
    return widget, params


def _inbox(p: Placement, ctx: Context, params: dict[str, Any], exp: str | None,
           arm: str | None) -> InboxOffer:
    lang = ctx.language if ctx.language in p.texts else next(iter(p.texts))
    return InboxOffer(p.id, p.offer, lang, dict(p.texts[lang]), p.url, p.expires, params,
                      exp, arm)


def run(ruleset: RuleSet, ctx: Context, weights: Mapping[str, Weights] | None,
        trace: Trace | None) -> Decision:
    """The one decision loop; with ``trace`` it also records why each placement was or was not
    shown (reasons are only put into words then: formatting them costs more than deciding)."""
    env = Env(ctx, ruleset.segment_conds)
    d = Decision()
    filled = d.slots
    page_slots = ctx.page.slots
    groups: dict[str, str] = {}
    popup_block = popup_caps_reached(ruleset, ctx) if ruleset.popup_ids else None
    placements = ruleset.placements if trace is not None else ruleset.candidates(page_slots)
    for p in placements:
        kind = p.kind
        if kind == "slot":
            if p.slot in filled or (page_slots is not None and p.slot not in page_slots):
                if trace is not None:
                    trace[p.id] = {"shown": False, "outcome": (
                        f"slot {p.slot} taken by {filled[p.slot].placement}"
                        if p.slot in filled else f"slot {p.slot} not on this page")}
                continue
        elif kind == "popup" and (d.popup is not None or popup_block is not None):
            if trace is not None:
                trace[p.id] = {"shown": False, "outcome": popup_block if d.popup is None else
                               f"pop-up {d.popup.placement} chosen already (one per page)"}
            continue
        group = p.group
        if group is not None and group in groups:
            if trace is not None:
                trace[p.id] = {"shown": False,
                               "outcome": f"group {group} taken by {groups[group]}"}
            continue
        if not p.gate(env):
            if trace is not None:
                trace[p.id] = {"shown": False, "outcome": blocked(p, env)}
            continue
        arm = exp_id = None
        a: Assignment | None = None
        if p.experiment is not None:
            exp_id = p.experiment
            a = assign(ruleset.experiments[exp_id], ctx.visitor_id, ctx.now,
                       stored=ctx.experiments.get(exp_id),
                       weights=None if weights is None else weights.get(exp_id))
            if a is None:
                if trace is not None:
                    trace[p.id] = {"outcome": "no arm has weight", "shown": False}
                continue
            arm = a.arm
            d.assignments[exp_id] = arm
            if arm == CONTROL:
                d.impressions.append(Impression(p.id, kind, exp_id, CONTROL, False))
                if trace is not None:
                    trace[p.id] = {"outcome": "control arm: nothing shown", "shown": False,
                                   "assignment": a.to_dict()}
                continue
        widget, params = _content(p, ruleset, arm)
        if kind == "slot":
            filled[p.slot] = SlotFill(p.slot, p.id, widget, params, exp_id, arm)
        elif kind == "popup":
            d.popup = Popup(p.id, widget, params, p.trigger.to_dict(), exp_id, arm)
        else:
            d.inbox.append(_inbox(p, ctx, params, exp_id, arm))
        d.impressions.append(Impression(p.id, kind, exp_id, arm, True))
        if group is not None:
            groups[group] = p.id
        if trace is not None:
            trace[p.id] = {"outcome": "shown", "shown": True}
            if a is not None:
                trace[p.id]["assignment"] = a.to_dict()
    held, segment = env.segments, env.segment
    d._segment_source = lambda: [s for s in ruleset.segment_conds
                                 if (held[s] if s in held else segment(s))]
    return d


def decide(ruleset: RuleSet, context: Context, *,
           weights: Mapping[str, Weights] | None = None) -> Decision:
    """What this visitor gets on this page. ``weights``: after-test arm shares per experiment,
    from :func:`rules.experiments.allocations` (optional)."""
    return run(ruleset, context, weights, None)
