"""The compiled form of conditions: :class:`Cond` nodes evaluated against an :class:`Env`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.context import Context
from rules.errors import RuleError
from rules.ops import Check

DAY = 86400.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Env:
    """Per-decision evaluation state: the context plus memoised segments and aggregates."""

    __slots__ = ("ctx", "_segment_conds", "_segments", "memo")

    def __init__(self, ctx: Context, segment_conds: Mapping[str, Cond]):
        self.ctx = ctx
        self._segment_conds = segment_conds
        self._segments: dict[str, bool] = {}
        self.memo: dict[Any, Any] = {}

    def segment(self, name: str) -> bool:
        held = self._segments.get(name)
        if held is None:
            held = self._segments[name] = self._segment_conds[name].test(self)
        return held


Test = Callable[[Env], bool]
Getter = Callable[[Env], Any]


@dataclass(frozen=True)
class Scope:
    """What a condition may refer to; checked at load time so typos fail early."""

    segments: frozenset[str] = frozenset()
    placements: frozenset[str] = frozenset()
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    owner: str | None = None  # the placement being compiled, for "seen: {others: true}"


@dataclass(eq=False)
class Cond:
    kind: str
    expected: Any
    test: Test
    children: tuple[Cond, ...] = ()
    actual: Getter | None = None

    def explain(self, env: Env) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.children:
            out["conditions"] = [c.explain(env) for c in self.children]
        else:
            out["expected"] = self.expected
            if self.actual is not None:
                out["actual"] = self.actual(env)
        out["held"] = self.test(env)
        return out


def leaf(kind: str, expected: Any, getter: Getter, check: Check) -> Cond:
    return Cond(kind, expected, lambda env: check(getter(env)), actual=getter)


def all_of(kind: str, expected: Any, parts: list[Cond]) -> Cond:
    if len(parts) == 1 and kind == "all":
        return parts[0]
    tests = tuple(p.test for p in parts)
    if len(tests) == 1:
        t0 = tests[0]
        return Cond(kind, expected, t0, tuple(parts))
    if len(tests) == 2:
        a, b = tests
        return Cond(kind, expected, lambda env: a(env) and b(env), tuple(parts))
    return Cond(kind, expected, lambda env: all(t(env) for t in tests), tuple(parts))


def mapping(spec: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise RuleError(f"expected a mapping, got {type(spec).__name__}", field=path)
    return spec


def names(spec: Any, path: str) -> list[str]:
    items = spec if isinstance(spec, list) else [spec]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise RuleError(f"expected a name or a list of names, got {spec!r}", field=path)
    return items
