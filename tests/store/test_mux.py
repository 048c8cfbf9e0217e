"""The pipelined connection the page path uses (edge.store.mux), against the real Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from edge.store import rawcall
from edge.store.mux import Mux, NotSent, for_client


def cmd(*args: object) -> bytes:
    return rawcall.encode(list(args))


async def test_concurrent_calls_get_their_own_replies(redis: aioredis.Redis) -> None:
    mux = for_client(redis)
    assert mux is not None

    async def one(i: int) -> list[object]:
        return await mux.call_many(cmd("SET", f"k{i}", f"v{i}") + cmd("GET", f"k{i}"), 2)

    replies = await asyncio.gather(*(one(i) for i in range(300)))
    assert replies == [[b"OK", f"v{i}".encode()] for i in range(300)]


async def test_calls_of_one_turn_share_one_write(redis: aioredis.Redis) -> None:
    mux = for_client(redis)
    assert mux is not None
    await mux.call_many(cmd("PING"), 1)  # connected
    conn = mux._conn
    assert conn is not None
    writes: list[bytes] = []
    real_write = conn.transport.write  # type: ignore[union-attr]

    def counting(data: bytes) -> None:
        writes.append(bytes(data))
        real_write(data)

    conn.transport.write = counting  # type: ignore[union-attr,method-assign]
    replies = await asyncio.gather(*(mux.call_many(cmd("ECHO", str(i)), 1) for i in range(20)))
    assert [r[0] for r in replies] == [str(i).encode() for i in range(20)]
    assert len(writes) == 1 and writes[0].count(b"ECHO") == 20


async def test_error_replies_stay_in_place(redis: aioredis.Redis) -> None:
    mux = for_client(redis)
    assert mux is not None
    replies = await mux.call_many(
        cmd("SET", "s", "1") + cmd("HGET", "s", "f") + cmd("GET", "s")
        + cmd("EVALSHA", "0" * 40, 0), 4)
    assert replies[0] == b"OK" and replies[2] == b"1"
    assert isinstance(replies[1], ResponseError) and "WRONGTYPE" in str(replies[1])
    assert isinstance(replies[3], NoScriptError)
    with pytest.raises(ResponseError):
        await rawcall.call_many(redis, cmd("HGET", "s", "f"), 1)


async def test_a_dropped_connection_fails_its_calls_and_the_next_call_reconnects(
        redis: aioredis.Redis) -> None:
    mux = for_client(redis)
    assert mux is not None
    await mux.call_many(cmd("SET", "x", "1"), 1)
    first = mux._conn
    # Redis drops every client connection but the one asking.
    await redis.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    # A read is tried once more on a fresh connection.
    assert await rawcall.call_many(redis, cmd("GET", "x"), 1) == [b"1"]
    assert mux._conn is not first and not mux._conn.closed  # type: ignore[union-attr]


async def test_an_unreachable_redis_fails_fast_with_nothing_sent(tmp_path) -> None:
    mux = Mux(path=str(tmp_path / "nobody.sock"), timeout=0.2)
    attempts = []
    real_open = mux._open

    async def counted(loop: asyncio.AbstractEventLoop) -> object:
        attempts.append(1)
        return await real_open(loop)

    mux._open = counted  # type: ignore[method-assign]
    with pytest.raises(NotSent):
        await mux.call_many(cmd("PING"), 1)
    with pytest.raises(NotSent, match="a moment ago"):  # within the back-off: no new attempt
        await mux.call_many(cmd("PING"), 1)
    assert len(attempts) == 1
    assert mux.send_nowait(cmd("PING"), 1) is None


async def test_a_redis_that_never_answers_times_out_and_drops_the_connection() -> None:
    received: list[bytes] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):  # reads everything, answers nothing
            received.append(data)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mux = Mux(host="127.0.0.1", port=port, timeout=0.2)
    try:
        results = await asyncio.gather(mux.call_many(cmd("PING"), 1),
                                       mux.call_many(cmd("PING"), 1), return_exceptions=True)
        assert all(isinstance(r, RedisTimeoutError) for r in results), results
        assert b"".join(received).count(b"PING") == 2  # both sent, never answered
        assert mux._conn is not None and mux._conn.closed
    finally:
        await mux.aclose()
        server.close()


async def test_a_caller_that_gives_up_does_not_shift_the_replies(redis: aioredis.Redis) -> None:
    mux = for_client(redis)
    assert mux is not None
    await mux.call_many(cmd("SET", "a", "A") + cmd("SET", "b", "B"), 2)
    gave_up = asyncio.ensure_future(mux.call_many(cmd("GET", "a"), 1))
    await asyncio.sleep(0)  # sent
    gave_up.cancel()
    assert await mux.call_many(cmd("GET", "b"), 1) == [b"B"]


async def test_the_clients_database_is_selected(redis_handle) -> None:
    other = aioredis.Redis.from_url(redis_handle.url + "?db=3")
    try:
        mux = for_client(other)
        assert mux is not None
        await mux.call_many(cmd("SET", "in-db-3", "yes"), 1)
        assert await other.get("in-db-3") == b"yes"
        default = redis_handle.client(timeout=5)
        assert await default.get("in-db-3") is None
        await default.aclose()
        await other.delete("in-db-3")
    finally:
        await other.aclose()


async def test_only_plain_clients_get_a_mux(redis: aioredis.Redis, redis_handle) -> None:
    assert for_client(redis) is for_client(redis)
    assert for_client(redis.pipeline()) is None
    single = aioredis.Redis(unix_socket_path=redis_handle.url.removeprefix("unix://"),
                            single_connection_client=True)
    assert for_client(single) is None
    await single.aclose()
    assert for_client(aioredis.Redis.from_url("rediss://localhost:6390")) is None
    assert for_client(object()) is None


async def test_reads_without_a_mux_take_the_pool(redis: aioredis.Redis) -> None:
    await redis.set("p", "1")
    assert await rawcall._exchange_pooled(redis, cmd("GET", "p"), 1) == [b"1"]
    with pytest.raises(RedisConnectionError):
        raise NotSent("NotSent is a ConnectionError: callers that catch those catch it")
