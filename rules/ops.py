"""Value tests used by every condition: ``{gte: 5}``, ``[a, b]`` (in), ``"x"`` (eq), …

A spec is compiled once, at load time, into a ``Callable[[Any], bool]``. A missing value
(``None``) fails every test except ``ne``, ``not_in`` and ``exists: false``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from rules.errors import RuleError

Check = Callable[[Any], bool]

OPS = ("eq", "ne", "in", "not_in", "contains", "gt", "gte", "lt", "lte", "exists", "matches",
       "glob", "before", "after")


def to_epoch(v: Any) -> float | None:
    """Epoch seconds from an ISO date(-time) (no offset: UTC), a date, or a number (seconds,
    or milliseconds when it is that large); None when ``v`` is none of these."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v / 1000.0 if v > 1e11 else float(v)
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            return None
    if isinstance(v, date) and not isinstance(v, datetime):
        v = datetime(v.year, v.month, v.day)
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()
    return None


def _plain(arg: Any) -> Any:
    # YAML and TOML turn 2026-01-15 into a date; profiles hold the same as text.
    if isinstance(arg, (date, datetime)):
        return arg.isoformat()
    if isinstance(arg, list):
        return [_plain(a) for a in arg]
    return arg


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _same(a: Any, b: Any) -> bool:
    # Profiles come from many systems: "42" and 42 count as equal, strings compare as written.
    if a == b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    na, nb = _num(a), _num(b)
    return na is not None and na == nb


def glob_regex(pattern: str, field: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise RuleError(f"expected a glob pattern (text), got {pattern!r}", field=field)
    return re.compile(fnmatch.translate(pattern))


def globs_regex(spec: Any, field: str) -> re.Pattern[str]:
    """One compiled regex for a glob or a list of globs (matching any of them)."""
    items = spec if isinstance(spec, list) else [spec]
    if not items:
        raise RuleError("expected a glob pattern or a list of them", field=field)
    for item in items:
        glob_regex(item, field)
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in items))


def globs_check(spec: Any, field: str) -> Check:
    """A test for text matching a glob or any of a list of globs. Plain text and "prefix*"
    patterns (the usual ones) skip the regex engine."""
    items = spec if isinstance(spec, list) else [spec]
    rx = globs_regex(spec, field)
    exact = frozenset(p for p in items if not any(ch in p for ch in "*?["))
    prefixes = tuple(p[:-1] for p in items
                     if p.endswith("*") and not any(ch in p[:-1] for ch in "*?["))
    if len(exact) + len(prefixes) == len(items):
        if not prefixes:
            return lambda v: v in exact
        if not exact:
            return lambda v: type(v) is str and v.startswith(prefixes)
        return lambda v: type(v) is str and (v in exact or v.startswith(prefixes))
    match = rx.match
    return lambda v: type(v) is str and match(v) is not None


def regex(pattern: Any, field: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise RuleError(f"expected a regular expression (text), got {pattern!r}", field=field)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"invalid regular expression {pattern!r}: {exc}", field=field) from None


def _equals(arg: Any) -> Check:
    """Equality against a fixed value, specialised at load time (the hot path is plain ==)."""
    if isinstance(arg, bool):
        return lambda v: v is arg
    n = _num(arg)
    if n is None:  # not a number: only the same value matches
        return lambda v: v == arg
    return lambda v: (v == arg and type(v) is not bool) or (type(v) is str and _num(v) == n)


def _member(items: list[Any]) -> Check:
    if all(isinstance(x, str) and _num(x) is None for x in items):
        texts = frozenset(items)
        return lambda v: type(v) is str and v in texts
    tests = [_equals(x) for x in items]
    return lambda v: any(t(v) for t in tests)


def _compare(op: str, n: float) -> Check:
    # Ints and floats compare directly; anything else (e.g. "42" from a CRM import) is parsed.
    def gt(v: Any) -> bool:
        t = type(v)
        if t is int or t is float:
            return v > n
        x = _num(v)
        return x is not None and x > n

    def gte(v: Any) -> bool:
        t = type(v)
        if t is int or t is float:
            return v >= n
        x = _num(v)
        return x is not None and x >= n

    def lt(v: Any) -> bool:
        t = type(v)
        if t is int or t is float:
            return v < n
        x = _num(v)
        return x is not None and x < n

    def lte(v: Any) -> bool:
        t = type(v)
        if t is int or t is float:
            return v <= n
        x = _num(v)
        return x is not None and x <= n

    return {"gt": gt, "gte": gte, "lt": lt, "lte": lte}[op]


def _one(op: str, arg: Any, field: str) -> Check:
    if op in ("before", "after"):
        at = to_epoch(arg)
        if at is None:
            raise RuleError(f"'{op}' needs a date or date-time, got {arg!r}", field=field)
        if op == "before":
            return lambda v: (t := to_epoch(v)) is not None and t < at
        return lambda v: (t := to_epoch(v)) is not None and t > at
    arg = _plain(arg)
    if op in ("eq", "ne"):
        same = _equals(arg)
        if op == "eq":
            return lambda v: v is not None and same(v)
        return lambda v: not same(v)
    if op in ("in", "not_in"):
        if not isinstance(arg, list):
            raise RuleError(f"'{op}' needs a list, got {arg!r}", field=field)
        member = _member(list(arg))
        if op == "in":
            return lambda v: v is not None and member(v)
        return lambda v: not member(v)
    if op == "contains":
        def contains(v: Any) -> bool:
            if isinstance(v, str):
                return isinstance(arg, str) and arg.lower() in v.lower()
            if isinstance(v, (list, tuple, set)):
                return any(_same(x, arg) for x in v)
            if isinstance(v, Mapping):
                return arg in v
            return False
        return contains
    if op in ("gt", "gte", "lt", "lte"):
        n = _num(arg)
        if n is None:
            raise RuleError(f"'{op}' needs a number, got {arg!r}", field=field)
        return _compare(op, n)
    if op == "exists":
        if not isinstance(arg, bool):
            raise RuleError(f"'exists' needs true or false, got {arg!r}", field=field)
        if arg:
            return lambda v: v is not None and v != "" and v != [] and v != {}
        return lambda v: v is None or v == "" or v == [] or v == {}
    if op == "matches":
        rx = regex(arg, field)
        return lambda v: isinstance(v, str) and rx.search(v) is not None
    if op == "glob":
        rx = glob_regex(arg, field)
        return lambda v: isinstance(v, str) and rx.match(v) is not None
    raise RuleError(f"unknown operator {op!r} (known: {', '.join(OPS)})", field=field)


def compile_ops(spec: Any, field: str) -> Check:
    """Compile a value test: a scalar means eq, a list means in, a mapping holds operators
    that must all hold."""
    if isinstance(spec, list):
        return _one("in", spec, field)
    if isinstance(spec, Mapping):
        if not spec:
            raise RuleError("an empty test matches nothing useful; give an operator", field=field)
        checks = [_one(str(op), arg, f"{field}.{op}") for op, arg in spec.items()]
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            a, b = checks
            return lambda v: a(v) and b(v)
        return lambda v: all(c(v) for c in checks)
    if spec is None:
        raise RuleError("a value is needed", field=field)
    return _one("eq", spec, field)
