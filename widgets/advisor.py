"""Advisor card: the visitor's assigned advisor with photo, phone (tel:) and e-mail (mailto:).

Params::

    fallback: "none" | "contact"       when no advisor is assigned: nothing, or ``contact``
    contact: {name, role, phone, email, photo}
    title: {pl: "...", en: "..."}       overrides "Your advisor"
    default_country_code: "48"          for national phone numbers without a prefix
    show_photo, show_phone, show_email  (true) switch parts of the card off
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from widgets.base import MemoKey, Widget, WidgetParams, fields_of, placement_key
from widgets.context import RenderContext
from widgets.i18n import pick_text, t
from widgets.safety import clean_text, mailto_url, normalize_phone, safe_url


class ContactParams(WidgetParams):
    name: str = ""
    role: str = ""
    phone: str = ""
    email: str = ""
    photo: str = ""


class AdvisorParams(WidgetParams):
    fallback: Literal["none", "contact"] = "none"
    contact: ContactParams | None = None
    title: dict[str, str] = Field(default_factory=dict)
    contact_title: dict[str, str] = Field(default_factory=dict)
    default_country_code: str | None = Field(None, pattern=r"^\+?[0-9]{1,3}$")
    show_photo: bool = True
    show_phone: bool = True
    show_email: bool = True


PERSON_FIELDS = ("name", "role", "phone", "email", "photo")


def _person(data: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not isinstance(data, Mapping):
        return None
    person = {k: clean_text(data.get(k), 200) for k in PERSON_FIELDS}
    return person if person["name"] else None


class AdvisorWidget(Widget[AdvisorParams]):
    name = "advisor_card"
    aliases = ("advisor",)
    params_model = AdvisorParams

    def memo_key(self, ctx: RenderContext, params: AdvisorParams) -> MemoKey:
        # A card reads the language, the advisor's fields and the placement.
        return ((id(params), ctx.language, fields_of(ctx.visitor.advisor, PERSON_FIELDS),
                 placement_key(ctx.placement)), (params,))

    def render(self, ctx: RenderContext, params: AdvisorParams) -> str | None:
        lang = ctx.language
        person = _person(ctx.visitor.advisor)
        title = pick_text(params.title, lang) or t(lang, "advisor.title")
        if person is None:
            if params.fallback != "contact" or params.contact is None:
                return None
            person = _person(params.contact.model_dump())
            if person is None:
                return None
            title = pick_text(params.contact_title, lang) or t(lang, "advisor.contact_title")
        name = person["name"]
        phone = email = None
        number = normalize_phone(person["phone"], params.default_country_code)
        if number and params.show_phone:
            phone = {"href": f"tel:{number}", "text": person["phone"],
                     "label": t(lang, "advisor.call", name=name, number=person["phone"])}
        mailto = mailto_url(person["email"])
        if mailto and params.show_email:
            email = {"href": mailto, "text": person["email"],
                     "label": t(lang, "advisor.write", name=name, number=person["email"])}
        return self.templates.render(
            "advisor.html", **self.view(ctx), title=clean_text(title, 200), name=name,
            role=person["role"], photo=safe_url(person["photo"]) if params.show_photo else None,
            photo_alt=t(lang, "advisor.photo_alt", name=name), phone=phone, email=email,
        )
