from __future__ import annotations

from edge.demo.session import decode_cart, encode_cart, sign, unsign

SECRET = "s3cret"


def test_signed_values_round_trip_and_reject_tampering() -> None:
    signed = sign(SECRET, "c-1001", purpose="session")
    assert unsign(SECRET, signed, purpose="session") == "c-1001"
    assert unsign("other", signed, purpose="session") is None
    body, _, mac = signed.partition(".")
    assert unsign(SECRET, sign(SECRET, "c-1002", purpose="session").split(".")[0] + "." + mac,
                  purpose="session") is None
    for junk in (None, "", "no-dot", "a.b", "." * 5000, "!!!.???"):
        assert unsign(SECRET, junk, purpose="session") is None


def test_a_cart_cookie_cannot_be_replayed_as_a_session() -> None:
    cart = sign(SECRET, "c-1001", purpose="cart")
    assert unsign(SECRET, cart, purpose="session") is None


def test_cart_encoding_drops_unknown_skus_and_silly_quantities() -> None:
    known = frozenset({"A-1", "B-2", "C-3"})
    assert decode_cart(encode_cart({"A-1": 2, "B-2": 1}), known) == {"A-1": 2, "B-2": 1}
    assert decode_cart("A-1:0|B-2:99|C-3:x|Z-9:1|C-3:3", known) == {"C-3": 3}
    assert decode_cart(None, known) == {}
