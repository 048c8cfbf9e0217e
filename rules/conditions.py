"""Conditions: compiled once at load time into closures over an :class:`Env`.

A condition is a mapping. Several keys in one mapping must all hold; ``all``/``any``/``not``
compose. The leaf types (see docs/rules.md for each field)::

    page, session, profile, preferences, segment, purchases, cart, views, consent,
    language, device, time, seen, clicked, closed, newsletter

Each compiled :class:`Cond` has a fast ``test(env) -> bool`` and an ``explain(env) -> dict``
that shows every sub-condition with its expected and actual value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from rules import history as _history
from rules.errors import RuleError
from rules.ops import Check, compile_ops, globs_check, regex, to_epoch
from rules.tree import DAY, WEEKDAYS, Cond, Env, Getter, Namespace, Scope, generate, segment_expr
from rules.tree import all_of as _all
from rules.tree import leaf as _leaf
from rules.tree import mapping as _mapping
from rules.tree import names as _names

__all__ = ["Cond", "Env", "Scope", "compile_condition"]


def compile_condition(spec: Any, scope: Scope, path: str = "when") -> Cond:
    """Compile one condition (a mapping) or a list of them (all must hold) into a tree whose
    root ``test`` is one generated function."""
    cond = build_condition(spec, scope, path)
    ns = Namespace()
    fast = generate([cond.source(ns)], ns, "when")
    if fast is not None:
        cond.test = fast
    return cond


def build_condition(spec: Any, scope: Scope, path: str = "when") -> Cond:
    if isinstance(spec, list):
        return _all("all", None, [build_condition(s, scope, f"{path}[{i}]")
                                  for i, s in enumerate(spec)])
    spec = _mapping(spec, path)
    if not spec:
        raise RuleError("an empty condition; leave 'when' out to match everyone", field=path)
    parts = []
    for key, value in spec.items():
        builder = _BUILDERS.get(key)
        if builder is None:
            raise RuleError(f"unknown condition {key!r} (known: {', '.join(_BUILDERS)})",
                            field=f"{path}.{key}")
        parts.append(builder(value, scope, f"{path}.{key}"))
    return _all("all", None, parts)


# --- composition -------------------------------------------------------------------------

def _b_all(spec: Any, scope: Scope, path: str) -> Cond:
    if not isinstance(spec, list) or not spec:
        raise RuleError("'all' needs a non-empty list of conditions", field=path)
    parts = [build_condition(s, scope, f"{path}[{i}]") for i, s in enumerate(spec)]
    return _all("all", None, parts) if len(parts) > 1 else Cond("all", None, parts[0].test,
                                                                 (parts[0],), op="and")


def _b_any(spec: Any, scope: Scope, path: str) -> Cond:
    if not isinstance(spec, list) or not spec:
        raise RuleError("'any' needs a non-empty list of conditions", field=path)
    parts = [build_condition(s, scope, f"{path}[{i}]") for i, s in enumerate(spec)]
    tests = tuple(p.test for p in parts)
    return Cond("any", None, lambda env: any(t(env) for t in tests), tuple(parts), op="or")


def _b_not(spec: Any, scope: Scope, path: str) -> Cond:
    inner = build_condition(spec, scope, path)
    t = inner.test
    return Cond("not", None, lambda env: not t(env), (inner,), op="not")


# --- page and session --------------------------------------------------------------------

def _searcher(rx: re.Pattern[str]) -> Check:
    search = rx.search
    return lambda v: search(v) is not None


def _b_page(spec: Any, scope: Scope, path: str) -> Cond:
    parts = []
    for key, value in _mapping(spec, path).items():
        p = f"{path}.{key}"
        if key in ("url", "path"):
            getter: Getter = ((lambda env: env.ctx.page.url) if key == "url"
                              else (lambda env: env.ctx.page.path))
            parts.append(_leaf(f"page.{key}", value, getter, globs_check(value, p),
                               f"ctx.page.{key}"))
        elif key in ("url_regex", "path_regex"):
            rx = regex(value, p)
            getter = ((lambda env: env.ctx.page.url) if key == "url_regex"
                      else (lambda env: env.ctx.page.path))
            parts.append(_leaf(f"page.{key}", value, getter, _searcher(rx),
                               f"ctx.page.{key.removesuffix('_regex')}"))
        elif key in ("type", "page_type"):
            kinds = frozenset(_names(value, p))
            parts.append(_leaf("page.type", value, lambda env: env.ctx.page.page_type,
                               kinds.__contains__, "ctx.page.page_type"))
        elif key == "product":
            parts.append(_leaf("page.product", value, lambda env: env.ctx.page.product or None,
                               compile_ops(value, p), "(ctx.page.product or None)"))
        elif key == "category":
            parts.append(_leaf("page.category", value, lambda env: env.ctx.page.category,
                               globs_check(value, p), "ctx.page.category"))
        else:
            raise RuleError("unknown page field (known: url, url_regex, path, path_regex, "
                            "type, product, category)", field=p)
    return _all("page", spec, parts)


_SESSION: dict[str, tuple[Getter, str]] = {
    "seconds_on_site": (lambda env: env.ctx.session.seconds_on_site,
                        "ctx.session.seconds_on_site"),
    "minutes_on_site": (lambda env: env.ctx.session.seconds_on_site / 60.0,
                        "(ctx.session.seconds_on_site / 60.0)"),
    "page_views": (lambda env: env.ctx.session.page_views, "ctx.session.page_views"),
    "visit_number": (lambda env: env.ctx.session.visit_number, "ctx.session.visit_number"),
    "referrer": (lambda env: env.ctx.session.referrer, "ctx.session.referrer"),
}


def _b_session(spec: Any, scope: Scope, path: str) -> Cond:
    parts = []
    for key, value in _mapping(spec, path).items():
        p = f"{path}.{key}"
        known = _SESSION.get(key)
        consts: tuple[Any, ...] = ()
        if known is None and key.startswith("utm_"):
            name = key[4:]
            known = (lambda env, name=name: env.ctx.session.utm.get(name),
                     "ctx.session.utm.get({0})")
            consts = (name,)
        if known is None:
            raise RuleError(f"unknown session field (known: {', '.join(_SESSION)}, utm_*)",
                            field=p)
        parts.append(_leaf(f"session.{key}", value, known[0], compile_ops(value, p), known[1],
                           consts))
    return _all("session", spec, parts)


# --- profile, preferences, segments, consents, language, device -------------------------

def _dig(d: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    cur: Any = d
    for k in keys:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(k)
    return cur


def _attr_getter(source: str, keys: tuple[str, ...]) -> Getter:
    if len(keys) == 1:
        k = keys[0]
        if source == "profile":
            return lambda env: env.ctx.profile.get(k)
        return lambda env: env.ctx.preferences.get(k)
    if source == "profile":
        return lambda env: _dig(env.ctx.profile, keys)
    return lambda env: _dig(env.ctx.preferences, keys)


def _days_since(getter: Getter) -> Getter:
    def days(env: Env) -> float | None:
        at = to_epoch(getter(env))
        return None if at is None else (env.ctx.now - at) / DAY
    return days


def _attrs(source: str) -> Callable[[Any, Scope, str], Cond]:
    def build(spec: Any, scope: Scope, path: str) -> Cond:
        parts = []
        for key, value in _mapping(spec, path).items():
            keys = tuple(str(key).split("."))
            if isinstance(value, Mapping) and "days_since" in value:
                # profile: {test_drive: {days_since: {lte: 14}}} — a date attribute's age.
                if len(value) != 1:
                    raise RuleError("'days_since' stands alone", field=f"{path}.{key}")
                parts.append(_leaf(f"{source}.{key}.days_since", value["days_since"],
                                   _days_since(_attr_getter(source, keys)),
                                   compile_ops(value["days_since"],
                                               f"{path}.{key}.days_since")))
                continue
            src, consts = ((f"ctx.{source}.get({{0}})", (keys[0],)) if len(keys) == 1
                           else (f"{{0}}(ctx.{source}, {{1}})", (_dig, keys)))
            parts.append(_leaf(f"{source}.{key}", value, _attr_getter(source, keys),
                               compile_ops(value, f"{path}.{key}"), src, consts))
        return _all(source, spec, parts)
    return build


def _b_segment(spec: Any, scope: Scope, path: str) -> Cond:
    names = _names(spec, path)
    for n in names:
        if n not in scope.segments:
            raise RuleError(f"unknown segment {n!r}", field=path)
    if len(names) == 1:
        n = names[0]
        return Cond("segment", spec, lambda env: env.segment(n),
                    actual=lambda env: [n] if env.segment(n) else [], path=segment_expr("{0}"),
                    consts=(n,))
    return Cond("segment", spec, lambda env: any(env.segment(x) for x in names),
                actual=lambda env: [x for x in names if env.segment(x)])


def _b_consent(spec: Any, scope: Scope, path: str) -> Cond:
    names = tuple(_names(spec, path))
    return Cond("consent", spec, lambda env: all(env.ctx.consents.get(n) is True for n in names),
                actual=lambda env: {n: env.ctx.consents.get(n, False) for n in names})


def _b_simple(kind: str, getter: Getter, src: str) -> Callable[[Any, Scope, str], Cond]:
    def build(spec: Any, scope: Scope, path: str) -> Cond:
        return _leaf(kind, spec, getter, compile_ops(spec, path), src)
    return build


def _b_newsletter(spec: Any, scope: Scope, path: str) -> Cond:
    if not isinstance(spec, bool):
        raise RuleError(f"'newsletter' needs true or false, got {spec!r}", field=path)
    return _leaf("newsletter", spec, lambda env: env.ctx.newsletter,
                 (lambda v: v is True) if spec else (lambda v: v is False), "ctx.newsletter")


def _b_time(spec: Any, scope: Scope, path: str) -> Cond:
    parts = []
    for key, value in _mapping(spec, path).items():
        p = f"{path}.{key}"
        if key == "hour":
            parts.append(_leaf("time.hour", value, lambda env: env.ctx.hour,
                               compile_ops(value, p), "ctx.hour"))
        elif key == "weekday":
            days = set()
            for d in value if isinstance(value, list) else [value]:
                if isinstance(d, str) and d[:3].lower() in WEEKDAYS:
                    days.add(WEEKDAYS.index(d[:3].lower()))
                elif isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6:
                    days.add(d)
                else:
                    raise RuleError(f"weekday {d!r}: use mon…sun or 0 (Monday)…6", field=p)
            names = frozenset(WEEKDAYS[d] for d in days)
            parts.append(_leaf("time.weekday", value,
                               lambda env: (None if env.ctx.weekday is None
                                            else WEEKDAYS[env.ctx.weekday]),
                               names.__contains__))
        else:
            raise RuleError("unknown time field (known: hour, weekday)", field=p)
    return _all("time", spec, parts)


_BUILDERS: dict[str, Callable[[Any, Scope, str], Cond]] = {
    "all": _b_all,
    "any": _b_any,
    "not": _b_not,
    "page": _b_page,
    "session": _b_session,
    "profile": _attrs("profile"),
    "preferences": _attrs("preferences"),
    "segment": _b_segment,
    "purchases": _history.b_purchases,
    "cart": _history.b_cart,
    "views": _history.b_views,
    "consent": _b_consent,
    "language": _b_simple("language", lambda env: env.ctx.language or None,
                          "(ctx.language or None)"),
    "device": _b_simple("device", lambda env: env.ctx.device or None, "(ctx.device or None)"),
    "time": _b_time,
    "seen": _history.b_placement("seen"),
    "clicked": _history.b_placement("clicked"),
    "closed": _history.b_placement("closed"),
    "newsletter": _b_newsletter,
}
