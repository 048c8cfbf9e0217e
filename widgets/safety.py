"""Checks for values that end up in URLs: data from profiles, catalogs and rules.

Escaping (Jinja autoescape) keeps a value inside its attribute; these checks keep a URL from
*doing* something on its own: only http(s) and relative URLs survive, so ``javascript:``,
``data:``, ``vbscript:`` and friends are dropped before a template ever sees them.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Browsers drop tab/CR/LF anywhere in a URL and leading/trailing C0 controls and spaces, so
# "java\tscript:" is javascript:. Mirror that before looking at the scheme.
_STRIP_INSIDE = str.maketrans("", "", "\t\r\n")
_C0 = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+$")

MAX_URL = 2048


def safe_url(value: object, *, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """The URL if it is relative or uses one of ``schemes``; otherwise None."""
    if not isinstance(value, str):
        return None
    url = value.translate(_STRIP_INSIDE).strip(_C0)
    if not url or len(url) > MAX_URL or _CONTROL.search(url):
        return None
    match = _SCHEME.match(url)
    if match:
        return url if match.group(1).lower() in schemes else None
    # No scheme: a relative URL. A colon before the first "/", "?" or "#" would make a browser
    # read a scheme after all (e.g. "javascript&colon;" is harmless, "x:y" is not relative).
    head = re.split(r"[/?#]", url, maxsplit=1)[0]
    if ":" in head:
        return None
    return url


def normalize_phone(value: object, default_country_code: str | None = None) -> str | None:
    """E.164-like digits for a ``tel:`` link: "+48 601-234-567" → "+48601234567".

    "00" becomes "+"; a national number gets ``default_country_code`` when one is given.
    Anything that is not 5–15 digits after cleaning is not a phone number (→ None).
    """
    if not isinstance(value, str | int):
        return None
    raw = str(value).strip()
    if not raw or len(raw) > 40 or not re.fullmatch(r"[+0-9 ()./\-]+", raw):
        return None
    plus = raw.startswith("+")
    digits = re.sub(r"\D", "", raw)
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    if not plus and default_country_code and len(digits) <= 10:
        plus, digits = True, default_country_code.lstrip("+") + digits.lstrip("0")
    if not 5 <= len(digits) <= 15:
        return None
    return ("+" if plus else "") + digits


def tel_url(value: object, default_country_code: str | None = None) -> str | None:
    number = normalize_phone(value, default_country_code)
    return f"tel:{number}" if number else None


def mailto_url(value: object) -> str | None:
    """``mailto:`` link for a plausible address, else None (no headers, no extra recipients)."""
    if not isinstance(value, str):
        return None
    address = value.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        return None
    return "mailto:" + quote(address, safe="@.+-_")


def clean_text(value: object, limit: int = 500) -> str:
    """A display string from untrusted data: str only, controls removed, length capped.

    This is *not* escaping (templates do that); it keeps junk and megabyte fields out of pages.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value) if isinstance(value, int | float) else ""
    text = _CONTROL.sub(" ", value).strip()
    return text[:limit]
