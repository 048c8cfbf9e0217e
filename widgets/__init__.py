"""Widgets: what the visitor sees, rendered on the server into the shop's slots.

Pure: data in (a :class:`RenderContext`), HTML out. The edge builds one
:class:`WidgetRegistry` at start-up (``WidgetRegistry.create(settings.templates_dir)``), one
:class:`Catalog` per catalog version, and per placement calls
``registry.render(name, ctx, params)`` — which never raises and returns None when the slot
should keep the shop's default content.
"""

from widgets.base import Widget, WidgetParams
from widgets.catalog import Catalog, Product
from widgets.context import (
    CartItem,
    PageInfo,
    PlacementInfo,
    RenderContext,
    Signals,
    VisitorInfo,
    build_context,
    visitor_from_dict,
)
from widgets.i18n import format_price, pick_language
from widgets.registry import WidgetRegistry, default_widgets, render_placement
from widgets.templating import Templates
from widgets.vocative import vocative

__all__ = [
    "CartItem", "Catalog", "PageInfo", "PlacementInfo", "Product", "RenderContext", "Signals",
    "Templates", "VisitorInfo", "Widget", "WidgetParams", "WidgetRegistry", "build_context",
    "default_widgets", "format_price", "pick_language", "render_placement", "visitor_from_dict",
    "vocative",
]
