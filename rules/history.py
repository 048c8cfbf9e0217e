"""History conditions: purchases, cart, views and what happened to placements before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules.context import Counter
from rules.errors import RuleError
from rules.ops import compile_ops, glob_regex, globs_check
from rules.tree import DAY, Cond, Env, Getter, Scope, all_of, leaf, mapping, names

Builder = Callable[[Any, Scope, str], Cond]


def _only(spec: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    m = dict(mapping(spec, path))
    for key in m:
        if key not in allowed:
            raise RuleError(f"unknown field (known: {', '.join(allowed)})", field=f"{path}.{key}")
    return m


def _days(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise RuleError(f"expected a positive number of days, got {value!r}", field=path)
    return float(value)


def b_purchases(spec: Any, scope: Scope, path: str) -> Cond:
    """``purchases: {days: 30, currency: PLN, count: {gte: 2}, sum: {gte: 300},
    days_since_last: {lte: 60}}`` — days/currency narrow what count and sum look at."""
    m = _only(spec, path, ("days", "currency", "count", "sum", "days_since_last"))
    days = _days(m["days"], f"{path}.days") if "days" in m else None
    currency = m.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise RuleError("currency must be a code such as PLN", field=f"{path}.currency")
    key = ("purchases", days, currency)

    def window(env: Env) -> tuple[int, float]:
        got = env.memo.get(key)
        if got is None:
            ctx = env.ctx
            since = ctx.now - days * DAY if days is not None else None
            n, total = 0, 0.0
            for p in ctx.purchases:
                if (since is None or p.ts >= since) and (currency is None
                                                         or p.currency == currency):
                    n += 1
                    total += p.value
            got = env.memo[key] = (n, total)
        return got

    def since_last(env: Env) -> float | None:
        ts = [p.ts for p in env.ctx.purchases if currency is None or p.currency == currency]
        return (env.ctx.now - max(ts)) / DAY if ts else None

    parts = []
    if "count" in m:
        parts.append(leaf("purchases.count", m["count"], lambda env: window(env)[0],
                          compile_ops(m["count"], f"{path}.count"), "{0}(env)[0]", (window,)))
    if "sum" in m:
        parts.append(leaf("purchases.sum", m["sum"], lambda env: window(env)[1],
                          compile_ops(m["sum"], f"{path}.sum"), "{0}(env)[1]", (window,)))
    if "days_since_last" in m:
        parts.append(leaf("purchases.days_since_last", m["days_since_last"], since_last,
                          compile_ops(m["days_since_last"], f"{path}.days_since_last")))
    if not parts:
        raise RuleError("give count, sum or days_since_last", field=path)
    return all_of("purchases", spec, parts)


def b_cart(spec: Any, scope: Scope, path: str) -> Cond:
    """``cart: {value: {gte: 100}, items: {gte: 2}, lines: …, contains: SKU or [SKUs]}``."""
    m = _only(spec, path, ("value", "items", "lines", "contains"))
    parts = []
    if "value" in m:
        parts.append(leaf("cart.value", m["value"], lambda env: env.ctx.cart.value,
                          compile_ops(m["value"], f"{path}.value"), "ctx.cart.value"))
    if "items" in m:
        parts.append(leaf("cart.items", m["items"],
                          lambda env: sum(i.qty for i in env.ctx.cart.items),
                          compile_ops(m["items"], f"{path}.items")))
    if "lines" in m:
        parts.append(leaf("cart.lines", m["lines"], lambda env: len(env.ctx.cart.items),
                          compile_ops(m["lines"], f"{path}.lines")))
    if "contains" in m:
        skus = frozenset(names(m["contains"], f"{path}.contains"))
        parts.append(leaf("cart.contains", m["contains"],
                          lambda env: [i.sku for i in env.ctx.cart.items],
                          lambda v: any(s in skus for s in v)))
    if not parts:
        raise RuleError("give value, items, lines or contains", field=path)
    return all_of("cart", spec, parts)


def b_views(spec: Any, scope: Scope, path: str) -> Cond:
    """``views: {category: "shoes/*", count: {gte: 3}}``,
    ``views: {attribute: rooms, value: "3", count: {gte: 5}}`` or
    ``views: {attribute: rooms, top: "3"}`` (the most viewed value)."""
    m = _only(spec, path, ("category", "attribute", "value", "count", "top"))
    count = compile_ops(m.get("count", {"gte": 1}), f"{path}.count")
    if "category" in m:
        if "attribute" in m or "top" in m or "value" in m:
            raise RuleError("use either category or attribute", field=path)
        names(m["category"], f"{path}.category")
        match = globs_check(m["category"], f"{path}.category")
        key = ("views.category", match)

        def cat_views(env: Env) -> int:
            got = env.memo.get(key)
            if got is None:
                got = 0
                for c, n in env.ctx.views.categories.items():
                    if match(c):
                        got += n
                env.memo[key] = got
            return got
        return leaf("views.category", spec, cat_views, count, "{0}(env)", (cat_views,))
    attr = m.get("attribute")
    if not isinstance(attr, str) or not attr:
        raise RuleError("give a category or an attribute name", field=f"{path}.attribute")
    if "top" in m:
        if "value" in m or "count" in m:
            raise RuleError("'top' stands alone: drop value/count", field=f"{path}.top")

        def top(env: Env) -> str | None:
            vals = env.ctx.views.attributes.get(attr)
            # Ties go to the smallest value so the answer is stable.
            return min(vals.items(), key=lambda kv: (-kv[1], kv[0]))[0] if vals else None
        return leaf("views.top", spec, top, compile_ops(m["top"], f"{path}.top"))
    if "value" not in m:
        raise RuleError("give value (with count) or top", field=f"{path}.value")
    value = str(m["value"])
    return leaf("views.attribute", spec,
                lambda env: env.ctx.views.attributes.get(attr, {}).get(value, 0), count)


_SCOPES = ("visit", "day", "lifetime")


def b_placement(event: str) -> Builder:
    """``seen: promo_x`` or ``seen: {placement: "promo_*" | group: promo, others: true,
    within_days: 7, count: {gte: 2}, per: visit|day|lifetime}`` (clicked/closed alike).
    Holds when any matching placement's history meets it."""

    def build(spec: Any, scope: Scope, path: str) -> Cond:
        m = {"placement": spec} if isinstance(spec, str) else _only(
            spec, path, ("placement", "group", "others", "within_days", "count", "per"))
        ids: frozenset[str] | None = None
        rx = None
        if "group" in m:
            g = m["group"]
            if g not in scope.groups:
                raise RuleError(f"unknown campaign group {g!r}", field=f"{path}.group")
            ids = scope.groups[g]
        if "placement" in m:
            pid = m["placement"]
            if not isinstance(pid, str) or not pid:
                raise RuleError("expected a placement id or glob", field=f"{path}.placement")
            if any(ch in pid for ch in "*?["):
                rx = glob_regex(pid, f"{path}.placement")
            else:
                if pid not in scope.placements:
                    raise RuleError(f"unknown placement {pid!r}", field=f"{path}.placement")
                ids = frozenset({pid}) if ids is None else ids & {pid}
        if ids is None and rx is None:
            raise RuleError("give a placement (id or glob) or a group", field=path)
        others = m.get("others", False)
        if not isinstance(others, bool):
            raise RuleError("expected true or false", field=f"{path}.others")
        skip = scope.owner if others else None
        within = _days(m["within_days"], f"{path}.within_days") if "within_days" in m else None
        per = m.get("per", "lifetime")
        if per not in _SCOPES:
            raise RuleError(f"expected one of {', '.join(_SCOPES)}", field=f"{path}.per")
        count = compile_ops(m.get("count", {"gte": 1}), f"{path}.count")

        def hit(c: Counter, now: float) -> bool:
            if within is not None and (c.last is None or c.last < now - within * DAY):
                return False
            return count(getattr(c, per))

        def matching(env: Env) -> list[str]:
            out = []
            hist = env.ctx.placements
            candidates = hist.keys() if ids is None else [i for i in ids if i in hist]
            for pid in candidates:
                if pid == skip or (rx is not None and not rx.match(pid)):
                    continue
                if hit(getattr(hist[pid], event), env.ctx.now):
                    out.append(pid)
            return sorted(out)

        actual: Getter = matching
        return Cond(event, spec, lambda env: bool(matching(env)) if env.ctx.placements else False,
                    actual=actual)

    return build
