"""A placement's qualification checks, generated once at load time into one function.

``decide`` calls ``placement.gate(env)`` on the hot path; only the checks a placement actually
configures are in it, cheapest first, with its ``when`` inlined. ``rules.decide.blocked`` gives
the reason in words for explain (the same checks, unspecialised).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rules.tree import Env, Namespace, generate, segment_expr

if TYPE_CHECKING:
    from rules.model import Placement

Gate = Callable[[Env], bool]


def _caps(p: Placement) -> Gate | None:
    c = p.caps
    if (c.visit is None and c.day is None and c.lifetime is None and not c.stop_after_close
            and not c.stop_after_click):
        return None
    pid = p.id
    big = 1 << 62
    visit = big if c.visit is None else c.visit
    day = big if c.day is None else c.day
    life = big if c.lifetime is None else c.lifetime
    close, click = c.stop_after_close, c.stop_after_click

    def caps(env: Env) -> bool:
        h = env.ctx.placements.get(pid)
        if h is None:
            return True
        s = h.seen
        if s.visit >= visit or s.day >= day or s.lifetime >= life:
            return False
        if close and h.closed.lifetime > 0:
            return False
        return not (click and h.clicked.lifetime > 0)

    return caps


def build_gate(p: Placement) -> Gate:
    ns = Namespace()
    parts = [f"ctx.consents.get({ns.add(c)}) is True" for c in p.consents]
    if p.starts is not None:
        parts.append(f"ctx.now >= {ns.add(p.starts)}")
    if p.ends is not None:
        parts.append(f"ctx.now < {ns.add(p.ends)}")
    if p.expires is not None:
        parts.append(f"ctx.now < {ns.add(p.expires)}")
    caps = _caps(p)
    if caps is not None:
        parts.append(f"{ns.add(caps)}(env)")
    if p.trigger.page_views is not None:
        parts.append(f"ctx.session.page_views >= {ns.add(p.trigger.page_views)}")
    parts += [f"not {segment_expr(ns.add(s))}" for s in p.exclude_segments]
    parts += [segment_expr(ns.add(s)) for s in p.segments]
    if p.when is not None:
        parts.append(p.when.source(ns))
    return generate(parts, ns, "gate") or _closure_gate(p, caps)


def _closure_gate(p: Placement, caps: Gate | None) -> Gate:
    """The same checks as closures, for a ``when`` too large to generate code for."""
    consents, expires, views = p.consents, p.expires, p.trigger.page_views
    starts, ends = p.starts, p.ends
    excluded, required, when = p.exclude_segments, p.segments, p.when

    def gate(env: Env) -> bool:
        ctx = env.ctx
        return (all(ctx.consents.get(c) is True for c in consents)
                and (starts is None or ctx.now >= starts)
                and (ends is None or ctx.now < ends)
                and (expires is None or ctx.now < expires)
                and (caps is None or caps(env))
                and (views is None or ctx.session.page_views >= views)
                and not any(env.segment(s) for s in excluded)
                and all(env.segment(s) for s in required)
                and (when is None or when.test(env)))

    return gate
