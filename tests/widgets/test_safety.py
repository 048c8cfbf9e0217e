import pytest

from widgets.safety import clean_text, mailto_url, normalize_phone, safe_url, tel_url


@pytest.mark.parametrize("url", [
    "https://shop.example.com/p/1", "http://x.example/a?b=c#d", "/p/1", "p/1", "../p/1",
    "?page=2", "#top", "//cdn.example.com/a.jpg", "/search?q=a:b", "HTTPS://EXAMPLE.COM/",
])
def test_http_and_relative_urls_pass(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:alert(1)", "\x01javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)", "file:///etc/passwd", "mailto:a@b.c", "x:y", "", "   ", None, 42,
    "https://a.example/\x00x", "h" * 3000,
])
def test_other_schemes_and_junk_are_dropped(url: object) -> None:
    assert safe_url(url) is None


def test_browser_stripped_characters_are_removed_from_kept_urls() -> None:
    assert safe_url(" /p/\t1\n ") == "/p/1"


@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("+48 601 234 567", None, "+48601234567"),
    ("0048 601-234-567", None, "+48601234567"),
    ("(22) 123 45 67", "48", "+48221234567"),
    ("601234567", "+48", "+48601234567"),
    ("601 234 567", None, "601234567"),
    ("+49 (30) 1234567", "48", "+49301234567"),
])
def test_phone_numbers_are_normalised(raw: str, country: str | None, expected: str) -> None:
    assert normalize_phone(raw, country) == expected
    assert tel_url(raw, country) == f"tel:{expected}"


@pytest.mark.parametrize("raw", ["", "call me", "123", "+48 601 234 567 ext. 5",
                                 "javascript:alert(1)", "1" * 20, None])
def test_non_numbers_are_not_phones(raw: object) -> None:
    assert normalize_phone(raw) is None


def test_mailto_only_for_plain_addresses() -> None:
    assert mailto_url("anna.nowak@example.com") == "mailto:anna.nowak@example.com"
    assert mailto_url(" a+b@x.pl ") == "mailto:a+b@x.pl"
    for bad in ["not an address", "a@b", "a@b.c?cc=evil@x.com", "a\"@x.pl", "javascript:a@b.cc",
                "a@b.c\nBcc: x@y.z", None]:
        assert mailto_url(bad) is None, bad


def test_clean_text_caps_and_strips_controls() -> None:
    assert clean_text("a\x00b\x1fc") == "a b c"
    assert clean_text("x" * 1000, 10) == "x" * 10
    assert clean_text(12) == "12"
    assert clean_text(None) == ""
    assert clean_text({"a": 1}) == ""
