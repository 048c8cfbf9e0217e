"""Signed values the edge trusts: the anonymous visitor cookie and the shop's login token.

Visitor cookie::

    v1.<visitor id>.<issued at, base 36 seconds>.<HMAC-SHA256, base64url>

signed with ``settings.secret``; ``settings.previous_secrets`` still verify so the secret can be
rotated. The issue time is inside the signature, so the cookie's max-age is enforced here on the
server and not only by the browser.

Login token (made by the shop, e.g. with :func:`make_login_token`)::

    <base64url JSON {"cid": contact id, "email": ..., "exp": epoch s}>.<HMAC-SHA256, base64url>

signed with ``settings.shop_secret``. Each kind of value signs under its own prefix, so a
signature made for one can never be replayed as the other.

Readers never raise on bad input: they return ``None`` and the caller treats the visitor as new.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

COOKIE_VERSION = "v1"
_COOKIE_DOMAIN = b"edge-visitor-cookie|"
_LOGIN_DOMAIN = b"edge-login-token|"
# Generous bounds: a real value is far below them, garbage above is rejected before any work.
MAX_COOKIE_LENGTH = 256
MAX_TOKEN_LENGTH = 4096
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_visitor_id() -> str:
    """A random, unguessable visitor id (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, domain: bytes, message: str) -> str:
    mac = _keyed(secret, domain).copy()
    mac.update(message.encode("utf-8"))
    return _b64e(mac.digest())


@lru_cache(maxsize=64)  # a few secrets, two domains
def _keyed(secret: str, domain: bytes) -> Any:
    """HMAC state with the key and the domain prefix taken in. Copying it is several times
    cheaper than a one-shot hmac.digest, which looks the hash up in OpenSSL and sets up the
    key on every call; the MAC is the same."""
    return hmac.new(secret.encode("utf-8"), domain, hashlib.sha256)


def _is_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


# --- the anonymous visitor cookie ------------------------------------------------------------


@dataclass(frozen=True)
class SignedVisitor:
    visitor_id: str
    issued_at: int  # epoch seconds
    current: bool = True  # signed with the first (current) secret, not an older one


def sign_visitor_id(secret: str, visitor_id: str, issued_at: float | None = None) -> str:
    """The cookie value for ``visitor_id``, issued now (or at ``issued_at``)."""
    if not _is_id(visitor_id):
        raise ValueError("visitor id must be 1-64 URL-safe characters")
    issued = int(time.time() if issued_at is None else issued_at)
    body = f"{COOKIE_VERSION}.{visitor_id}.{_to_b36(issued)}"
    return f"{body}.{_mac(secret, _COOKIE_DOMAIN, body)}"


def read_visitor_cookie(
    value: str | None,
    secrets_: Iterable[str],
    max_age: int,
    now: float | None = None,
) -> SignedVisitor | None:
    """The visitor in a cookie value, or ``None`` if it is missing, garbage, tampered with,
    signed with an unknown secret, expired or issued in the future."""
    try:
        if not value or len(value) > MAX_COOKIE_LENGTH:
            return None
        parts = value.split(".")
        if len(parts) != 4 or parts[0] != COOKIE_VERSION:
            return None
        _, visitor_id, issued_text, signature = parts
        if not _is_id(visitor_id):
            return None
        body = f"{COOKIE_VERSION}.{visitor_id}.{issued_text}"
        matched = next((i for i, s in enumerate(secrets_)
                        if s and hmac.compare_digest(_mac(s, _COOKIE_DOMAIN, body), signature)),
                       None)
        if matched is None:
            return None
        signed = SignedVisitor(visitor_id, int(issued_text, 36), current=matched == 0)
        return signed if in_date(signed, max_age, now) else None
    except (ValueError, TypeError, UnicodeError):
        return None


def in_date(signed: SignedVisitor, max_age: int, now: float | None = None) -> bool:
    """Whether a verified cookie is neither expired nor issued in the future. A little clock
    skew between edge machines is fine; a cookie from the future is not."""
    current = time.time() if now is None else now
    return not (signed.issued_at > current + 300 or current - signed.issued_at > max_age)


@lru_cache(maxsize=2)  # every cookie issued in one second says the same time
def _to_b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number <= 0:
        return "0"
    out = []
    while number:
        number, rem = divmod(number, 36)
        out.append(digits[rem])
    return "".join(reversed(out))


# --- the shop's login token ------------------------------------------------------------------


@dataclass(frozen=True)
class LoginClaims:
    contact_id: str
    email: str | None
    expires_at: int


def make_login_token(
    shop_secret: str, contact_id: str, email: str | None = None, ttl: int = 3600
) -> str:
    """A login token for a known contact, valid for ``ttl`` seconds.

    The shop sets it after login as the cookie ``settings.login_cookie`` (or sends it in the
    header ``settings.login_header``); the edge then treats the visitor as that contact.
    """
    if not shop_secret:
        raise ValueError("shop_secret must not be empty")
    if not contact_id and not email:
        raise ValueError("a login token needs a contact_id or an email")
    claims: dict[str, object] = {"cid": str(contact_id), "exp": int(time.time()) + int(ttl)}
    if email:
        claims["email"] = email
    payload = _b64e(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_mac(shop_secret, _LOGIN_DOMAIN, payload)}"


def read_login_token(
    shop_secret: str, token: str | None, now: float | None = None
) -> LoginClaims | None:
    """The contact a login token names, or ``None`` if it is not valid (never raises)."""
    try:
        if not shop_secret or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        payload, sep, signature = token.strip().partition(".")
        if not sep or not payload:
            return None
        if not hmac.compare_digest(_mac(shop_secret, _LOGIN_DOMAIN, payload), signature):
            return None
        claims = json.loads(_b64d(payload))
        if not isinstance(claims, dict):
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            return None
        if (time.time() if now is None else now) >= exp:
            return None
        cid = claims.get("cid")
        email = claims.get("email")
        email = email.strip().lower() if isinstance(email, str) and email.strip() else None
        contact_id = cid.strip() if isinstance(cid, str) and cid.strip() else None
        if contact_id is None and email is None:
            return None
        return LoginClaims(contact_id or "", email, exp)
    except (ValueError, TypeError, UnicodeError, binascii.Error, json.JSONDecodeError):
        return None
