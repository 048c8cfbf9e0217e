"""Message catalogs (pl, en, de as JSON), language choice and locale-aware formatting."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from babel.numbers import format_currency, format_decimal

FALLBACK = "en"
# Babel locale per supported language: the region fixes separators and currency placement.
LOCALES = {"pl": "pl_PL", "en": "en_US", "de": "de_DE"}


@cache
def messages(language: str) -> Mapping[str, str]:
    """The catalog for ``language``; an unknown language gets the English one."""
    name = f"{language}.json"
    package = resources.files(__name__)
    if not package.joinpath(name).is_file():
        name = f"{FALLBACK}.json"
    data: dict[str, str] = json.loads(package.joinpath(name).read_text("utf-8"))
    return data


def available_languages() -> tuple[str, ...]:
    package = resources.files(__name__)
    return tuple(sorted(p.name[:-5] for p in package.iterdir() if p.name.endswith(".json")))


def t(language: str, key: str, **values: Any) -> str:
    """Translate ``key``; falls back to English, then to the key itself."""
    text = messages(language).get(key) or messages(FALLBACK).get(key) or key
    return text.format(**values) if values else text


def pick_text(texts: Mapping[str, str] | None, language: str, default: str = "") -> str:
    """One string from a per-language dict: the language, then English, then any, then default."""
    if not texts:
        return default
    for lang in (language, FALLBACK):
        if texts.get(lang):
            return texts[lang]
    return next((v for v in texts.values() if v), default)


def _primary(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-")[0].lower()


def pick_language(profile_lang: str | None, accept_language_header: str | None,
                  supported: Iterable[str], default: str) -> str:
    """Profile language, then the best Accept-Language match, then the shop default."""
    if (type(supported) is tuple and (profile_lang is None or type(profile_lang) is str)
            and (accept_language_header is None or (type(accept_language_header) is str
                                                    and len(accept_language_header) <= 256))):
        # Browsers send a handful of distinct headers: parse each once.
        return _pick_language_cached(profile_lang, accept_language_header, supported, default)
    return _pick_language(profile_lang, accept_language_header, supported, default)


@lru_cache(maxsize=4096)
def _pick_language_cached(profile_lang: str | None, accept_language_header: str | None,
                          supported: tuple[str, ...], default: str) -> str:
    return _pick_language(profile_lang, accept_language_header, supported, default)


def _pick_language(profile_lang: str | None, accept_language_header: str | None,
                   supported: Iterable[str], default: str) -> str:
    langs = [s.lower() for s in supported]
    if profile_lang and _primary(profile_lang) in langs:
        return _primary(profile_lang)
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language_header or "").split(",")[:32]):
        tag, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() and q > 0:
            ranked.append((-q, i, _primary(tag)))
    for _, _, lang in sorted(ranked):
        if lang in langs:
            return lang
    return default


def locale_for(language: str) -> str:
    return LOCALES.get(language, language or "en_US")


@lru_cache(maxsize=8192)
def format_number(value: float, language: str) -> str:
    """"1 250" for pl, "1,250" for en, "1.250" for de; cached: Babel's formatter is slow."""
    return str(format_decimal(value, locale=locale_for(language)))


@lru_cache(maxsize=8192)
def format_price(amount: float, currency: str, language: str) -> str:
    """"1 299,00 zł" for pl, "PLN 1,299.00" for en, …; cached: prices repeat across requests."""
    try:
        return str(format_currency(amount, currency, locale=locale_for(language)))
    except Exception:  # an unknown locale or currency code: plain number and the code
        return f"{format_decimal(amount, locale='en_US')} {currency}".strip()
