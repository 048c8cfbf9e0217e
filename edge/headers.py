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

# Request headers the client's values of which are not forwarded: the edge sets its own.
_NOT_FORWARDED = HOP_BY_HOP | {"host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}


def _connection_tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def request_headers(
    raw: Iterable[tuple[bytes, bytes]],
    *,
    client_ip: str,
    scheme: str,
    origin_netloc: str,
    host_policy: str,
) -> tuple[dict[str, str], list[tuple[str, str]], str]:
    """From an ASGI scope's headers, in one pass: the request's headers as text (names
    lower-cased, repeats joined with ", ", cookies with "; "), the headers to send to the origin
    (Host first), and the client's Host (for rewriting redirects)."""
    merged: dict[str, str] = {}
    forward: list[tuple[str, str]] = []
    client_host = ""
    for k, v in raw:
        name = k.decode("latin-1").lower()
        value = v.decode("latin-1")
        if name in merged:
            merged[name] += ("; " if name == "cookie" else ", ") + value
        else:
            merged[name] = value
        if name == "host":
            client_host = value
        elif name not in _NOT_FORWARDED:
            forward.append((name, value))
    connection = merged.get("connection")
    if connection is not None:  # the headers it names are hop-by-hop too (rare in requests)
        tokens = _connection_tokens(connection)
        forward = [(n, v) for n, v in forward if n not in tokens]
    forward.insert(
        0, ("host", client_host if host_policy == "preserve" and client_host else origin_netloc)
    )
    forwarded_for = merged.get("x-forwarded-for")
    forward.append(
        ("x-forwarded-for", f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip)
    )
    forward.append(("x-forwarded-proto", scheme))
    if client_host:
        forward.append(("x-forwarded-host", client_host))
    return merged, forward, client_host


_HOP_BY_HOP_BYTES = frozenset(h.encode() for h in HOP_BY_HOP)
# What decides whether and how a response may be rewritten or cached (see ``response_headers``).
FACTS = frozenset(
    {
        b"content-type",
        b"content-encoding",
        b"content-range",
        b"content-length",
        b"cache-control",
        b"expires",
    }
)


def response_headers(
    raw: Iterable[tuple[bytes, bytes]],
    *,
    origin: str,
    edge_base: str | None,
) -> tuple[list[tuple[bytes, bytes]], dict[bytes, bytes]]:
    """Headers to send back to the client (names lower-cased, hop-by-hop removed, Location on
    the origin rewritten), and the first value of each of those in ``FACTS`` among them."""
    out: list[tuple[bytes, bytes]] = []
    facts: dict[bytes, bytes] = {}
    connection: list[bytes] = []
    for name, value in raw:
        name = name.lower()
        if name in _HOP_BY_HOP_BYTES:
            if name == b"connection":
                connection.append(value)
            continue
        if name in FACTS:
            facts.setdefault(name, value)
        elif name == b"location" and edge_base:
            value = rewrite_location(value.decode("latin-1"), origin, edge_base).encode("latin-1")
        out.append((name, value))
    if connection:  # rare in responses: the headers it names are hop-by-hop too
        tokens = _connection_tokens(b", ".join(connection).decode("latin-1"))
        drop = {t.encode("latin-1") for t in tokens}
        out = [(k, v) for k, v in out if k not in drop]
        facts = response_facts(out)
    return out, facts


def response_facts(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The first value of each header in ``FACTS``, from headers as ``response_headers``
    gives them."""
    facts: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in FACTS:
            facts.setdefault(name, value)
    return facts


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
