"""Test factories for the store and API tests: settings and page requests."""

from __future__ import annotations

from typing import Any

from edge.page import RequestHead
from edge.settings import Settings
from edge.store.event_models import parse_batch
from edge.store.store import Store

SHOP_SECRET = "shop-secret-for-tests"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"secret": "edge-secret-for-tests", "shop_secret": SHOP_SECRET,
                              "admin_token": "admin-token-for-tests"}
    values.update(overrides)
    return Settings(**values)


def head(cookie: str = "", *, ua: str = "Mozilla/5.0 (X11; Linux) Firefox/120",
         ip: str = "203.0.113.7", **headers: str) -> RequestHead:
    """A page request as the proxy hands it to identity."""
    values = {"user-agent": ua, "accept-language": "pl-PL,pl;q=0.9",
              "accept-encoding": "gzip, br"}
    if cookie:
        values["cookie"] = cookie
    values.update({k.replace("_", "-"): v for k, v in headers.items()})
    return RequestHead(method="GET", path="/", query="", headers=values, client_ip=ip,
                       host="shop.test")


def cookie_of(set_cookie: str | None) -> str:
    """The "name=value" part of a Set-Cookie value."""
    assert set_cookie, "expected a Set-Cookie"
    return set_cookie.split(";", 1)[0]


async def add_events(store: Store, pid: str, *events: dict[str, Any], now_ms: int | None = None
                     ) -> None:
    """Validate and apply events to a profile, as the events API does."""
    assert store.events is not None
    await store.events.apply(pid, parse_batch({"events": list(events)}, 1000), now_ms=now_ms)
