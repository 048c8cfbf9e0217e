"""A greeting by first name in the visitor's language (Polish in the vocative)."""

from __future__ import annotations

from widgets.i18n import t
from widgets.vocative import display_name, vocative


def greet(first_name: str | None, language: str) -> str:
    """"Witaj, Krzysztofie!" / "Hello, Anna!"; without the name when it is not safe to use."""
    name = vocative(first_name) if language == "pl" else display_name(first_name)
    if name:
        return t(language, "greeting.named", name=name)
    return t(language, "greeting.plain")
