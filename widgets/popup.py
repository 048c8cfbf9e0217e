"""Pop-up: a dialog the widget script opens on a trigger, optionally collecting zero-party data.

The server renders the markup hidden (``hidden`` attribute); ``static/js/edge.js`` shows it when
its trigger fires, makes it an accessible modal (focus moved in and trapped, Esc and the close
button close it, focus returns), counts the impression when shown and sends ``close``.

Params::

    title, text, cta, url                 content (a title or text is required to render)
    texts: {pl: {title, text, cta, …}}    per-language overrides
    form:                                 optional short form
      kind: question | consent | signup
      name: the preference, consent or form name (default: the placement id)
      label: the question or the consent text
      choices: [{value, label}] | [str]   for a question (2–8) → a "preference" event
      fields: [email, first_name, phone]  for a sign-up (default [email]) → a "form_submit" event
      consent: {name, label}              a sign-up's optional consent checkbox → "consent"
      submit, thanks: button label and the line shown after sending
    trigger: {type, seconds|percent|page_views}
        set by the edge from the rule's ``trigger`` (rules.model.Trigger.to_dict()); a rule's
        own params need not repeat it. Default: immediate.

Rule files may also use the shorter shapes ``body`` (for text), ``href`` (for url),
``cta: {label, href}``, ``form: {field: email, submit}`` and ``question: {consent, text}`` or
``question: {name, text, choices}``; they are read as the canonical params above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from widgets.base import Widget, WidgetParams
from widgets.context import RenderContext
from widgets.safety import clean_text, safe_url

TRIGGER_TYPES = ("immediate", "delay", "exit_intent", "scroll", "page_views")
_ID = re.compile(r"[^A-Za-z0-9_-]+")
_NAME = re.compile(r"[^A-Za-z0-9_.:-]+")

# The pop-up's own chrome, per language (content comes from the rule).
STRINGS: dict[str, dict[str, str]] = {
    "en": {"close": "Close", "submit": "Send", "thanks": "Thank you!", "label": "Message",
           "email": "E-mail", "first_name": "First name", "phone": "Phone"},
    "pl": {"close": "Zamknij", "submit": "Wyślij", "thanks": "Dziękujemy!", "label": "Wiadomość",
           "email": "E-mail", "first_name": "Imię", "phone": "Telefon"},
    "de": {"close": "Schließen", "submit": "Senden", "thanks": "Vielen Dank!",
           "label": "Nachricht", "email": "E-Mail", "first_name": "Vorname",
           "phone": "Telefon"},
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

    @model_validator(mode="before")
    @classmethod
    def _short_content(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        d = dict(data)
        if "body" in d:
            body = d.pop("body")
            d.setdefault("text", body)
        cta = d.get("cta")
        if isinstance(cta, Mapping):
            d["cta"] = cta.get("label", "")
            if cta.get("href") and "url" in cls.model_fields:
                d.setdefault("url", cta["href"])
        if "href" in d and "url" in cls.model_fields:
            href = d.pop("href")
            d.setdefault("url", href)
        return d


class Choice(WidgetParams):
    value: str = Field(min_length=1, max_length=100)
    label: str = Field("", max_length=200)


NAME = r"^[A-Za-z0-9_.:\-]*$"  # what the events API accepts as a form / preference name
SIGNUP_FIELDS = {"email": ("email", "email"), "first_name": ("text", "given-name"),
                 "phone": ("tel", "tel")}


class ConsentBox(WidgetParams):
    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    label: str = Field(min_length=1, max_length=500)


class PopupForm(WidgetParams):
    kind: Literal["question", "consent", "signup"]
    name: str = Field("", max_length=64, pattern=NAME)
    label: str = Field("", max_length=500)
    choices: tuple[Choice, ...] = ()
    fields: tuple[Literal["email", "first_name", "phone"], ...] = ("email",)
    consent: ConsentBox | None = None
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
        if self.kind != "question" and self.choices:
            raise ValueError(f"a {self.kind} form takes no choices")
        if self.kind != "signup" and not self.label:
            raise ValueError(f"a {self.kind} form needs a label")
        if self.kind == "consent" and not self.name:
            raise ValueError("a consent form needs the consent's name")
        if not self.fields:
            raise ValueError("a sign-up form needs at least one field")
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

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "question" not in data and not (
                isinstance(data.get("form"), Mapping) and "kind" not in data["form"]):
            return data
        d = dict(data)
        form, question = d.get("form"), d.pop("question", None)
        q = question if isinstance(question, Mapping) else {}
        if isinstance(form, Mapping) and "kind" not in form:  # {field: email, submit: …}
            fields = form.get("fields") or [form.get("field", "email")]
            short: dict[str, Any] = {"kind": "signup", "fields": fields,
                                     "submit": form.get("submit", ""),
                                     "name": form.get("name", "")}
            if q.get("consent"):
                short["consent"] = {"name": q["consent"], "label": q.get("text", "")}
            d["form"] = short
        elif form is None and q.get("consent"):
            d["form"] = {"kind": "consent", "name": q["consent"], "label": q.get("text", "")}
        elif form is None and q.get("choices"):
            d["form"] = {"kind": "question", "name": q.get("name", ""),
                         "label": q.get("text", ""), "choices": q["choices"]}
        elif question is not None:
            d["question"] = question  # not a shape we know: let validation name it
        return d


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
            name = f.name or _NAME.sub("_", ctx.placement.id)[:64] or "popup"
            form = {
                "kind": {"question": "preference"}.get(f.kind, f.kind),
                "name": name,
                "label": clean_text(pick("label", 500) or f.label, 500),
                "choices": [{"value": clean_text(c.value, 100),
                             "label": clean_text(c.label or c.value, 200)} for c in f.choices],
                "fields": [{"name": n, "type": SIGNUP_FIELDS[n][0],
                            "autocomplete": SIGNUP_FIELDS[n][1],
                            "label": chrome(lang, n)} for n in f.fields],
                "consent": ({"name": f.consent.name, "label": clean_text(f.consent.label, 500)}
                            if f.consent else None),
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
