"""Cookie parsing that never raises on broken input."""

from __future__ import annotations


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a Cookie header leniently, as browsers send it. The first value of a name wins."""
    cookies: dict[str, str] = {}
    if not header or len(header) > 16384:
        return cookies
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            continue
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name and name not in cookies:
            cookies[name] = value
    return cookies
