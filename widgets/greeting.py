"""A greeting by first name in the visitor's language (Polish in the vocative)."""

from __future__ import annotations

import re

from widgets.i18n import t
from widgets.vocative import display_name, vocative


def greet(first_name: str | None, language: str) -> str:
    """"Witaj, Krzysztofie!" / "Hello, Anna!"; without the name when it is not safe to use."""
    name = address_name(first_name, language)
    if name:
        return t(language, "greeting.named", name=name)
    return t(language, "greeting.plain")


# Without a usable name, "Picked for you, {first_name}!" becomes "Picked for you!".
_PLACEHOLDER_WITH_GLUE = re.compile(r"[,\s]*\{first_name\}")
_LEADING_PLACEHOLDER = re.compile(r"\s*\{first_name\}[,!\s]*")


def address_name(first_name: str | None, language: str) -> str | None:
    """The name as used to address the visitor (Polish: vocative), or None."""
    return vocative(first_name) if language == "pl" else display_name(first_name)


def fill_name(text: str, first_name: str | None, language: str) -> str:
    """Replace ``{first_name}`` in rule text; drop it (and its comma) when there is no name."""
    if "{first_name}" not in text:
        return text
    name = address_name(first_name, language)
    if name:
        return text.replace("{first_name}", name)
    leading = _LEADING_PLACEHOLDER.match(text)
    if leading:  # "{first_name}, welcome back" → "Welcome back"
        rest = text[leading.end():]
        text = rest[:1].upper() + rest[1:]
    return _PLACEHOLDER_WITH_GLUE.sub("", text).strip()
