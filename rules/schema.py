"""Field-level validation of rule entries (one :class:`Reader` per entry), so every error
names its file, rule and field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from rules.conditions import Scope, compile_condition
from rules.errors import RuleError
from rules.model import (
    CONTROL,
    KINDS,
    TRIGGERS,
    After,
    Caps,
    Experiment,
    Placement,
    Trigger,
    Variant,
)

MAX_VARIANTS = 4
_MISSING = object()


class Reader:
    def __init__(self, data: Mapping[str, Any], file: str, rule: str):
        self.data, self.file, self.rule = data, file, rule

    def error(self, message: str, field: str | None = None) -> RuleError:
        return RuleError(message, file=self.file, rule=self.rule, field=field)

    def only(self, allowed: tuple[str, ...], prefix: str = "", data: Any = None) -> None:
        for key in (self.data if data is None else data):
            if key not in allowed:
                raise self.error(f"unknown field (known: {', '.join(allowed)})",
                                 f"{prefix}{key}")

    def get(self, key: str, default: Any = _MISSING) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error("required field is missing", key)
        return default

    def text(self, key: str, default: Any = _MISSING) -> Any:
        v = self.get(key, default)
        if v is not default and not isinstance(v, str):
            raise self.error(f"expected text, got {v!r}", key)
        return v

    def count(self, key: str, default: Any = _MISSING, *, field: str | None = None) -> Any:
        v = self.get(key, default)
        if v is default:
            return v
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.error(f"expected a whole number ≥ 0, got {v!r}", field or key)
        return v

    def number(self, key: str, default: Any = _MISSING, *, lo: float = 0.0,
               hi: float | None = None, field: str | None = None) -> Any:
        v = self.get(key, default)
        if v is default:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo or (
                hi is not None and v > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f"≥ {lo}"
            raise self.error(f"expected a number {bound}, got {v!r}", field or key)
        return float(v)

    def flag(self, key: str, default: bool = False) -> bool:
        v = self.get(key, default)
        if not isinstance(v, bool):
            raise self.error(f"expected true or false, got {v!r}", key)
        return v

    def mapping(self, key: str) -> Mapping[str, Any]:
        v = self.get(key, {})
        if not isinstance(v, Mapping):
            raise self.error(f"expected a mapping, got {type(v).__name__}", key)
        return v

    def names(self, key: str) -> tuple[str, ...]:
        v = self.get(key, [])
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise self.error(f"expected a name or a list of names, got {v!r}", key)
        return tuple(items)

    def timestamp(self, key: str) -> float | None:
        v = self.get(key, None)
        if v is None:
            return None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        if isinstance(v, date) and not isinstance(v, datetime):
            v = datetime.combine(v, time(0), tzinfo=UTC)
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v)
            except ValueError:
                raise self.error(f"expected an ISO date-time, got {v!r}", key) from None
        if not isinstance(v, datetime):
            raise self.error(f"expected an ISO date-time, got {v!r}", key)
        if v.tzinfo is None:  # a date-time without offset is taken as UTC
            v = v.replace(tzinfo=UTC)
        return v.timestamp()

    def condition(self, key: str, scope: Scope) -> Any:
        if key not in self.data:
            return None
        try:
            return compile_condition(self.data[key], scope, key)
        except RuleError as exc:
            raise exc.located(file=self.file, rule=self.rule) from None


def read_experiment(r: Reader) -> Experiment:
    r.only(("id", "description", "seed", "variants", "control", "ends", "status", "after"))
    raw = r.get("variants")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_VARIANTS:
        raise r.error(f"give 1 to {MAX_VARIANTS} variants (plus an optional control)",
                      "variants")
    variants: list[Variant] = []
    for i, v in enumerate(raw):
        f = f"variants[{i}]"
        if not isinstance(v, Mapping):
            raise r.error("expected a mapping with an id", f)
        vr = Reader(v, r.file, r.rule)
        vr.only(("id", "weight", "widget", "params", "description"), f"{f}.")
        vid = v.get("id")
        if not isinstance(vid, str) or not vid or vid == CONTROL:
            raise r.error(f"each variant needs an id other than {CONTROL!r}", f"{f}.id")
        if any(x.id == vid for x in variants):
            raise r.error(f"duplicate variant id {vid!r}", f"{f}.id")
        widget = vr.text("widget", None)
        variants.append(Variant(vid, vr.number("weight", 1.0, field=f"{f}.weight"),
                                widget, dict(vr.mapping("params"))))
    control = r.get("control", 0.0)
    if control is True:
        control = sum(v.weight for v in variants) / len(variants)
    elif control is False:
        control = 0.0
    else:
        control = r.number("control", 0.0)
    if sum(v.weight for v in variants) + control <= 0:
        raise r.error("at least one arm needs a weight above 0", "variants")
    status = r.text("status", "running")
    if status not in ("running", "finished"):
        raise r.error("expected running or finished", "status")
    return Experiment(r.rule, r.file, r.text("seed", r.rule), tuple(variants), control,
                      r.timestamp("ends"), status, _read_after(r, variants))


def _read_after(r: Reader, variants: list[Variant]) -> After:
    a = r.mapping("after")
    ar = Reader(a, r.file, r.rule)
    ar.only(("mode", "winner", "share", "floor", "min_samples", "metric", "keep_control"),
            "after.")
    mode = a.get("mode", "keep")
    if mode not in ("keep", "winner", "bandit"):
        raise r.error("expected keep, winner or bandit", "after.mode")
    winner = a.get("winner", "auto")
    if winner != "auto" and winner not in {v.id for v in variants}:
        raise r.error(f"winner {winner!r} is not a variant (or use auto)", "after.winner")
    metric = a.get("metric", "clicks")
    if metric not in ("clicks", "conversions"):
        raise r.error("expected clicks or conversions", "after.metric")
    floor = ar.number("floor", 0.05, hi=1.0 / len(variants), field="after.floor")
    return After(mode, winner, ar.number("share", 0.9, hi=1.0, field="after.share"), floor,
                 ar.count("min_samples", 100, field="after.min_samples"), metric,
                 ar.flag("keep_control", False))


_COMMON = ("id", "kind", "description", "priority", "when", "segments", "exclude_segments",
           "consents", "caps", "group", "experiment", "widget", "params", "variant_params",
           "starts", "ends")
_BY_KIND = {"slot": ("slot",), "popup": ("trigger",), "inbox": ("offer", "texts", "url",
                                                                  "expires")}


def _kind(r: Reader) -> str:
    kind = r.get("kind", None)
    if kind is None:
        found = [k for k, keys in _BY_KIND.items() if keys[0] in r.data]
        if len(found) != 1:
            raise r.error(f"say which kind of placement this is ({', '.join(KINDS)})", "kind")
        return found[0]
    if kind not in KINDS:
        raise r.error(f"expected one of {', '.join(KINDS)}", "kind")
    return str(kind)


def _caps(r: Reader) -> Caps:
    c = r.mapping("caps")
    cr = Reader(c, r.file, r.rule)
    cr.only(("visit", "day", "lifetime", "stop_after_close", "stop_after_click"), "caps.")
    return Caps(visit=cr.count("visit", None, field="caps.visit"),
                day=cr.count("day", None, field="caps.day"),
                lifetime=cr.count("lifetime", None, field="caps.lifetime"),
                stop_after_close=cr.flag("stop_after_close"),
                stop_after_click=cr.flag("stop_after_click"))


def _trigger(r: Reader) -> Trigger:
    t = r.get("trigger", "immediate")
    if isinstance(t, str):
        t = {"type": t}
    if not isinstance(t, Mapping):
        raise r.error("expected a trigger type or a mapping with type", "trigger")
    tr = Reader(t, r.file, r.rule)
    tr.only(("type", "seconds", "percent", "count"), "trigger.")
    kind = t.get("type")
    if kind not in TRIGGERS:
        raise r.error(f"expected one of {', '.join(TRIGGERS)}", "trigger.type")
    if kind == "delay":
        return Trigger(kind, seconds=tr.number("seconds", field="trigger.seconds"))
    if kind == "scroll":
        pct = tr.number("percent", lo=1, hi=100, field="trigger.percent")
        return Trigger(kind, percent=int(pct))
    if kind == "page_views":
        return Trigger(kind, page_views=tr.count("count", field="trigger.count"))
    if len(t) > 1:
        raise r.error(f"a {kind} trigger takes no other fields", "trigger")
    return Trigger(kind)


def _texts(r: Reader) -> Mapping[str, Mapping[str, str]]:
    texts = r.get("texts")
    if not isinstance(texts, Mapping) or not texts:
        raise r.error("expected texts per language: {en: {title: …, body: …}}", "texts")
    for lang, t in texts.items():
        if not isinstance(t, Mapping) or not isinstance(t.get("title"), str) or not all(
                isinstance(v, str) for v in t.values()):
            raise r.error("each language needs a title (and body, cta…) as text",
                          f"texts.{lang}")
    return {str(k): dict(v) for k, v in texts.items()}


def read_placement(r: Reader, order: int, scope: Scope,
                   experiments: Mapping[str, Experiment]) -> Placement:
    kind = _kind(r)
    r.only(_COMMON + _BY_KIND[kind])
    priority = r.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise r.error(f"expected a whole number, got {priority!r}", "priority")
    for key in ("segments", "exclude_segments"):
        for s in r.names(key):
            if s not in scope.segments:
                raise r.error(f"unknown segment {s!r}", key)
    exp = r.text("experiment", None)
    if exp is not None and exp not in experiments:
        raise r.error(f"unknown experiment {exp!r}", "experiment")
    vp = r.mapping("variant_params")
    for arm, params in vp.items():
        if exp is None or arm not in experiments[exp].arms or arm == CONTROL:
            raise r.error("variant_params needs an experiment and one of its variant ids",
                          f"variant_params.{arm}")
        if not isinstance(params, Mapping):
            raise r.error("expected a mapping of params", f"variant_params.{arm}")
    widget = r.text("widget", {"popup": "popup", "inbox": "inbox"}.get(kind, _MISSING))
    fields: dict[str, Any] = {}
    if kind == "slot":
        fields["slot"] = r.text("slot")
    elif kind == "popup":
        fields["trigger"] = _trigger(r)
    else:
        fields.update(offer=r.text("offer"), texts=_texts(r), url=r.text("url", ""),
                      expires=r.timestamp("expires"))
    starts, ends = r.timestamp("starts"), r.timestamp("ends")
    if starts is not None and ends is not None and ends <= starts:
        raise r.error("ends must be after starts", "ends")
    return Placement(
        id=r.rule, starts=starts, ends=ends, kind=kind, file=r.file, order=order, priority=priority,
        when=r.condition("when", scope), segments=r.names("segments"),
        exclude_segments=r.names("exclude_segments"), consents=r.names("consents"),
        caps=_caps(r), group=r.text("group", None), experiment=exp, widget=widget,
        params=dict(r.mapping("params")), variant_params={k: dict(v) for k, v in vp.items()},
        **fields)
