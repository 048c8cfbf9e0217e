"""What a rule may set on a recommendation frame."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator

from widgets.base import WidgetParams

StrategyName = Literal["same_category", "viewed_together", "bought_together", "last_viewed",
                       "bestsellers", "new_arrivals", "preferences", "affinity", "liked"]


class MixStep(WidgetParams):
    strategy: StrategyName
    # None: take as many as are still missing ("fill the rest").
    count: int | None = Field(None, ge=1, le=48)


class FrameFilters(WidgetParams):
    # Relative to the context product's price; ignored when there is no context product.
    price_min_ratio: float | None = Field(None, ge=0)
    price_max_ratio: float | None = Field(None, gt=0)
    # Shorthand: lower = at most its price, similar = 0.75×–1.33×, higher = at least its price.
    price_tier: Literal["lower", "similar", "higher"] | None = None
    min_price: float | None = Field(None, ge=0)
    max_price: float | None = Field(None, ge=0)
    in_stock: bool = True
    exclude_bought: bool = True
    exclude_cart: bool = True
    exclude_viewed: bool = False
    category: str | None = None

    def ratios(self) -> tuple[float | None, float | None]:
        low, high = self.price_min_ratio, self.price_max_ratio
        tier = {"lower": (None, 1.0), "similar": (0.75, 4 / 3), "higher": (1.0, None)}
        if self.price_tier:
            t_low, t_high = tier[self.price_tier]
            low = low if low is not None else t_low
            high = high if high is not None else t_high
        return low, high


DEFAULT_MIX = (MixStep(strategy="viewed_together", count=2),
               MixStep(strategy="same_category", count=2),
               MixStep(strategy="bestsellers", count=None),
               MixStep(strategy="new_arrivals", count=None))


class RecsParams(WidgetParams):
    count: int = Field(4, ge=1, le=48, validation_alias=AliasChoices("count", "size"))
    # Fewer products than this after filtering: render nothing, the slot keeps its default.
    min_count: int = Field(1, ge=1, le=48)
    mix: tuple[MixStep, ...] = DEFAULT_MIX
    filters: FrameFilters = FrameFilters.model_validate({})
    # Which product the frame is "about": auto = page product, else last viewed, else the
    # most expensive cart item.
    anchor: Literal["auto", "page", "last_viewed", "cart", "none"] = "auto"
    # Per language ({"pl": ..., "en": ...}) or one text for every language.
    title: dict[str, str] | str = Field(default_factory=dict)
    show_price: bool = True

    @model_validator(mode="after")
    def _sane(self) -> RecsParams:
        if not self.mix:
            raise ValueError("mix: needs at least one strategy")
        if self.min_count > self.count:
            raise ValueError("min_count: must not exceed count")
        return self
