from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.store.signing import (
    make_login_token,
    new_visitor_id,
    read_login_token,
    read_visitor_cookie,
    sign_visitor_id,
)

SECRET = "current-secret"
OLD = "previous-secret"
DAY = 86400


def test_cookie_round_trip() -> None:
    vid = new_visitor_id()
    signed = read_visitor_cookie(sign_visitor_id(SECRET, vid), [SECRET], DAY)
    assert signed is not None and signed.visitor_id == vid


def test_visitor_ids_are_random() -> None:
    assert len({new_visitor_id() for _ in range(1000)}) == 1000


def test_every_single_character_change_is_rejected() -> None:
    value = sign_visitor_id(SECRET, new_visitor_id())
    for i, ch in enumerate(value):
        for replacement in {"A", "z", "0", "_", "."} - {ch}:
            tampered = value[:i] + replacement + value[i + 1:]
            assert read_visitor_cookie(tampered, [SECRET], DAY) is None, (i, replacement)


def test_bit_flips_in_the_signature_are_rejected() -> None:
    value = sign_visitor_id(SECRET, new_visitor_id())
    body, _, sig = value.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "="))
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        forged = body + "." + base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
        assert read_visitor_cookie(forged, [SECRET], DAY) is None


def test_a_cookie_for_another_visitor_id_cannot_be_forged_from_a_valid_one() -> None:
    value = sign_visitor_id(SECRET, "visitorA")
    forged = value.replace("visitorA", "visitorB")
    assert read_visitor_cookie(forged, [SECRET], DAY) is None


def test_wrong_secret_is_rejected() -> None:
    value = sign_visitor_id("someone-elses-secret", new_visitor_id())
    assert read_visitor_cookie(value, [SECRET], DAY) is None


def test_rotated_secret_still_verifies() -> None:
    vid = new_visitor_id()
    old_cookie = sign_visitor_id(OLD, vid)
    signed = read_visitor_cookie(old_cookie, [SECRET, OLD], DAY)
    assert signed is not None and signed.visitor_id == vid and not signed.current
    # once the old secret is dropped from the list, the cookie is no longer trusted
    assert read_visitor_cookie(old_cookie, [SECRET], DAY) is None


def test_max_age_is_enforced_on_the_server() -> None:
    now = time.time()
    value = sign_visitor_id(SECRET, new_visitor_id(), issued_at=now - DAY - 1)
    assert read_visitor_cookie(value, [SECRET], DAY, now=now) is None
    assert read_visitor_cookie(value, [SECRET], DAY + 10, now=now) is not None


def test_issue_time_in_the_future_is_rejected() -> None:
    now = time.time()
    value = sign_visitor_id(SECRET, new_visitor_id(), issued_at=now + 3600)
    assert read_visitor_cookie(value, [SECRET], DAY, now=now) is None


@pytest.mark.parametrize("garbage", [
    None, "", "x", "....", "v1...", "v1.abc.1.", "v2.abc.toy1.sig", "v1.a b.toy1.sig",
    "v1.abc.zzzzzzzzzzzzzzzzzzzz.sig", "\x00\xff" * 20, "v1." + "a" * 500 + ".1.s",
    "v1.abc.-1.sig", "%00%ff", "🍪.🍪.🍪.🍪",
])
def test_garbage_is_rejected(garbage: str | None) -> None:
    assert read_visitor_cookie(garbage, [SECRET], DAY) is None


def test_an_empty_secret_never_verifies() -> None:
    value = sign_visitor_id("", "abc")
    assert read_visitor_cookie(value, ["", SECRET], DAY) is None


def test_login_token_round_trip() -> None:
    token = make_login_token("shop", "c-42", "Ann@Example.com", ttl=60)
    claims = read_login_token("shop", token)
    assert claims is not None
    assert (claims.contact_id, claims.email) == ("c-42", "ann@example.com")


def test_login_token_expires() -> None:
    token = make_login_token("shop", "c-42", ttl=60)
    assert read_login_token("shop", token, now=time.time() + 61) is None


def test_login_token_with_wrong_secret_or_tampered_payload_is_rejected() -> None:
    token = make_login_token("shop", "c-42", ttl=60)
    assert read_login_token("other", token) is None
    payload, _, sig = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cid"] = "c-1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert read_login_token("shop", forged + "." + sig) is None


def test_a_visitor_cookie_signature_is_not_a_login_token() -> None:
    # same secret for both: the domain prefix keeps the two kinds of signature apart
    cookie = sign_visitor_id("same", "abc")
    assert read_login_token("same", cookie) is None
    assert read_login_token("same", cookie.partition(".")[2]) is None


@pytest.mark.parametrize("garbage", [None, "", ".", "a.b", "x" * 5000, "e30.", "!!.!!"])
def test_login_token_garbage_is_rejected(garbage: str | None) -> None:
    assert read_login_token("shop", garbage) is None


def test_login_tokens_need_a_secret_and_a_contact() -> None:
    with pytest.raises(ValueError):
        make_login_token("", "c-1")
    with pytest.raises(ValueError):
        make_login_token("shop", "")
    assert read_login_token("", make_login_token("shop", "c-1")) is None


@given(st.text(max_size=300))
def test_arbitrary_text_is_never_a_valid_cookie_or_token(value: str) -> None:
    assert read_visitor_cookie(value, [SECRET, OLD], DAY) is None
    assert read_login_token("shop", value) is None


@pytest.mark.parametrize("secret",
                         ["k", "s3cret-" * 9, "x" * 64, "y" * 65, "zażółć-gęślą-jaźń" * 5])
def test_the_mac_is_rfc_2104_hmac_sha256_for_keys_of_every_length(secret: str) -> None:
    import hmac

    from edge.store.signing import _mac

    for message in ("", "v1.abc.t5x0ab", "ü" * 200):
        expected = hmac.digest(secret.encode(), b"domain|" + message.encode(), "sha256")
        got = _mac(secret, b"domain|", message)
        assert base64.urlsafe_b64decode(got + "=" * (-len(got) % 4)) == expected
    # the kept key states are never changed by a call
    assert _mac(secret, b"domain|", "same") == _mac(secret, b"domain|", "same")
