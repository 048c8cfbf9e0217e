"""The widget extension point.

A widget turns a :class:`~widgets.context.RenderContext` and validated params into an HTML
fragment for one slot. To add one:

1. Subclass :class:`WidgetParams` with the options a rule may set. Unknown keys are rejected,
   values are validated once (``Widget.parse_params``) — ideally when rules load, not per request.
2. Subclass :class:`Widget`: set ``name`` (what rules refer to), ``params_model`` and implement
   ``render(ctx, params)``. Return the HTML, or None when there is nothing worth showing: the
   slot then keeps the shop's default content. Render through ``self.templates`` so shops can
   override the markup; put only cleaned data into templates (``widgets.safety``).
3. Add an instance to :func:`widgets.registry.default_widgets` (an explicit, ordered list; no
   registration by import side effects).

Widgets are pure: no I/O, no clock, no randomness. They may raise; the registry catches
everything (``render_placement``), logs it, and the slot keeps its default.

The root element of a rendering carries ``class="edge-w ..."``, ``data-edge-placement``,
``data-edge-variant`` and ``data-edge-widget`` (``{{ tracking_attrs }}`` in a template, or the
``tracking`` macro in ``_macros.html``), and
every product link carries ``data-edge-sku``: the widget script counts impressions and clicks
from them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar

from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, ValidationError

from edge.errors import WidgetError
from widgets.context import PlacementInfo, RenderContext
from widgets.templating import Templates


class WidgetParams(BaseModel):
    """Base for widget params: frozen, strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=5000)


P = TypeVar("P", bound=WidgetParams)


class Widget(ABC, Generic[P]):
    name: ClassVar[str]
    # Other names rules may use for this widget (e.g. a short form).
    aliases: ClassVar[tuple[str, ...]] = ()
    params_model: ClassVar[type[WidgetParams]]

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self._parsed: dict[tuple[Any, ...], tuple[tuple[Any, ...], P]] = {}
        self.memo = RenderMemo()

    def parse_params(self, raw: Mapping[str, Any] | WidgetParams | None) -> P:
        """Validate rule-given params; raises :class:`WidgetError` naming the bad field.

        A decision hands over a fresh dict per request whose values are the rule set's own
        objects, so the validated params are cached by the identity of those values (the cache
        holds them, so an identity cannot be reused while its entry lives)."""
        if isinstance(raw, self.params_model):
            return raw  # type: ignore[return-value]
        if type(raw) is dict:
            key = (tuple(raw), tuple(map(id, raw.values())))
            hit = self._parsed.get(key)
            if hit is not None:
                return hit[1]
            parsed = self._validate(raw)
            if len(self._parsed) >= PARSED_CACHE_SIZE:
                self._parsed.clear()  # old rule sets go with it
            self._parsed[key] = (tuple(raw.values()), parsed)
            return parsed
        return self._validate(raw)  # type: ignore[arg-type]

    def _validate(self, raw: Mapping[str, Any] | None) -> P:
        try:
            return self.params_model.model_validate(dict(raw or {}))  # type: ignore[return-value]
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "params"
            raise WidgetError(f"{self.name}: {where}: {err['msg']}") from exc
        except (TypeError, ValueError) as exc:
            raise WidgetError(f"{self.name}: params must be a mapping") from exc

    @abstractmethod
    def render(self, ctx: RenderContext, params: P) -> str | None:
        """HTML for the slot, or None to keep the shop's default content."""

    def memo_key(self, ctx: RenderContext, params: P) -> MemoKey | None:
        """Every input ``render`` reads, as a hashable key, with the objects the key names by
        identity (``id()``); None when this rendering must not be memoized. Two calls with
        equal keys must render the same HTML: leave nothing out. Default: no memo."""
        return None

    def clear_memo(self) -> None:
        """Forget every memoized rendering (benchmarks measure the first rendering with it)."""
        self.memo.clear()

    def rendered(self, ctx: RenderContext, params: P) -> str | None:
        """``render``, through a bounded memo when the widget defines ``memo_key``."""
        try:
            found = self.memo_key(ctx, params)
        except Unmemoizable:
            found = None
        if found is None:
            return self.render(ctx, params)
        key, pins = found
        hit = self.memo.get(key)
        if hit is not MISS:
            return hit  # type: ignore[return-value]
        html = self.render(ctx, params)
        self.memo.put(key, pins, html)
        return html

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        """Values every template gets: the widget name, the placement, and ``tracking_attrs``,
        the root element's data-edge-* attributes ready to put in a tag (escaped)."""
        return {"widget": self.name, "placement": ctx.placement,
                "tracking_attrs": tracking_attrs(self.name, ctx.placement)}


