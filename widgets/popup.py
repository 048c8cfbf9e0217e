"""Pop-up: a dialog the widget script opens on a trigger, optionally collecting zero-party data.

The server renders the markup hidden (``hidden`` attribute); ``static/js/edge.js`` shows it when
its trigger fires, makes it an accessible modal (focus moved in and trapped, Esc and the close
button close it, focus returns), counts the impression when shown and sends ``close``.

Params::

    title, text, cta, url                 content (a title or text is required to render)
    texts: {pl: {title, text, cta, …}}    per-language overrides
    form:                                 optional short form
      kind: question | consent
      name: preference or consent name    (written as a "preference" / "consent" event)
      label: the question or the consent text
      choices: [{value, label}] | [str]   for a question (2–8)
      submit: button label
    trigger: {type, seconds|percent|page_views}
        set by the edge from the rule's ``trigger`` (rules.model.Trigger.to_dict()); a rule's
        own params need not repeat it. Default: immediate.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from widgets.base import Widget, WidgetParams
from widgets.context import RenderContext
from widgets.safety import clean_text, safe_url

TRIGGER_TYPES = ("immediate", "delay", "exit_intent", "scroll", "page_views")
_ID = re.compile(r"[^A-Za-z0-9_-]+")

# The pop-up's own chrome, per language (content comes from the rule).
STRINGS: dict[str, dict[str, str]] = {
    "en": {"close": "Close", "submit": "Send", "thanks": "Thank you!", "label": "Message"},
    "pl": {"close": "Zamknij", "submit": "Wyślij", "thanks": "Dziękujemy!", "label": "Wiadomość"},
    "de": {"close": "Schließen", "submit": "Senden", "thanks": "Vielen Dank!",
           "label": "Nachricht"},
}


def chrome(language: str, key: str) -> str:
    return (STRINGS.get(language) or STRINGS["en"]).get(key) or STRINGS["en"][key]


class PopupTexts(WidgetParams):
    title: str = ""
    text: str = ""
    cta: str = ""
    label: str = ""
    submit: str = ""
    thanks: str = ""


class Choice(WidgetParams):
    value: str = Field(min_length=1, max_length=100)
    label: str = Field("", max_length=200)


class PopupForm(WidgetParams):
    kind: Literal["question", "consent"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
    label: str = Field(min_length=1, max_length=500)
    choices: tuple[Choice, ...] = ()
    submit: str = ""
    thanks: str = ""

    @field_validator("choices", mode="before")
    @classmethod
    def _choices(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"value": v, "label": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _shape(self) -> PopupForm:
        if self.kind == "question" and not 2 <= len(self.choices) <= 8:
            raise ValueError("a question needs 2 to 8 choices")
        if self.kind == "consent" and self.choices:
            raise ValueError("a consent form takes no choices")
        return self


class PopupTrigger(WidgetParams):
    type: Literal["immediate", "delay", "exit_intent", "scroll", "page_views"] = "immediate"
    seconds: float | None = Field(default=None, ge=0, le=3600)
    percent: int | None = Field(default=None, ge=1, le=100)
    page_views: int | None = Field(default=None, ge=1, le=1000)

    @property
    def value(self) -> str:
        """The one number the script needs for this trigger type, as text ("" if none)."""
        value = {"delay": self.seconds, "scroll": self.percent,
                 "page_views": self.page_views}.get(self.type)
        if value is None:
            return ""
        return f"{value:g}" if isinstance(value, float) else str(value)


class PopupParams(PopupTexts):
    url: str = ""
    texts: dict[str, PopupTexts] = Field(default_factory=dict)
    form: PopupForm | None = None
    trigger: PopupTrigger = PopupTrigger()


class PopupWidget(Widget[PopupParams]):
    name = "popup"
    params_model = PopupParams

    def render(self, ctx: RenderContext, params: PopupParams) -> str | None:
        lang = ctx.language
        local = params.texts.get(lang) or params.texts.get("en")

        def pick(field: str, limit: int) -> str:
            value = getattr(local, field, "") if local else ""
            return clean_text(value or getattr(params, field), limit)

        title, text = pick("title", 300), pick("text", 2000)
        if not (title or text):
            return None
        url = safe_url(params.url)
        form = None
        if params.form is not None:
            f = params.form
            form = {
                "kind": "consent" if f.kind == "consent" else "preference",
                "name": f.name,
                "label": clean_text(pick("label", 500) or f.label, 500),
                "choices": [{"value": clean_text(c.value, 100),
                             "label": clean_text(c.label or c.value, 200)} for c in f.choices],
                "submit": clean_text(pick("submit", 80) or f.submit, 80)
                or chrome(lang, "submit"),
            }
        thanks = pick("thanks", 300) or (clean_text(params.form.thanks, 300) if params.form else "")
        dom_id = "edge-popup-" + (_ID.sub("-", ctx.placement.id)[:60] or "x")
        return self.templates.render(
            "popup.html", **self.view(ctx),
            dom_id=dom_id, title=title, text=text, url=url,
            cta=pick("cta", 120) or title,
            form=form, thanks=thanks or chrome(lang, "thanks"),
            close_label=chrome(lang, "close"), label=title or chrome(lang, "label"),
            trigger=params.trigger.type, trigger_value=params.trigger.value,
        )
