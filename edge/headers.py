"""Header rules for a reverse proxy: what goes to the origin and what comes back."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

# RFC 9110 §7.6.1 hop-by-hop headers, never forwarded in either direction.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

# Headers the edge sets itself on the way to the origin.
_REQUEST_OWN = frozenset({"host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    tokens: set[str] = set()
    for name, value in headers:
        if name == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def decode(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """An ASGI scope's headers as text, names lower-cased."""
    return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]


def request_headers(
    decoded: list[tuple[str, str]],
    *,
    client_ip: str,
    scheme: str,
    origin_netloc: str,
    host_policy: str,
) -> tuple[list[tuple[str, str]], str]:
    """Headers to send to the origin, and the client's Host (for rewriting redirects).
    ``decoded``: the request's headers as ``decode`` gives them."""
    drop = HOP_BY_HOP | _connection_tokens(decoded)
    out: list[tuple[str, str]] = []
    client_host = ""
    forwarded_for = ""
    for name, value in decoded:
        if name == "host":
            client_host = value
            continue
        if name == "x-forwarded-for":
            forwarded_for = f"{forwarded_for}, {value}" if forwarded_for else value
            continue
        if name in drop or name in _REQUEST_OWN:
            continue
        out.append((name, value))
    out.append(
        ("host", client_host if host_policy == "preserve" and client_host else origin_netloc)
    )
    out.append(("x-forwarded-for", f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip))
    out.append(("x-forwarded-proto", scheme))
    if client_host:
        out.append(("x-forwarded-host", client_host))
    return out, client_host


_HOP_BY_HOP_BYTES = frozenset(h.encode() for h in HOP_BY_HOP)


def response_headers(
    raw: Iterable[tuple[bytes, bytes]],
    *,
    origin: str,
    edge_base: str | None,
) -> list[tuple[bytes, bytes]]:
    """Headers to send back to the client: hop-by-hop removed, Location on the origin rewritten."""
    items = [(k.lower(), v) for k, v in raw]
    drop = _HOP_BY_HOP_BYTES
    for name, value in items:
        if name == b"connection":  # rare in responses: the tokens it names are hop-by-hop too
            tokens = _connection_tokens([("connection", value.decode("latin-1"))])
            drop = drop | {t.encode("latin-1") for t in tokens}
    out: list[tuple[bytes, bytes]] = []
    for name, value in items:
        if name in drop:
            continue
        if name == b"location" and edge_base:
            value = rewrite_location(value.decode("latin-1"), origin, edge_base).encode("latin-1")
        out.append((name, value))
    return out


def rewrite_location(location: str, origin: str, edge_base: str) -> str:
    """Point a redirect to the origin's own host at the edge instead."""
    loc = urlsplit(location)
    org = urlsplit(origin)
    if not loc.netloc:
        return location
    if loc.scheme and loc.scheme not in ("http", "https"):
        return location
    if (loc.hostname or "").lower() != (org.hostname or "").lower():
        return location
    default = 443 if (loc.scheme or org.scheme) == "https" else 80
    org_default = 443 if org.scheme == "https" else 80
    if (loc.port or default) != (org.port or org_default):
        return location
    rest = location[location.find(loc.netloc) + len(loc.netloc) :]
    return edge_base + rest


def get(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for k, v in headers:
        if k == name:
            return v
    return None


def without(headers: list[tuple[bytes, bytes]], *names: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k not in names]
