import pytest

from widgets.i18n import available_languages, format_price, messages, pick_language, pick_text, t

SUPPORTED = ("pl", "en", "de")


@pytest.mark.parametrize(("profile", "header", "expected"), [
    ("pl", "de-DE,de;q=0.9", "pl"),
    ("pl-PL", None, "pl"),
    (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
    ("", "fr-FR,fr;q=0.9,en-US;q=0.8,pl;q=0.7", "en"),
    (None, "en;q=0.5, pl;q=0.9", "pl"),
    ("fr", "es", "en"),
    (None, "de;q=0", "en"),
    (None, "garbage;;q=x,,", "en"),
    (None, "*", "en"),
    ("it", "PL", "pl"),
])
def test_pick_language(profile: str | None, header: str | None, expected: str) -> None:
    assert pick_language(profile, header, SUPPORTED, "en") == expected


def test_shop_default_when_nothing_matches() -> None:
    assert pick_language(None, None, SUPPORTED, "pl") == "pl"


def test_catalogs_have_the_same_keys() -> None:
    assert set(available_languages()) >= set(SUPPORTED)
    keys = set(messages("en"))
    for lang in SUPPORTED:
        assert set(messages(lang)) == keys, lang


def test_translate_falls_back_to_english_then_key() -> None:
    assert t("pl", "advisor.title") == "Twój doradca"
    assert t("de", "advisor.title") == "Ihr Berater"
    assert t("xx", "advisor.title") == "Your advisor"
    assert t("pl", "no.such.key") == "no.such.key"


def test_pick_text_prefers_language_then_english() -> None:
    assert pick_text({"pl": "A", "en": "B"}, "pl") == "A"
    assert pick_text({"pl": "A", "en": "B"}, "de") == "B"
    assert pick_text({"de": "C"}, "pl") == "C"
    assert pick_text({}, "pl", "D") == "D"


def test_prices_follow_locale_and_currency() -> None:
    assert format_price(1299.0, "PLN", "pl") == "1\xa0299,00\xa0zł"
    assert format_price(1299.0, "EUR", "de") == "1.299,00\xa0€"
    assert format_price(1299.5, "USD", "en") == "$1,299.50"
    assert format_price(10.0, "ZZZ", "xx").endswith("ZZZ")
