"""The HTTP client to the origin: aiohttp, pooled, with two parts of it fitted to a proxy.

A request goes out with the headers the proxy built and nothing else, and the origin timeout
(``sock_read``: the wait for the response head and for each read of the body) is kept with a
timer that is not re-armed on every read. Both cut per-request work the edge used to pay on
top of a plain aiohttp pass-through; what is sent and when a slow origin times out are aiohttp's
own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, cast

import aiohttp
from aiohttp.client_proto import ResponseHandler
from multidict import CIMultiDict

from edge.settings import Settings


def make_origin_session(settings: Settings) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=settings.origin_pool_size,
        keepalive_timeout=30,
        ttl_dns_cache=60,
    )
    if _LAZY_READ_TIMER and hasattr(connector, "_factory"):
        connector._factory = cast(
            "functools.partial[ResponseHandler]",
            functools.partial(OriginProtocol, loop=connector._loop),
        )
    return aiohttp.ClientSession(
        connector=connector,
        request_class=OriginRequest,
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(
            total=None,
            connect=settings.origin_connect_timeout,
            sock_read=settings.origin_timeout,
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        max_line_size=16384,
        max_field_size=65536,
        max_headers=512,
        read_bufsize=256 * 1024,
    )


# Everything aiohttp would add of its own: Accept, Accept-Encoding, User-Agent, and a
# Content-Type for a request with a body.
_NO_AUTO_HEADERS: CIMultiDict[None] = CIMultiDict(
    (name, None) for name in ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")
)


class OriginRequest(aiohttp.ClientRequest):
    """A request as the edge sends it: the headers it was given, none added by aiohttp.

    aiohttp's ``skip_auto_headers`` builds three multidicts per request to skip them, and the
    given headers are copied one by one after the session already did so; here a complete set
    (one that names its Host) is taken in one copy.
    """

    def update_headers(self, headers: Any) -> None:
        if isinstance(headers, CIMultiDict) and "Host" in headers:
            self.headers = headers.copy()
        else:
            super().update_headers(headers)

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        self._skip_auto_headers = _NO_AUTO_HEADERS


class OriginProtocol(ResponseHandler):
    """aiohttp's connection protocol, with a cheaper timer for ``sock_read``.

    aiohttp cancels and re-arms a timer on every read from the socket, three times for a 100 KB
    page, each ~8 µs on uvloop with the loop turns it costs: the largest single cost the edge
    added to a page. Here one timer stays armed while reads keep coming: a read only moves the
    deadline, and a timer that fires before the deadline re-arms for it. An idle pooled
    connection wakes at most once, to find nothing to do. When the wait starts, stops and
    restarts (the response head, each read, not while reading is paused) is aiohttp's, unchanged.
    """

    _deadline: float | None = None

    def _reschedule_timeout(self) -> None:
        timeout = self._read_timeout
        if not timeout:
            self._deadline = None
            return
        self._deadline = deadline = self._loop.time() + timeout
        if self._read_timeout_handle is None:
            self._read_timeout_handle = self._loop.call_at(deadline, self._on_timer)

    def _drop_timeout(self) -> None:
        self._deadline = None

    def _on_timer(self) -> None:
        self._read_timeout_handle = None
        deadline = self._deadline
        if deadline is None:
            return
        if self._loop.time() < deadline:  # data came in the meantime
            self._read_timeout_handle = self._loop.call_at(deadline, self._on_timer)
            return
        self._on_read_timeout()

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if self._read_timeout_handle is not None:
            self._read_timeout_handle.cancel()
            self._read_timeout_handle = None


# The aiohttp internals OriginProtocol replaces; should they be renamed, aiohttp's own timer
# is used (slower, the same behaviour).
_LAZY_READ_TIMER = all(
    callable(getattr(ResponseHandler, name, None))
    for name in ("_reschedule_timeout", "_drop_timeout", "_on_read_timeout", "connection_lost")
)
