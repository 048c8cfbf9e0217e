"""Banner / content block: content chosen by rules, optionally greeting the visitor by name.

Params (all optional; a banner with nothing to show renders nothing)::

    title, text, cta, image, image_alt, link      base content (also: headline, body, href)
                                                    "{first_name}" in a text is the visitor's
                                                    name (Polish: vocative), or is left out
    texts: {pl: {title, text, cta, image_alt}, …}  per-language overrides
    greeting: true                                  "Witaj, Anno!" above the content
    show_loyalty: true                              points and tier, for members
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field

from widgets.base import MemoKey, Unmemoizable, Widget, WidgetParams, fields_of, placement_key
from widgets.context import RenderContext
from widgets.greeting import fill_name, greet
from widgets.i18n import format_number, t
from widgets.safety import clean_text, safe_url


class BannerTexts(WidgetParams):
    title: str = Field("", validation_alias=AliasChoices("title", "headline"))
    text: str = Field("", validation_alias=AliasChoices("text", "body"))
    cta: str = ""
    image_alt: str = ""


class BannerParams(BannerTexts):
    image: str = ""
    link: str = Field("", validation_alias=AliasChoices("link", "href", "url"))
    texts: dict[str, BannerTexts] = Field(default_factory=dict)
    greeting: bool = False
    show_loyalty: bool = False


def _number(value: Any, language: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return format_number(value, language)


def loyalty_lines(loyalty: Any, language: str) -> list[str]:
    """Points, tier and the way to the next tier, each only when the profile has it."""
    if not isinstance(loyalty, Mapping):
        return []
    lines = []
    points = _number(loyalty.get("points"), language)
    if points is not None:
        lines.append(t(language, "loyalty.points", points=points))
    tier = clean_text(loyalty.get("tier"), 60)
    if tier:
        lines.append(t(language, "loyalty.tier", tier=tier))
    to_next = _number(loyalty.get("points_to_next"), language)
    next_tier = clean_text(loyalty.get("next_tier"), 60)
    if to_next is not None and next_tier:
        lines.append(t(language, "loyalty.next", points=to_next, tier=next_tier))
    return lines


LOYALTY_FIELDS = ("points", "tier", "points_to_next", "next_tier")


class BannerWidget(Widget[BannerParams]):
    name = "banner"
    params_model = BannerParams

    def memo_key(self, ctx: RenderContext, params: BannerParams) -> MemoKey:
        # A banner reads the language, the first name, the loyalty fields and the placement.
        first_name = ctx.visitor.first_name
        if type(first_name) is not str:
            raise Unmemoizable("first_name")
        loyalty = fields_of(ctx.visitor.loyalty, LOYALTY_FIELDS) if params.show_loyalty else None
        return ((id(params), ctx.language, first_name, loyalty, placement_key(ctx.placement)),
                (params,))

    def render(self, ctx: RenderContext, params: BannerParams) -> str | None:
        lang = ctx.language
        # The visitor's language, then the base texts, then English.
        sources = [params.texts.get(lang), params, params.texts.get("en")]

        def pick(field: str, limit: int) -> str:
            value = next((v for s in sources if s is not None and (v := getattr(s, field))), "")
            return clean_text(fill_name(value, ctx.visitor.first_name, lang), limit)

        title, text = pick("title", 300), pick("text", 2000)
        image = safe_url(params.image)
        link = safe_url(params.link)
        greeting = greet(ctx.visitor.first_name, lang) if params.greeting else ""
        loyalty = loyalty_lines(ctx.visitor.loyalty, lang) if params.show_loyalty else []
        if not (title or text or image or greeting or loyalty):
            return None
        return self.templates.render(
            "banner.html", **self.view(ctx),
            label=title or t(lang, "banner.label"),
            greeting=greeting, title=title, text=text,
            image=image, image_alt=pick("image_alt", 300) or title,
            link=link, cta=pick("cta", 120) or title or t(lang, "banner.label"),
            loyalty=loyalty,
        )
