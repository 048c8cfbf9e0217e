"""Recommendation frames: a context product, ranked strategies, a mixer with filters, a widget."""

from widgets.recs.anchor import context_product
from widgets.recs.mixer import recommend
from widgets.recs.params import FrameFilters, MixStep, RecsParams
from widgets.recs.strategies import STRATEGIES

__all__ = ["STRATEGIES", "FrameFilters", "MixStep", "RecsParams", "context_product", "recommend"]
