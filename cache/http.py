"""A shared HTTP cache for the origin's pages, in process memory.

A shop page that the origin marks as shareable is fetched once and then personalized per
visitor many times, without asking the origin again while it is fresh. The rules are those of
a shared cache (RFC 9111), kept deliberately strict:

* only GET, only status 200, only responses the edge buffers anyway (pages it may rewrite);
* the response must allow shared caching: ``public`` or ``s-maxage``/``max-age`` without
  ``private``, ``no-store`` or ``no-cache``; a ``Set-Cookie`` or ``Vary: *`` makes it
  uncacheable; freshness is ``s-maxage``, else ``max-age``, else ``Expires`` − ``Date``;
* requests with ``Authorization``, or asking for a fresh copy (``Cache-Control: no-cache`` /
  ``no-store``, ``Pragma: no-cache``), go to the origin;
* ``Vary`` is honoured: the request header values it names are part of the key;
* ``stale-while-revalidate=N``: for N seconds after expiry the stale copy is served while one
  background request refreshes it.

Entries are bounded in size and count, least recently used first out. Bodies are stored as the
origin sent them (still compressed, if they were).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"([a-zA-Z-]+)\s*(?:=\s*(\"[^\"]*\"|[^,\s]*))?")


def directives(value: str) -> dict[str, str]:
    return {m.group(1).lower(): (m.group(2) or "").strip('"') for m in _DIRECTIVE.finditer(value)}


def _seconds(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return max(0, int(value))
    except ValueError:
        return None


@dataclass
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored_at: float
    fresh_for: float
    stale_for: float
    vary: tuple[str, ...] = ()
    refreshing: bool = field(default=False, compare=False)

    def age(self, now: float) -> float:
        return max(0.0, now - self.stored_at)

    def is_fresh(self, now: float) -> bool:
        return self.age(now) < self.fresh_for

    def may_serve_stale(self, now: float) -> bool:
        return self.age(now) < self.fresh_for + self.stale_for


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in headers if k == name]
    return ", ".join(values) if values else None


def request_allows_cache(method: str, request_headers: Mapping[str, str]) -> bool:
    # Conditional and partial requests go to the origin, which answers them exactly.
    if (
        method != "GET"
        or "authorization" in request_headers
        or "if-none-match" in request_headers
        or "if-modified-since" in request_headers
        or "range" in request_headers
    ):
        return False
    value = request_headers.get("cache-control")
    cc = directives(value) if value else {}
    if "no-cache" in cc or "no-store" in cc or "max-age" in cc and cc["max-age"] == "0":
        return False
    pragma = request_headers.get("pragma")
    return pragma is None or "no-cache" not in pragma.lower()


_FRESHNESS_HEADERS = frozenset({b"set-cookie", b"cache-control", b"expires"})


def freshness(status: int, headers: list[tuple[bytes, bytes]], now: float
              ) -> tuple[float, float, tuple[str, ...]] | None:
    """(fresh seconds, stale-while-revalidate seconds, vary headers), or None if the response
    may not be stored by a shared cache."""
    if status != 200:
        return None
    # One pass over the headers: most pages say nothing of caching and stop here.
    seen = {k for k, _ in headers if k in _FRESHNESS_HEADERS}
    if b"set-cookie" in seen or not seen & {b"cache-control", b"expires"}:
        return None
    vary_value = _header(headers, b"vary") or ""
    vary = tuple(sorted({v.strip().lower() for v in vary_value.split(",") if v.strip()}))
    if "*" in vary:
        return None
    cc = directives(_header(headers, b"cache-control") or "")
    if "private" in cc or "no-store" in cc or "no-cache" in cc:
        return None
    fresh = _seconds(cc.get("s-maxage")) if "s-maxage" in cc else None
    if fresh is None and "max-age" in cc:
        fresh = _seconds(cc.get("max-age"))
    if fresh is None:
        expires = _header(headers, b"expires")
        date = _header(headers, b"date")
        if expires:
            try:
                exp = email.utils.parsedate_to_datetime(expires).timestamp()
                base = email.utils.parsedate_to_datetime(date).timestamp() if date else now
            except (TypeError, ValueError):
                return None
            fresh = max(0, int(exp - base))
    if not fresh:
        return None
    stale = _seconds(cc.get("stale-while-revalidate")) or 0
    return float(fresh), float(stale), vary


class HttpCache:
    def __init__(self, max_bytes: int, max_entry_bytes: int):
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[tuple[str, tuple[str, ...]], Entry] = OrderedDict()
        # Which request headers an URL's responses vary on, to build the lookup key.
        self._vary: dict[str, tuple[str, ...]] = {}
        self._size = 0
        self.hits = self.misses = self.stale_hits = 0

    def _key(self, url: str, vary: tuple[str, ...], request_headers: Mapping[str, str]
             ) -> tuple[str, tuple[str, ...]]:
        return url, tuple(request_headers.get(h, "") for h in vary)

    def lookup(self, url: str, request_headers: Mapping[str, str],
               now: float | None = None) -> Entry | None:
        """A fresh entry, or a stale one still inside stale-while-revalidate (the caller then
        refreshes it), or None."""
        now = time.time() if now is None else now
        vary = self._vary.get(url)
        if vary is None:
            self.misses += 1
            return None
        key = self._key(url, vary, request_headers)
        entry = self._entries.get(key)
        if entry is None or not entry.may_serve_stale(now):
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        if entry.is_fresh(now):
            self.hits += 1
        else:
            self.stale_hits += 1
        return entry

    def store(self, url: str, request_headers: Mapping[str, str], status: int,
              headers: list[tuple[bytes, bytes]], body: bytes, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if len(body) > self.max_entry_bytes or self.max_bytes <= 0:
            return False
        rule = freshness(status, headers, now)
        if rule is None:
            return False
        fresh, stale, vary = rule
        headers = [(k, v) for k, v in headers if k != b"age"]
        self._vary[url] = vary
        key = self._key(url, vary, request_headers)
        if key in self._entries:
            self._drop(key)
        self._entries[key] = Entry(status, headers, body, now, fresh, stale, vary)
        self._size += len(body)
        while self._size > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))
        return True

    def _drop(self, key: tuple[str, tuple[str, ...]]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size -= len(entry.body)

    def __len__(self) -> int:
        return len(self._entries)
