"""The explicit, ordered list of widgets, lookup by name, and the one safe way to render.

``render_placement`` never raises: a bad param, a broken template or a bug in a widget is
logged and gives None, so the slot keeps the shop's default content and the page goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from edge.errors import WidgetError
from widgets.advisor import AdvisorWidget
from widgets.banner import BannerWidget
from widgets.base import Widget, WidgetParams
from widgets.context import RenderContext
from widgets.recs.frame import RecommendationFrame
from widgets.templating import Templates

log = logging.getLogger("edge.widgets")


def default_widgets(templates: Templates) -> list[Widget[Any]]:
    """Every widget the edge ships, in order. Add new widgets here."""
    return [
        BannerWidget(templates),
        AdvisorWidget(templates),
        RecommendationFrame(templates),
    ]


class WidgetRegistry:
    def __init__(self, widgets: Iterable[Widget[Any]], templates: Templates) -> None:
        self.templates = templates
        self._widgets: dict[str, Widget[Any]] = {}
        self._by_name: dict[str, Widget[Any]] = {}
        for widget in widgets:
            for name in (widget.name, *widget.aliases):
                if name in self._by_name:
                    raise WidgetError(f"two widgets are named {name!r}")
                self._by_name[name] = widget
            self._widgets[widget.name] = widget

    @classmethod
    def create(cls, templates_dir: str = "") -> WidgetRegistry:
        """The default registry; ``templates_dir`` is the shop's override directory, if any."""
        templates = Templates(templates_dir)
        return cls(default_widgets(templates), templates)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Widget[Any]]:
        return iter(self._widgets.values())

    def names(self) -> tuple[str, ...]:
        """Canonical names, in registry order (aliases are accepted by ``get`` too)."""
        return tuple(self._widgets)

    def get(self, name: str) -> Widget[Any]:
        try:
            return self._by_name[name]
        except KeyError:
            raise WidgetError(f"unknown widget {name!r}; known: {', '.join(self._widgets)}"
                              ) from None

    def parse_params(self, name: str, raw: Mapping[str, Any] | WidgetParams | None
                     ) -> WidgetParams:
        """Validate params for widget ``name`` (call when rules load); raises WidgetError."""
        return self.get(name).parse_params(raw)

    def stylesheet(self) -> str:
        return self.templates.stylesheet

    def render(self, name: str, ctx: RenderContext,
               params: Mapping[str, Any] | WidgetParams | None = None, *,
               include_css: bool = True) -> str | None:
        return render_placement(self, name, ctx, params, include_css=include_css)


def render_placement(registry: WidgetRegistry, name: str, ctx: RenderContext,
                     params: Mapping[str, Any] | WidgetParams | None = None, *,
                     include_css: bool = True) -> str | None:
    """The HTML for one placement, or None (slot keeps its default). Never raises.

    With ``include_css`` the fragment starts with the scoped stylesheet; pass False when the
    page gets :meth:`WidgetRegistry.stylesheet` once elsewhere.
    """
    try:
        widget = registry.get(name)
        html = widget.rendered(ctx, widget.parse_params(params))
        if not html or not html.strip():
            return None
        return registry.templates.stylesheet + html if include_css else html
    except Exception:  # one broken widget must never break the page (style.md: safecall)
        log.exception("widget %r failed for placement %r; the slot keeps its default",
                      name, ctx.placement.id)
        return None
