"""Pre-packed Redis commands, for the calls every page makes.

A command through redis-py's client (``execute_command``: argument packing, the retry wrapper,
a pool checkout, a timeout context) costs about 200 µs CPU here, against about 30 µs for the
round trip itself. The page path packs its commands once (most of a profile load's command is
the same for every visitor) and sends them on the client's ``edge.store.mux.Mux``: one pipelined
connection shared by all pages. A client the Mux cannot serve (TLS) sends them through the
public API of its own pool instead (``get_connection``, ``send_packed_command``,
``read_response``, ``release``). Errors are redis-py's own exceptions, and a dropped connection
is retried once for the calls that only read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from edge.store.mux import NotSent, for_client, raise_errors


def bulk(arg: bytes) -> bytes:
    """One argument of a command, as RESP sends it."""
    return b"$%d\r\n%s\r\n" % (len(arg), arg)


def pack(*args: bytes) -> bytes:
    """A command in RESP (an array of bulk strings)."""
    return encode(args)


def encode(args: Sequence[Any], *, extra: int = 0, count: bool = True) -> bytes:
    """Arguments (bytes, str, int) in RESP: a whole command; with ``extra``, the head of one
    whose last ``extra`` arguments follow; with ``count=False``, such a tail."""
    out = [b"*%d\r\n" % (len(args) + extra)] if count else []
    add = out.append
    for arg in args:
        if type(arg) is not bytes:
            arg = str(arg).encode()
        add(b"$%d\r\n" % len(arg))
        add(arg)
        add(b"\r\n")
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class OpenId:
    """Packed commands with a profile id left open wherever it goes (``fill`` puts one in).

    A profile's keys differ only in its id, so what a page sends for a visitor (a profile read,
    an APPLY head with some 25 keys) is packed once per id length, and each visitor's
    command costs one ``%`` instead of packing every key again."""

    template: bytes
    count: int  # how many times the id goes in

    @classmethod
    def pack(cls, build: Callable[[str], bytes], id_length: int) -> OpenId:
        """``build(pid)`` packs the commands for a profile id; it is called once, with a
        placeholder id of ``id_length`` characters that no key or argument holds otherwise."""
        mark = "\x01" * id_length
        packed = build(mark).replace(b"%", b"%%")
        if not id_length:  # nothing to leave open
            return cls(packed, 0)
        template = packed.replace(mark.encode(), b"%b")
        return cls(template, template.count(b"%b"))

    def fill(self, pid: bytes) -> bytes:
        return self.template % ((pid,) * self.count)


def supported(client: Any) -> bool:
    """Whether ``client`` is a plain redis.asyncio client with its own pool (not a cluster
    client, a pipeline or a single-connection client)."""
    return (type(client) is aioredis.Redis and not client.single_connection_client
            and hasattr(client.connection_pool, "get_connection"))


async def exchange(client: aioredis.Redis, packed: bytes, count: int) -> list[Any]:
    """Send ``packed`` (``count`` pipelined commands) in one write and return their replies,
    an error reply in its place as redis-py's exception.

    NotSent (nothing sent: safe to send again) is told apart from a failure after sending,
    which propagates."""
    mux = for_client(client)
    if mux is not None:
        return await mux.call_many(packed, count)
    return await _exchange_pooled(client, packed, count)


async def _exchange_pooled(client: aioredis.Redis, packed: bytes, count: int) -> list[Any]:
    """``exchange`` on a connection taken from the client's pool. A connection whose replies
    may be left unread is dropped, never reused."""
    pool = client.connection_pool
    try:
        conn = await pool.get_connection()
    except (RedisError, OSError) as exc:
        raise NotSent(str(exc)) from exc
    try:
        await conn.send_packed_command(packed, check_health=False)
        replies: list[Any] = []
        for _ in range(count):
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:  # the next replies are still on the wire
                replies.append(exc)
        return replies
    except BaseException:
        await conn.disconnect()
        raise
    finally:
        await pool.release(conn)


async def call(client: aioredis.Redis, packed: bytes) -> Any:
    """Send ``packed`` (a read-only command) and return its reply, as redis-py parses it."""
    return (await call_many(client, packed, 1))[0]


async def call_many(client: aioredis.Redis, packed: bytes, count: int) -> list[Any]:
    """Send ``packed`` (``count`` read-only commands, pipelined) and return their replies; an
    error reply raises (redis-py's exception). A dropped connection is tried once more on a
    new one, which is safe because the commands only read."""
    for attempt in (1, 2):
        try:
            replies = await exchange(client, packed, count)
        except NotSent:
            raise
        except RedisConnectionError:
            if attempt == 2:
                raise
            continue
        return raise_errors(replies)
    raise AssertionError("unreachable")
