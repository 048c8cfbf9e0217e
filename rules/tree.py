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

    __slots__ = ("ctx", "_segment_conds", "segments", "memo")

    def __init__(self, ctx: Context, segment_conds: Mapping[str, Cond]):
        self.ctx = ctx
        self._segment_conds = segment_conds
        # Segment id → held, filled on first use (generated code reads it directly).
        self.segments: dict[str, bool] = {}
        self.memo: dict[Any, Any] = {}

    def segment(self, name: str) -> bool:
        held = self.segments.get(name)
        if held is None:
            held = self.segments[name] = self._segment_conds[name].test(self)
        return held


def jsonable(value: Any) -> Any:
    """``value`` with anything JSON cannot hold (a YAML date, a set) turned into text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


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
    """A compiled condition. ``op`` is "and"/"or"/"not" for compositions, "leaf" otherwise.
    A leaf with ``path`` (a Python expression over ``env``/``ctx``, with ``{0}``… standing
    for ``consts``) is inlined by :func:`generate` as ``check(path)``, or as ``path`` alone
    when it has no ``check``."""

    kind: str
    expected: Any
    test: Test
    children: tuple[Cond, ...] = ()
    actual: Getter | None = None
    op: str = "leaf"
    path: str | None = None
    consts: tuple[Any, ...] = ()
    check: Check | None = None

    def explain(self, env: Env) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind}
        if self.children:
            out["conditions"] = [c.explain(env) for c in self.children]
        else:
            out["expected"] = jsonable(self.expected)
            if self.actual is not None:
                out["actual"] = jsonable(self.actual(env))
        out["held"] = self.test(env)
        return out

    def source(self, ns: Namespace) -> str:
        """This condition as one Python expression over ``env`` and ``ctx``."""
        if self.op in ("and", "or"):
            return "(" + f" {self.op} ".join(c.source(ns) for c in self.children) + ")"
        if self.op == "not":
            return f"(not {self.children[0].source(ns)})"
        if self.path is not None:
            value = self.path.format(*(ns.add(c) for c in self.consts))
            return value if self.check is None else f"{ns.add(self.check)}({value})"
        return f"{ns.add(self.test)}(env)"


def segment_expr(ref: str) -> str:
    """A memoised segment lookup as an expression (``ref`` names the segment id constant)."""
    return f"(_s if (_s := env.segments.get({ref})) is not None else env.segment({ref}))"


class Namespace:
    """Constants referenced by generated code, by name."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._names: dict[int, str] = {}

    def add(self, obj: Any) -> str:
        name = self._names.get(id(obj))
        if name is None:
            name = self._names[id(obj)] = f"_k{len(self._names)}"
            self.values[name] = obj
        return name


MAX_SOURCE = 20000  # characters; past this (absurdly nested rules) closures are used


def generate(parts: list[str], ns: Namespace, name: str = "test") -> Test | None:
    """One function ``env -> bool`` that ands ``parts`` (expressions from :meth:`source`),
    or None when the expression is too large or nested for the compiler.

    Why: a condition tree of closures costs three Python calls per leaf; one generated
    function with the leaves' getters inlined costs one call per leaf and none per and/or.
    Only code built here from validated rules is compiled; rule text never becomes code:
    every value from a rule file is passed in as a constant from ``ns``.
    """
    body = " and ".join(parts) if parts else "True"
    if len(body) > MAX_SOURCE:
        return None
    code = f"def _{name}(env):\n    ctx = env.ctx\n    return bool({body})\n"
    scope = dict(ns.values)
    try:
        exec(compile(code, f"<rules {name}>", "exec"), scope)  # noqa: S102
    except (SyntaxError, RecursionError, MemoryError):  # too many nested parentheses
        return None
    fn: Test = scope[f"_{name}"]
    return fn


def leaf(kind: str, expected: Any, getter: Getter, check: Check, path: str | None = None,
         consts: tuple[Any, ...] = ()) -> Cond:
    return Cond(kind, expected, lambda env: check(getter(env)), actual=getter, path=path,
                consts=consts, check=check)


def all_of(kind: str, expected: Any, parts: list[Cond]) -> Cond:
    if len(parts) == 1 and kind == "all":
        return parts[0]
    tests = tuple(p.test for p in parts)
    if len(tests) == 1:
        t0 = tests[0]
        return Cond(kind, expected, t0, tuple(parts), op="and")
    if len(tests) == 2:
        a, b = tests
        return Cond(kind, expected, lambda env: a(env) and b(env), tuple(parts), op="and")
    return Cond(kind, expected, lambda env: all(t(env) for t in tests), tuple(parts), op="and")


def mapping(spec: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise RuleError(f"expected a mapping, got {type(spec).__name__}", field=path)
    return spec


def names(spec: Any, path: str) -> list[str]:
    items = spec if isinstance(spec, list) else [spec]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise RuleError(f"expected a name or a list of names, got {spec!r}", field=path)
    return items
