"""One pipelined connection per Redis client, for the commands on a page's path.

A command through redis-py's client costs about 150–250 µs of CPU here (a pool checkout, a
timeout context, a stream reader, the retry wrapper), against about 30 µs for the round trip
itself. Every page makes one or two such calls, so the page path sends its pre-packed commands
(``edge.store.rawcall``) over a ``Mux`` instead: one connection kept open, each caller's commands
written straight to the transport, and the replies matched to callers in order as they arrive
(Redis answers a connection's commands in the order it got them), parsed by hiredis in the
protocol's ``data_received``. Pages that run at the same time share the connection, so their
calls are pipelined for free.

- **Timeouts**: one timer per connection, not per call. When the oldest call waiting has waited
  longer than the client's socket timeout, the connection is stuck: it is dropped and every call
  waiting on it fails with redis-py's ``TimeoutError``.
- **A lost connection** fails the calls waiting on it with ``ConnectionError``; the next call
  connects again. When connecting fails, calls fail at once with ``NotSent`` (nothing was sent)
  for a short back-off, so that a Redis that is down costs a page nothing and is not hammered.
- **What it serves**: plain TCP and unix-socket connections speaking RESP2 (``for_client``
  answers None otherwise, e.g. for TLS, a cluster client or a pipeline, and callers use
  redis-py). The connection authenticates and selects the client's database as redis-py would.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis._parsers.base import BaseParser
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["Mux", "NotSent", "for_client", "raise_errors"]

RETRY_AFTER_S = 0.1  # after a failed connect, calls fail at once for this long


class NotSent(RedisConnectionError):
    """No connection to Redis could be made: nothing was sent (safe to send again)."""


def raise_errors(replies: list[Any]) -> list[Any]:
    """``replies`` unless one is an error reply, which is raised (redis-py's exception)."""
    for reply in replies:
        if isinstance(reply, RedisError):
            raise reply
    return replies


class _Call:
    __slots__ = ("future", "count", "replies", "deadline")

    def __init__(self, future: asyncio.Future[list[Any]], count: int, deadline: float):
        self.future = future
        self.count = count
        self.replies: list[Any] = []
        self.deadline = deadline


class _Connection(asyncio.Protocol):
    """One open connection: calls waiting for replies, in the order they were sent."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float):
        self.loop = loop
        self.timeout = timeout
        self.reader = hiredis.Reader(replyError=BaseParser.parse_error)
        self.pending: deque[_Call] = deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._out: list[bytes] = []  # what this turn of the event loop sends
        self._timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        pending = self.pending
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                self.abort(RedisConnectionError(f"Redis protocol error: {exc}"))
                return
            if reply is False:
                return
            if not pending:  # a reply nobody asked for: the stream cannot be trusted
                self.abort(RedisConnectionError("Redis sent a reply nobody asked for"))
                return
            call = pending[0]
            call.replies.append(reply)
            if len(call.replies) == call.count:
                pending.popleft()
                if not call.future.done():  # a caller that gave up still had its replies read
                    call.future.set_result(call.replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    # --- calls ----------------------------------------------------------------------------
    def send(self, packed: bytes, count: int) -> asyncio.Future[list[Any]]:
        loop = self.loop
        call = _Call(loop.create_future(), count, loop.time() + self.timeout)
        self.pending.append(call)
        # Calls made in the same turn of the event loop (pages running side by side) go out
        # in one write: one system call, and Redis answers them in one read.
        out = self._out
        out.append(packed)
        if len(out) == 1:
            loop.call_soon(self._flush)
        if self._timer is None:
            self._timer = loop.call_at(call.deadline, self._check)
        return call.future

    def _flush(self) -> None:
        out, self._out = self._out, []
        if not self.closed and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _check(self) -> None:
        self._timer = None
        if not self.pending:
            return
        head = self.pending[0]
        if self.loop.time() >= head.deadline:
            self.abort(RedisTimeoutError(f"Redis did not answer within {self.timeout} s"))
        else:
            self._timer = self.loop.call_at(head.deadline, self._check)

    def abort(self, exc: Exception) -> None:
        self._fail(exc)
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self.pending:
            future = self.pending.popleft().future
            if not future.done():
                future.set_exception(exc)


class Mux:
    """Pipelined calls on one connection to the Redis a client talks to."""

    def __init__(self, *, path: str | None = None, host: str = "localhost", port: int = 6379,
                 db: int = 0, username: str | None = None, password: str | None = None,
                 timeout: float = 1.0, connect_timeout: float | None = None):
        self.path = path
        self.host = host
        self.port = port
        self.handshake = _handshake(db, username, password)
        self.timeout = timeout
        self.connect_timeout = connect_timeout or timeout
        self._conn: _Connection | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._down_until = 0.0

    async def call_many(self, packed: bytes, count: int) -> list[Any]:
        """Send ``packed`` (``count`` commands in RESP) and return their replies, an error
        reply in its place as redis-py's exception. Raises NotSent when no connection could
        be made, redis-py's ConnectionError or TimeoutError when one failed after sending."""
        conn = self._conn
        if conn is None or conn.closed or conn.loop is not asyncio.get_running_loop():
            conn = await self._connect()
        return await conn.send(packed, count)

    def send_nowait(self, packed: bytes, count: int) -> asyncio.Future[list[Any]] | None:
        """Send ``packed`` now on the open connection without waiting for the replies (they
        are still read, in order). None when no connection is open: nothing was sent."""
        conn = self._conn
        if conn is None or conn.closed or conn.loop is not asyncio.get_running_loop():
            return None
        return conn.send(packed, count)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if loop.time() < self._down_until:
            raise NotSent("Redis was unreachable a moment ago")
        connecting = self._connecting
        if connecting is not None and not connecting.done():
            return await asyncio.shield(connecting)
        connecting = self._connecting = loop.create_future()
        try:
            conn = await asyncio.wait_for(self._open(loop), self.connect_timeout)
        except BaseException as exc:
            self._down_until = loop.time() + RETRY_AFTER_S
            error = exc if isinstance(exc, NotSent) else NotSent(
                f"could not connect to Redis: {exc!r}")
            connecting.set_exception(error)
            connecting.exception()  # retrieved: a connect nobody else waited for is not logged
            self._connecting = None
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise error from exc
        self._conn = conn
        connecting.set_result(conn)
        self._connecting = None
        return conn

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        def factory() -> _Connection:
            return _Connection(loop, self.timeout)

        if self.path:
            _, conn = await loop.create_unix_connection(factory, self.path)
        else:
            _, conn = await loop.create_connection(factory, self.host, self.port)
        if self.handshake:
            packed, count = self.handshake
            try:
                raise_errors(await conn.send(packed, count))
            except RedisError as exc:
                conn.abort(exc)
                raise NotSent(f"Redis refused the connection's set-up: {exc}") from exc
        return conn

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and conn.transport is not None and not conn.closed:
            conn.closed = True
            conn.transport.close()


def _handshake(db: int, username: str | None, password: str | None) -> tuple[bytes, int] | None:
    from edge.store.rawcall import encode

    commands: list[bytes] = []
    if password:
        commands.append(encode([b"AUTH", *([username] if username else []), password]))
    if db:
        commands.append(encode([b"SELECT", db]))
    return (b"".join(commands), len(commands)) if commands else None


_BY_CLIENT: weakref.WeakKeyDictionary[Any, Mux | None] = weakref.WeakKeyDictionary()


def for_client(client: Any) -> Mux | None:
    """The Mux to the Redis ``client`` talks to, made on first use and kept as long as the
    client lives; None if the client is not a plain redis.asyncio client on a TCP or unix
    socket speaking RESP2 (then callers use redis-py itself)."""
    try:
        return _BY_CLIENT[client]
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: not a client this serves
        return None
    mux = _from_client(client)
    _BY_CLIENT[client] = mux
    return mux


def _from_client(client: Any) -> Mux | None:
    if type(client) is not aioredis.Redis or client.single_connection_client:
        return None
    pool = client.connection_pool
    kwargs = getattr(pool, "connection_kwargs", None)
    cls = getattr(pool, "connection_class", None)
    if kwargs is None or cls not in (Connection, UnixDomainSocketConnection):
        return None
    if kwargs.get("protocol") not in (None, 2, "2") or kwargs.get("credential_provider"):
        return None
    timeout = kwargs.get("socket_timeout") or 5.0
    common = {"db": int(kwargs.get("db") or 0), "username": kwargs.get("username"),
              "password": kwargs.get("password"), "timeout": float(timeout),
              "connect_timeout": kwargs.get("socket_connect_timeout") or float(timeout)}
    if cls is UnixDomainSocketConnection:
        return Mux(path=kwargs["path"], **common)
    return Mux(host=kwargs.get("host", "localhost"), port=int(kwargs.get("port", 6379)),
               **common)


async def close_for(client: Any) -> None:
    """Close the Mux of ``client``, if it has one (at shutdown, with the client)."""
    mux = _BY_CLIENT.pop(client, None) if client is not None else None
    if mux is not None:
        await mux.aclose()
