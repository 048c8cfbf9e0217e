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

    def parse_params(self, raw: Mapping[str, Any] | WidgetParams | None) -> P:
        """Validate rule-given params; raises :class:`WidgetError` naming the bad field."""
        if isinstance(raw, self.params_model):
            return raw  # type: ignore[return-value]
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

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        """Values every template gets: the widget name, the placement, and ``tracking_attrs``,
        the root element's data-edge-* attributes ready to put in a tag (escaped)."""
        return {"widget": self.name, "placement": ctx.placement,
                "tracking_attrs": tracking_attrs(self.name, ctx.placement)}


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
