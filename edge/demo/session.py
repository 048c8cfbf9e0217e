"""The demo shop's own cookies: who is logged in to the shop, and the cart.

These belong to the shop, not to the edge: the edge never reads them. Values are signed with
the shop's secret (HMAC-SHA256) so that a visitor cannot make themselves someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SESSION_COOKIE = "szczyt_session"
CART_COOKIE = "szczyt_cart"
MAX_CART_LINES = 50
MAX_QTY = 20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, value: str, *, purpose: str) -> str:
    """Cookie-safe ``base64url(value).base64url(mac)``; ``purpose`` keeps cookies apart."""
    body = _b64(value.encode("utf-8"))
    mac = hmac.new(secret.encode(), f"{purpose}:{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(secret: str, signed: str | None, *, purpose: str) -> str | None:
    """The value if the signature holds, else None (never raises on junk)."""
    if not signed or "." not in signed or len(signed) > 4096:
        return None
    body, _, mac = signed.partition(".")
    want = hmac.new(secret.encode(), f"{purpose}:{body}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), want):
            return None
        return _unb64(body).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def encode_cart(cart: dict[str, int]) -> str:
    return "|".join(f"{sku}:{qty}" for sku, qty in cart.items())


def decode_cart(text: str | None, known: set[str] | frozenset[str]) -> dict[str, int]:
    """Cart lines ``sku → qty``; unknown SKUs and silly quantities are dropped."""
    cart: dict[str, int] = {}
    if not text:
        return cart
    for part in text.split("|")[:MAX_CART_LINES]:
        sku, _, qty = part.partition(":")
        if sku in known and qty.isdigit() and 0 < int(qty) <= MAX_QTY:
            cart[sku] = int(qty)
    return cart