# A memo key and the objects it names by ``id()``: the memo holds them while the entry lives, so
# an id in a key can never come to mean another object.
MemoKey = tuple[tuple[Any, ...], tuple[Any, ...]]
MISS: Any = object()
PARSED_CACHE_SIZE = 1024
RENDER_MEMO_SIZE = 4096


class Unmemoizable(Exception):
    """An input a memo key cannot describe exactly (an unexpected type): render afresh."""


class RenderMemo:
    """Rendered HTML (or None) per memo key; cleared whole when full."""

    def __init__(self, size: int = RENDER_MEMO_SIZE) -> None:
        self.size = size
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], str | None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[Any, ...]) -> str | None:
        entry = self._entries.get(key)
        return MISS if entry is None else entry[1]

    def put(self, key: tuple[Any, ...], pins: tuple[Any, ...], html: str | None) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (pins, html)

    def clear(self) -> None:
        self._entries.clear()


_SCALARS = (int, float, bool, type(None))


def frozen(value: Any) -> Any:
    """A hashable image of plain data (str, numbers, None, mappings, lists, sets) that keeps
    types apart where ``==`` would not (1, 1.0 and True render differently) and keeps order.
    Raises :class:`Unmemoizable` for anything else."""
    kind = type(value)
    if kind is str:
        return value
    if kind in _SCALARS:
        return (kind, value)
    if isinstance(value, Mapping):
        return (Mapping, tuple([(frozen(k), frozen(v)) for k, v in value.items()]))
    if isinstance(value, (list, tuple)):  # incl. a profile's read-only lists
        for v in value:
            if type(v) is not str:
                return (kind, tuple([frozen(v) for v in value]))
        return (kind, tuple(value))  # the common case: skus
    if kind is set or kind is frozenset:
        return (kind, frozenset([frozen(v) for v in value]))
    raise Unmemoizable(kind.__name__)


def fields_of(value: Any, keys: tuple[str, ...]) -> Any:
    """What a widget reads of a loose mapping (``value.get(k)`` for ``keys``), frozen; None
    when ``value`` is not a mapping (widgets read nothing of it then)."""
    if not isinstance(value, Mapping):
        return None
    out = []
    for k in keys:
        v = value.get(k)
        kind = type(v)  # the common kinds as frozen() has them, without a call each
        out.append(v if kind is str else (kind, v) if kind in _SCALARS else frozen(v))
    return tuple(out)


def placement_key(placement: PlacementInfo) -> tuple[str, str, str]:
    return (placement.id, placement.variant, placement.experiment)


def tracking_attrs(widget: str, placement: PlacementInfo) -> Markup:
    """``data-edge-placement="…" data-edge-variant="…" data-edge-widget="…"`` (+ experiment).

    Built in Python (and cached) rather than by a template macro: importing a macro costs more
    per render than the rest of a small template.
    """
    return _tracking_attrs(widget, placement.id, placement.variant, placement.experiment)


@lru_cache(maxsize=4096)
def _tracking_attrs(widget: str, placement: str, variant: str, experiment: str) -> Markup:
    attrs = (f'data-edge-placement="{escape(placement)}" data-edge-variant="{escape(variant)}" '
             f'data-edge-widget="{escape(widget)}"')
    if experiment:
        attrs += f' data-edge-experiment="{escape(experiment)}"'
    return Markup(attrs)
