"""What the personalization layer sees of a request and a page, and what it hands back.

This is the narrow interface between the proxy (which owns bytes, sockets and the rewriter)
and everything that decides and renders (identity, profiles, rules, widgets):

    personalizer.begin(request)  -> Session        identify the visitor, start loading the profile
    session.fill(page)           -> Fills          HTML fragments per slot + before </body>
    session.finish(page, status)                   record the page view, off the response path

The proxy calls ``begin`` as soon as the request arrives, so the profile loads while the origin
answers. ``fill`` runs only for HTML pages that hold a slot or get the body-end injection. A
session whose ``speculative`` is true may be asked ``fill(page, defer=True)`` before the page is
here (``edge.proxy``): it then holds its writes back in ``Fills.deferred`` until
``Fills.commit``, as that fill is thrown away if the page turns out otherwise.
Every call is wrapped by the proxy: an exception or a timeout means the page goes out unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol


@dataclass(frozen=True, init=False)
class RequestHead:
    method: str
    path: str
    query: str
    # Lower-cased header names; repeated headers joined with ", " (cookies with "; ").
    headers: Mapping[str, str]
    client_ip: str
    scheme: str = "http"
    host: str = ""
    # time.monotonic() when the request arrived: personalization deadlines count from it.
    started: float = field(default_factory=time.monotonic)

    def __init__(self, method: str, path: str, query: str, headers: Mapping[str, str],
                 client_ip: str, scheme: str = "http", host: str = "",
                 started: float | None = None):
        # Written out because a frozen dataclass's own __init__ sets each field through
        # object.__setattr__: a few µs on every request the proxy forwards.
        d = self.__dict__
        d["method"] = method
        d["path"] = path
        d["query"] = query
        d["headers"] = headers
        d["client_ip"] = client_ip
        d["scheme"] = scheme
        d["host"] = host
        d["started"] = time.monotonic() if started is None else started

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}" + (f"?{self.query}" if self.query else "")

    def cookie(self, name: str) -> str | None:
        # Identification asks for up to four cookies: the header is parsed once.
        jar = self.__dict__.get("_cookies")
        if jar is None:
            from edge.cookies import parse_cookie_header

            jar = self.__dict__["_cookies"] = parse_cookie_header(self.headers.get("cookie", ""))
        return jar.get(name)


@dataclass(frozen=True, init=False)
class Page:
    """A page on its way to the visitor, after the slot scan."""

    request: RequestHead
    status: int
    # Slot names on the page, in document order, each once.
    slots: tuple[str, ...]
    # Facts the shop put on the page: <meta name="edge:NAME" content="..."> → {"NAME": "..."};
    # e.g. page-type, product (sku), category, title.
    facts: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    charset: str = "utf-8"

    def __init__(self, request: RequestHead, status: int, slots: tuple[str, ...],
                 facts: Mapping[str, str] | None = None, title: str = "",
                 charset: str = "utf-8"):
        # Written out, as RequestHead's: one is built for every page that may be personalized.
        d = self.__dict__
        d["request"] = request
        d["status"] = status
        d["slots"] = slots
        d["facts"] = {} if facts is None else facts
        d["title"] = title
        d["charset"] = charset

    @cached_property
    def shape(self) -> Shape:
        """What a fill depends on besides the request and the visitor: slots, facts (as sorted
        pairs, so that a shape compares and hashes as a value), title and charset."""
        return self.slots, tuple(sorted(self.facts.items())), self.title, self.charset


Shape = tuple[tuple[str, ...], tuple[tuple[str, str], ...], str, str]


@dataclass
class Fills:
    """HTML fragments (already escaped/rendered, as text) per slot name, and for before </body>.

    A slot missing from ``slots`` keeps the shop's default content.
    """

    slots: dict[str, str] = field(default_factory=dict)
    body_end: str = ""
    # What the decision behind these fills writes (experiment arms, exposures, inbox offers),
    # when it was held back to be written only if the fills are used (``commit``).
    deferred: Callable[[], None] | None = None

    def __bool__(self) -> bool:
        return bool(self.slots) or bool(self.body_end)

    def commit(self) -> None:
        """Write what the decision behind these fills held back (once)."""
        deferred, self.deferred = self.deferred, None
        if deferred is not None:
            deferred()


class Session(Protocol):
    # Extra response headers for this visitor, e.g. Set-Cookie for a new visitor.
    def response_headers(self) -> list[tuple[bytes, bytes]]: ...

    async def fill(self, page: Page) -> Fills: ...

    def finish(self, page: Page | None, status: int) -> None: ...


class Personalizer(Protocol):
    async def begin(self, request: RequestHead) -> Session: ...


class NullSession:
    """A session that personalizes nothing: no cookie, no fills, nothing recorded."""

    def response_headers(self) -> list[tuple[bytes, bytes]]:
        return []

    async def fill(self, page: Page) -> Fills:
        return Fills()

    def finish(self, page: Page | None, status: int) -> None:
        return None


class NullPersonalizer:
    """Personalizes nothing: the edge is then a plain, fast reverse proxy."""

    async def begin(self, request: RequestHead) -> Session:
        return NullSession()


class _StaticSession(NullSession):
    def __init__(self, fills: Fills):
        self._fills = fills

    async def fill(self, page: Page) -> Fills:
        return Fills({k: v for k, v in self._fills.slots.items() if k in page.slots},
                     self._fills.body_end)


class StaticPersonalizer:
    """Fills every page with the same fragments: for tests, benchmarks and smoke checks."""

    def __init__(self, fills: Fills):
        self._session = _StaticSession(fills)

    async def begin(self, request: RequestHead) -> Session:
        return self._session
