"""The origin client (``edge.origin``): keep-alive pooling, response framing, streaming with
back-pressure, request bodies, timeouts, broken origins, the pool's limit and TLS.

Two kinds of origin are used. The Starlette test origin under uvicorn
(``tests.support.origin``) shows what a real server does. :class:`RawOrigin`, an asyncio
server in the test's own event loop, reads requests and writes exact bytes: framing, broken
responses and connection handling that a real server would not produce on demand, and a count
of the connections it saw.

Timing is only asserted as "it timed out" or "it did not hang" (``HANG``, far above anything
expected); timeouts under test are short (0.3 s) and the origin's stalls long.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge import origin as origin_module
from edge.errors import OriginError, OriginTimeout
from edge.origin import OriginClient, OriginResponse
from tests.support.origin import GATE, PLAIN_PAGE, SLOT_PAGE, create_origin
from tests.support.servers import free_port, serve

HANG = 10.0  # seconds: "did not hang", far above anything these tests wait for
SHORT = 0.3  # seconds: the read/connect timeout of tests about timeouts
MiB = 1024 * 1024
BIG = random.Random(7).randbytes(8 * MiB)  # incompressible, so a misplaced byte shows


# --- helpers: bytes on the wire --------------------------------------------------------------


def response(
    body: bytes = b"",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: tuple[tuple[str, str], ...] = (),
    length: bool = True,
    version: str = "HTTP/1.1",
) -> bytes:
    """A response as bytes: status line, ``headers``, a Content-Length unless ``length`` is
    false, and ``body``."""
    lines = [f"{version} {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    if length:
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*parts: bytes) -> bytes:
    """``parts`` in chunked transfer coding, with the last chunk."""
    return b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


async def body_of(*parts: bytes) -> AsyncIterator[bytes]:
    """A request body as the client takes it: an async iterator of bytes."""
    for part in parts:
        await asyncio.sleep(0)
        yield part


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition()`` holds (failing after ``HANG``)."""
    async with asyncio.timeout(HANG):
        while not condition():
            await asyncio.sleep(0.001)


async def fetch(client: OriginClient, target: str = "/", method: str = "GET", **kw: Any) -> bytes:
    """A whole exchange: the body read, the response released."""
    async with await client.request(method, target, **kw) as resp:
        return await resp.read()


# --- helpers: a raw origin -------------------------------------------------------------------


class Peer:
    """One connection a :class:`RawOrigin` accepted: read requests, write bytes."""

    def __init__(self, origin: RawOrigin, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, index: int):
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.index = index  # 0 for the origin's first connection, 1 for the next...

    async def request(self) -> tuple[bytes, bytes]:
        """The next request's head (as sent) and body (decoded); IncompleteReadError once the
        client closed the connection."""
        head = await self.reader.readuntil(b"\r\n\r\n")
        self.origin.requests.append(head)
        fields: dict[bytes, bytes] = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        if b"content-length" in fields:
            body = await self.reader.readexactly(int(fields[b"content-length"]))
        elif b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                assert await self.reader.readexactly(2) == b"\r\n"
            while (await self.reader.readline()) not in (b"\r\n", b""):
                pass  # trailers
            body = b"".join(parts)
        else:
            body = b""
        self.origin.bodies.append(body)
        return head, body

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def wait_closed_by_client(self) -> None:
        """Until the client closes its end (what it sends meanwhile is dropped)."""
        while await self.reader.read(65536):
            pass
        self.origin.closed_by_client += 1


Handler = Callable[[Peer], Awaitable[None]]


class RawOrigin:
    """An HTTP origin on 127.0.0.1 that runs ``handler(peer)`` for each connection, in the
    test's event loop. Counts connections (all, and most open at once) and keeps every
    request head as received."""

    def __init__(self, handler: Handler, *, tls: ssl.SSLContext | None = None):
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.closed_by_client = 0
        self.requests: list[bytes] = []
        self.bodies: list[bytes] = []
        self.errors: list[BaseException] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawOrigin:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
        assert not self.errors, f"the raw origin's handler failed: {self.errors!r}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        peer = Peer(self, reader, writer, self.connections)
        self.connections += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await self.handler(peer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        except asyncio.CancelledError:
            pass  # the test is over (ending normally keeps asyncio's done-callback quiet)
        except Exception as exc:  # noqa: BLE001 - reported by __aexit__
            self.errors.append(exc)
        finally:
            self.active -= 1
            self._tasks.discard(task)
            writer.close()


def keep_alive(body: bytes = b"hello", **kw: Any) -> Handler:
    """A handler that answers every request on a connection with ``response(body, **kw)``."""

    async def handler(peer: Peer) -> None:
        while True:
            await peer.request()
            await peer.send(response(body, **kw))

    return handler


async def silent(peer: Peer) -> None:
    """Reads the request and never answers; returns once the client closed the connection."""
    await peer.request()
    await peer.wait_closed_by_client()


def drop_second_request(answer: bytes = b"fresh") -> Handler:
    """The first connection answers one request, then reads the next and closes without an
    answer (an origin closing an idle keep-alive connection as a request comes in); later
    connections answer every request with ``answer``."""

    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.send(response(b"first"))
            await peer.request()
            return
        await keep_alive(answer)(peer)

    return handler


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """The Starlette test origin under uvicorn."""
    with serve(create_origin()) as url:
        yield url


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., OriginClient]]:
    """``make_client(url, **options)``: an OriginClient, closed when the test ends."""
    made: list[OriginClient] = []

    def make(url: str, **options: Any) -> OriginClient:
        made.append(OriginClient(url, **options))
        return made[-1]

    yield make
    for client in made:
        await client.close()


# --- keep-alive ------------------------------------------------------------------------------


async def test_sequential_requests_reuse_one_connection(make_client) -> None:
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url)
        for _ in range(5):
            assert await fetch(client) == b"hello"
            assert client.open_connections == 1
        assert raw.connections == 1
        assert len(raw.requests) == 5


async def test_real_server_keeps_one_connection(make_client, origin: str) -> None:
    client = make_client(origin)
    for target, expected in [("/plain", PLAIN_PAGE), ("/chunked", SLOT_PAGE),
                             ("/plain", PLAIN_PAGE)]:
        async with await client.request("GET", target) as resp:
            assert resp.status == 200
            assert (await resp.read()).decode() == expected
        assert client.open_connections == 1


async def test_response_with_connection_close_is_not_reused(make_client) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"bye", headers=(("connection", "close"),)))

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        for _ in range(2):
            assert await fetch(client) == b"bye"
            assert client.open_connections == 0
        assert raw.connections == 2


async def test_idle_connection_is_not_reused_after_keepalive(make_client) -> None:
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url, keepalive=0.1)
        assert await fetch(client) == b"hello"
        await asyncio.sleep(0.3)
        assert await fetch(client) == b"hello"
        assert raw.connections == 2
        assert client.open_connections == 1


async def test_idle_connection_is_closed_after_keepalive(make_client) -> None:
    """"An idle connection is closed after keepalive seconds", with no later request to
    find it expired."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"hello"))
        await peer.wait_closed_by_client()

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, keepalive=0.1)
        assert await fetch(client) == b"hello"
        await until(lambda: raw.closed_by_client == 1)
        assert client.open_connections == 0


# --- response framing ------------------------------------------------------------------------


async def test_content_length_body(make_client) -> None:
    async with RawOrigin(keep_alive(b"x" * 5000, headers=(("x-kind", "length"),))) as raw:
        client = make_client(raw.url)
        async with await client.request("GET", "/") as resp:
            assert resp.status == 200
            assert (b"x-kind", b"length") in resp.raw_headers
            assert (b"content-length", b"5000") in resp.raw_headers
            assert await resp.read() == b"x" * 5000
        assert client.open_connections == 1


async def test_chunked_body_in_several_chunks(make_client) -> None:
    parts = [b"alpha-", b"beta-" * 100, b"gamma"]

    async def handler(peer: Peer) -> None:
        while True:
            await peer.request()
            await peer.send(response(headers=(("transfer-encoding", "chunked"),), length=False))
            for part in parts:  # each chunk in its own write, with a pause between
                await peer.send(b"%x\r\n%b\r\n" % (len(part), part))
                await asyncio.sleep(0.01)
            await peer.send(b"0\r\n\r\n")

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        async with await client.request("GET", "/") as resp:
            got = [chunk async for chunk in resp.iter_chunks()]
        assert b"".join(got) == b"".join(parts)
        assert len(got) > 1  # streamed as it came, not gathered
        assert await fetch(client) == b"".join(parts)  # the end was found: same connection
        assert raw.connections == 1


@pytest.mark.parametrize(
    "version, headers",
    [("HTTP/1.0", ()), ("HTTP/1.1", (("connection", "close"),))],
    ids=["http-1.0", "http-1.1-connection-close"],
)
async def test_body_delimited_by_connection_close(make_client, version, headers) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(version=version, headers=headers, length=False))
        for part in (b"no ", b"length ", b"given"):
            await peer.send(part)
            await asyncio.sleep(0.01)
        # returning closes the connection: the end of the body

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        async with await client.request("GET", "/") as resp:
            assert resp.status == 200
            assert await resp.read() == b"no length given"
        assert client.open_connections == 0
        assert await fetch(client) == b"no length given"
        assert raw.connections == 2


async def test_head_response_has_no_body_and_its_connection_is_not_reused(make_client) -> None:
    async def handler(peer: Peer) -> None:
        while True:
            head, _ = await peer.request()
            if head.startswith(b"HEAD "):  # the length of the body a GET would get; none here
                await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n")
            else:
                await peer.send(response(b"got"))

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        resp = await asyncio.wait_for(client.request("HEAD", "/"), HANG)
        async with resp:
            assert resp.status == 200
            assert (b"content-length", b"1234") in resp.raw_headers
            assert await asyncio.wait_for(resp.read(), HANG) == b""
        assert client.open_connections == 0
        assert await fetch(client) == b"got"
        assert raw.connections == 2


async def test_head_against_real_server(make_client, origin: str) -> None:
    client = make_client(origin)
    async with await client.request("HEAD", "/plain") as resp:
        assert resp.status == 200
        assert await asyncio.wait_for(resp.read(), HANG) == b""
    assert (await fetch(client, "/plain")).decode() == PLAIN_PAGE


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\n\r\n",
        # a 304 may carry the length of the representation it stands for, still with no body
        b"HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n",
    ],
    ids=["204", "304", "304-with-content-length"],
)
async def test_204_and_304_have_no_body(make_client, head: bytes) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(head)
        await keep_alive(b"after")(peer)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        async with await asyncio.wait_for(client.request("GET", "/"), HANG) as resp:
            assert resp.status == int(head[9:12])
            assert await asyncio.wait_for(resp.read(), HANG) == b""
        assert client.open_connections == 1
        assert await fetch(client) == b"after"  # no byte of it was taken as a body
        assert raw.connections == 1


async def test_304_from_real_server(make_client, origin: str) -> None:
    client = make_client(origin)
    resp = await client.request("GET", "/conditional", [("if-none-match", '"abc"')])
    async with resp:
        assert resp.status == 304
        assert await resp.read() == b""
    assert (await fetch(client, "/conditional")).decode() == PLAIN_PAGE
    assert client.open_connections == 1


@pytest.mark.parametrize("split", [False, True], ids=["one-write", "separate-writes"])
async def test_informational_responses_come_before_the_real_one(make_client, split) -> None:
    parts = [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n",
        response(b"final", headers=(("x-final", "1"),)),
    ]

    async def handler(peer: Peer) -> None:
        while True:
            await peer.request()
            if split:
                for part in parts:
                    await peer.send(part)
                    await asyncio.sleep(0.01)
            else:
                await peer.send(b"".join(parts))

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        for _ in range(2):
            async with await client.request("GET", "/") as resp:
                assert resp.status == 200
                assert resp.raw_headers == [(b"x-final", b"1"), (b"content-length", b"5")]
                assert await resp.read() == b"final"
        assert raw.connections == 1


# --- read_upto -------------------------------------------------------------------------------


async def test_read_upto_returns_more_than_the_limit_and_leaves_the_rest(make_client) -> None:
    body = BIG[:300_000]
    go_on = asyncio.Event()

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(body)[: -len(body) + 100_000])  # the head and 100 000 bytes
        await go_on.wait()
        await peer.send(body[100_000:])
        await keep_alive()(peer)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        async with await client.request("GET", "/") as resp:
            first = await asyncio.wait_for(resp.read_upto(1000), HANG)
            assert 1000 < len(first) <= 100_000
            go_on.set()
            rest = [chunk async for chunk in resp.iter_chunks()]
        assert rest and first + b"".join(rest) == body
        assert client.open_connections == 1  # read to its end: back in the pool
        assert await fetch(client) == b"hello"
        assert raw.connections == 1


async def test_read_upto_returns_a_smaller_body_whole(make_client) -> None:
    async def handler(peer: Peer) -> None:
        while True:
            await peer.request()
            await peer.send(response(headers=(("transfer-encoding", "chunked"),), length=False))
            await peer.send(chunked(b"small ", b"body"))

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        for _ in range(2):
            async with await client.request("GET", "/") as resp:
                assert await asyncio.wait_for(resp.read_upto(1000), HANG) == b"small body"
                assert [c async for c in resp.iter_chunks()] == []
        assert raw.connections == 1


def streaming(body: bytes, *, chunk: int = 65536, use_chunked: bool = False) -> Handler:
    """A handler that sends ``body`` in writes of ``chunk`` bytes, each one drained (so it
    goes no faster than the client reads), with a Content-Length or chunked."""

    async def handler(peer: Peer) -> None:
        while True:
            await peer.request()
            if use_chunked:
                await peer.send(response(headers=(("transfer-encoding", "chunked"),),
                                         length=False))
            else:
                await peer.send(response(headers=(("content-length", str(len(body))),),
                                         length=False))
            for i in range(0, len(body), chunk):
                part = body[i : i + chunk]
                await peer.send(b"%x\r\n%b\r\n" % (len(part), part) if use_chunked else part)
            if use_chunked:
                await peer.send(b"0\r\n\r\n")

    return handler


@pytest.mark.parametrize("use_chunked", [False, True], ids=["content-length", "chunked"])
async def test_read_upto_a_limit_above_the_pause_mark(make_client, use_chunked) -> None:
    """A limit of several MB (the proxy's max_rewrite_bytes is 5 MiB) is more than the client
    holds before pausing the origin: it must still read up to the limit, not stall."""
    body = BIG[: 3 * MiB]
    async with RawOrigin(streaming(body, use_chunked=use_chunked)) as raw:
        client = make_client(raw.url, read_timeout=2.0)
        async with await client.request("GET", "/") as resp:
            assert sha(await asyncio.wait_for(resp.read_upto(5 * MiB), HANG)) == sha(body)
        async with await client.request("GET", "/") as resp:
            first = await asyncio.wait_for(resp.read_upto(2 * MiB), HANG)
            assert len(first) > 2 * MiB
            rest = b"".join([c async for c in resp.iter_chunks()])
            assert sha(first + rest) == sha(body)
        assert raw.connections == 1


# --- streaming and back-pressure -------------------------------------------------------------


async def test_big_body_streams_intact_and_reading_pauses_for_a_slow_reader(make_client):
    async with RawOrigin(streaming(BIG)) as raw:
        client = make_client(raw.url)
        async with await client.request("GET", "/") as resp:
            conn = resp._conn
            assert conn is not None
            got: list[bytes] = []
            held: list[int] = []
            paused = False
            async for chunk in resp.iter_chunks():
                got.append(chunk)
                if len(got) <= 12:  # a slow reader for a while: the origin could send it all
                    await asyncio.sleep(0.03)
                    held.append(conn.buffered)
                    paused = paused or conn._paused
        assert sha(b"".join(got)) == sha(BIG)
        assert paused
        # The pause mark (1 MiB) and at most one read past it; never the 8 MiB body.
        assert max(held) <= 2 * MiB
        assert max(map(len, got)) <= 2 * MiB
        assert client.open_connections == 1
        assert raw.connections == 1


async def test_read_takes_a_big_body_whole(make_client) -> None:
    async with RawOrigin(streaming(BIG, use_chunked=True)) as raw:
        client = make_client(raw.url)
        assert sha(await asyncio.wait_for(fetch(client), HANG)) == sha(BIG)
        assert client.open_connections == 1


async def test_streamed_body_from_real_server_comes_as_sent(make_client, origin: str) -> None:
    client = make_client(origin)
    async with await client.request("GET", "/stream") as resp:
        chunks = resp.iter_chunks()
        # The first part arrives while the origin holds the rest back.
        assert await asyncio.wait_for(anext(chunks), HANG) == b"first-chunk;"
        GATE.open()
        rest = b"".join([c async for c in chunks])
    assert rest == b"x" * 16384 * 64
    assert client.open_connections == 1


# --- request bodies and heads ----------------------------------------------------------------


async def test_request_body_with_content_length_goes_as_is(make_client, origin: str) -> None:
    parts = [b"a" * 1000, b"b" * 70_000, b"c"]
    body = b"".join(parts)
    client = make_client(origin)
    raw = await fetch(client, "/echo", "POST", body=body_of(*parts),
                      headers=[("content-type", "application/octet-stream"),
                               ("content-length", str(len(body)))])
    echo = json.loads(raw)
    headers = dict(echo["headers"])
    assert headers["content-length"] == str(len(body))
    assert "transfer-encoding" not in headers
    assert (echo["body_length"], echo["body_sha"]) == (len(body), sha(body))


@pytest.mark.parametrize(
    "parts",
    [[b"one,", b"two,", b"three"], [b"ab", b"", b"cd"], [], [BIG[: 4 * MiB]]],
    ids=["several", "empty-part-skipped", "no-parts", "4-MiB"],
)
async def test_request_body_without_length_goes_chunked(make_client, origin, parts) -> None:
    body = b"".join(parts)
    client = make_client(origin)
    raw = await asyncio.wait_for(fetch(client, "/echo", "PUT", body=body_of(*parts)), HANG)
    echo = json.loads(raw)
    headers = dict(echo["headers"])
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert (echo["body_length"], echo["body_sha"]) == (len(body), sha(body))
    assert client.open_connections == 1  # the body's end was clear: the connection goes on


async def test_request_head_is_sent_in_order_with_only_a_host_added(make_client) -> None:
    async with RawOrigin(keep_alive()) as raw:
        client = make_client(raw.url)
        host = f"127.0.0.1:{raw.port}".encode()
        await fetch(client, "/a?b=1", headers=[("X-One", "1"), ("accept", "*/*"), ("x-one", "2")])
        await fetch(client, "/", headers=[("x-a", "1"), ("Host", "shop.example")])
        await fetch(client, "/p", "POST", headers=[("Content-Length", "5")],
                    body=body_of(b"he", b"llo"))
        await fetch(client, "/c", "POST", headers=[("x-b", "2")], body=body_of(b"hi"))
        await fetch(client, "/d", "DELETE")
    assert raw.requests == [
        b"GET /a?b=1 HTTP/1.1\r\nhost: %b\r\nX-One: 1\r\naccept: */*\r\nx-one: 2\r\n\r\n" % host,
        b"GET / HTTP/1.1\r\nx-a: 1\r\nHost: shop.example\r\n\r\n",
        b"POST /p HTTP/1.1\r\nhost: %b\r\nContent-Length: 5\r\n\r\n" % host,
        b"POST /c HTTP/1.1\r\nhost: %b\r\nx-b: 2\r\ntransfer-encoding: chunked\r\n\r\n" % host,
        b"DELETE /d HTTP/1.1\r\nhost: %b\r\n\r\n" % host,
    ]
    assert raw.bodies == [b"", b"", b"hello", b"hi", b""]
    assert raw.connections == 1


@pytest.mark.parametrize(
    "method, target, headers",
    [
        ("GET", "/", [("x-a", "1\r\nx-injected: 1")]),
        ("GET", "/", [("x-a", "1\nx-injected: 1")]),
        ("GET", "/", [("x-a", "1\rx-injected: 1")]),
        ("GET", "/", [("x-a\r\nx-injected", "1")]),
        ("GET", "/ HTTP/1.1\r\nx-injected: 1\r\nx-a:", []),
        ("GET /x HTTP/1.1\r\nx-injected: 1\r\n\r\nGET", "/", []),
        ("GET", "/", [("x-a", "Zażółć")]),  # not Latin-1: no way to send it as it is
    ],
    ids=["crlf-value", "lf-value", "cr-value", "crlf-name", "crlf-target", "crlf-method",
         "not-latin-1"],
)
async def test_unsendable_request_is_refused_before_anything_is_sent(
    make_client, method, target, headers
) -> None:
    async with RawOrigin(keep_alive()) as raw:
        client = make_client(raw.url)
        with pytest.raises(OriginError):
            await client.request(method, target, headers)
        assert client.open_connections == 0
        assert raw.connections == 0
        assert await fetch(client, "/after") == b"hello"  # and the client is still fine
    assert raw.requests == [b"GET /after HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n\r\n" % raw.port]


# --- timeouts --------------------------------------------------------------------------------


async def test_origin_that_never_answers_times_out(make_client) -> None:
    async with RawOrigin(silent) as raw:
        client = make_client(raw.url, read_timeout=SHORT)
        with pytest.raises(OriginTimeout):
            await asyncio.wait_for(client.request("GET", "/"), HANG)
        assert client.open_connections == 0
        await until(lambda: raw.active == 0)  # the client closed the connection


async def test_slow_real_origin_times_out(make_client, origin: str) -> None:
    client = make_client(origin, read_timeout=SHORT)
    with pytest.raises(OriginTimeout):
        await asyncio.wait_for(client.request("GET", "/slow?s=2"), HANG)
    assert client.open_connections == 0


async def test_stall_mid_body_times_out_in_read(make_client, origin: str) -> None:
    client = make_client(origin, read_timeout=SHORT)
    resp = await asyncio.wait_for(client.request("GET", "/stall?s=2&kind=bin"), HANG)
    async with resp:
        assert resp.status == 200
        with pytest.raises(OriginTimeout):
            await asyncio.wait_for(resp.read(), HANG)
    assert client.open_connections == 0


async def test_stall_mid_body_times_out_in_iter_chunks(make_client) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"x" * 100)[:-50])  # half the body, then nothing
        await peer.wait_closed_by_client()

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, read_timeout=SHORT)
        got = []
        async with await client.request("GET", "/") as resp:
            with pytest.raises(OriginTimeout):
                async with asyncio.timeout(HANG):
                    async for chunk in resp.iter_chunks():
                        got.append(chunk)
        assert b"".join(got) == b"x" * 50
        assert client.open_connections == 0
        await until(lambda: raw.active == 0)


async def test_slow_reader_does_not_cause_a_timeout(make_client) -> None:
    body = BIG[: 3 * MiB]
    timeout = 0.5  # a little above SHORT: only the reader's pauses should outlast it
    async with RawOrigin(streaming(body)) as raw:
        client = make_client(raw.url, read_timeout=timeout)
        async with await client.request("GET", "/") as resp:
            await asyncio.sleep(2 * timeout)  # busy elsewhere: not waiting on the origin
            got = []
            async for chunk in resp.iter_chunks():
                got.append(chunk)
                if len(got) <= 2:  # reading paused meanwhile: the origin cannot send
                    await asyncio.sleep(1.5 * timeout)
        assert sha(b"".join(got)) == sha(body)
        assert raw.connections == 1


async def test_timer_does_not_spin_while_the_reader_is_busy(make_client, monkeypatch) -> None:
    """The connection's timer looks at the clock now and then while nobody waits on the
    origin, not on every turn of the event loop."""
    calls = 0
    on_timer = origin_module._Connection._on_timer

    def counting(self: Any) -> None:
        nonlocal calls
        calls += 1
        on_timer(self)

    monkeypatch.setattr(origin_module._Connection, "_on_timer", counting)
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url, read_timeout=0.1)
        async with await client.request("GET", "/") as resp:
            await asyncio.sleep(1.0)  # ten read timeouts, not waiting on the origin
            assert await resp.read() == b"hello"
    assert calls <= 30  # about one a timeout; it was one a millisecond


async def test_origin_not_taking_the_request_body_times_out(make_client) -> None:
    async def handler(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")  # the head, then the body is never read
        await asyncio.sleep(3600)

    async def endless() -> AsyncIterator[bytes]:
        part = b"z" * 65536
        for _ in range(4096):  # 256 MiB: far more than the sockets between can hold
            yield part

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, read_timeout=SHORT)
        with pytest.raises(OriginTimeout):
            await asyncio.wait_for(client.request("POST", "/", body=endless()), HANG)
        assert client.open_connections == 0


async def test_refused_connection_is_an_error_not_a_timeout(make_client) -> None:
    client = make_client(f"http://127.0.0.1:{free_port()}", connect_timeout=HANG)
    with pytest.raises(OriginError) as caught:
        await asyncio.wait_for(client.request("GET", "/"), HANG)
    assert not isinstance(caught.value, OriginTimeout)
    assert client.open_connections == 0


async def test_connect_timeout(make_client) -> None:
    """A TLS handshake is part of connecting: a server that accepts and stays silent makes
    the connect timeout fire."""

    async def handler(peer: Peer) -> None:
        await peer.wait_closed_by_client()

    async with RawOrigin(handler) as raw:
        client = make_client(f"https://127.0.0.1:{raw.port}", connect_timeout=SHORT,
                             read_timeout=HANG)
        with pytest.raises(OriginTimeout):
            await asyncio.wait_for(client.request("GET", "/"), HANG)
        assert client.open_connections == 0


# --- broken responses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage, not HTTP at all\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: twelve\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n",
    ],
    ids=["garbage", "bad-status", "bad-length", "bad-header"],
)
async def test_malformed_response_is_an_error_and_the_connection_is_dropped(
    make_client, answer: bytes
) -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.send(answer)
            await peer.wait_closed_by_client()
        else:
            await keep_alive()(peer)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        with pytest.raises(OriginError) as caught:
            await asyncio.wait_for(client.request("GET", "/"), HANG)
        assert not isinstance(caught.value, OriginTimeout)
        assert client.open_connections == 0
        await until(lambda: raw.closed_by_client == 1)
        assert await fetch(client) == b"hello"
        assert raw.connections == 2


@pytest.mark.parametrize(
    "head, rest",
    [
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", b"5\r\nhello\r\nzz\r\n"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n", b"only ten b"),
    ],
    ids=["bad-chunk", "cut-short"],
)
async def test_broken_body_is_an_error(make_client, head: bytes, rest: bytes) -> None:
    head_taken = asyncio.Event()

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(head)
        await head_taken.wait()
        await peer.send(rest)  # then closes

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, read_timeout=HANG)
        async with await client.request("GET", "/") as resp:
            head_taken.set()
            with pytest.raises(OriginError) as caught:
                await asyncio.wait_for(resp.read(), HANG)
            assert not isinstance(caught.value, OriginTimeout)
        assert client.open_connections == 0
        assert raw.connections == 1


# --- connections the origin closed -----------------------------------------------------------


async def test_connection_closed_by_origin_while_idle_is_replaced(make_client) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"n%d" % peer.index))  # keep-alive, then closes anyway

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        assert await fetch(client) == b"n0"
        await until(lambda: client.open_connections == 0)  # the close was noticed
        assert await fetch(client) == b"n1"
        assert await fetch(client) == b"n2"  # even without a moment between
        assert raw.connections == 3


async def test_get_on_a_connection_the_origin_dropped_is_retried_once(make_client) -> None:
    async with RawOrigin(drop_second_request()) as raw:
        client = make_client(raw.url)
        assert await fetch(client) == b"first"
        assert await fetch(client, "/again") == b"fresh"
        assert raw.connections == 2
        assert [r.split(b" ")[1] for r in raw.requests] == [b"/", b"/again", b"/again"]
        assert client.open_connections == 1


@pytest.mark.parametrize(
    "method, body, retried",
    [
        ("DELETE", None, True),
        ("POST", None, False),  # not idempotent
        ("POST", b"order=1", False),
        ("PUT", b"data", False),  # idempotent, but the body was taken once already
    ],
)
async def test_request_that_may_not_be_repeated_is_not_retried(
    make_client, method: str, body: bytes | None, retried: bool
) -> None:
    async with RawOrigin(drop_second_request()) as raw:
        client = make_client(raw.url)
        assert await fetch(client) == b"first"
        sending = body_of(body) if body is not None else None
        if retried:
            assert await fetch(client, "/x", method, body=sending) == b"fresh"
        else:
            with pytest.raises(OriginError) as caught:
                await asyncio.wait_for(client.request(method, "/x", body=sending), HANG)
            assert not isinstance(caught.value, OriginTimeout)
        assert raw.connections == (2 if retried else 1)
        assert sum(r.startswith(method.encode()) for r in raw.requests) == (2 if retried else 1)
        if body is not None:
            assert raw.bodies.count(body) == 1
        assert await fetch(client) == b"fresh"  # and the next request goes on a new one


# --- the pool --------------------------------------------------------------------------------


async def test_pool_limit_holds_under_concurrent_requests(make_client) -> None:
    async def handler(peer: Peer) -> None:
        while True:
            head, _ = await peer.request()
            await asyncio.sleep(0.05)
            await peer.send(response(b"ok " + head.split(b" ")[1]))

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, pool_size=2)
        seen: list[int] = []

        async def one(i: int) -> bytes:
            async with await client.request("GET", f"/{i}") as resp:
                seen.append(client.open_connections)
                return await resp.read()

        bodies = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(5))), HANG)
        assert bodies == [b"ok /%d" % i for i in range(5)]
        assert max(seen) <= 2
        assert raw.max_active <= 2
        assert raw.connections == 2
        assert client.open_connections == 2


async def holding_one_with_one_waiting(
    client: OriginClient,
) -> tuple[OriginResponse, asyncio.Task[OriginResponse]]:
    """A pool of one: a response holding its connection, and a request waiting for it."""
    first = await client.request("GET", "/")
    waiting = asyncio.create_task(client.request("GET", "/"))
    await until(lambda: len(client._waiters) == 1)
    return first, waiting


async def test_cancelled_waiter_does_not_leak_a_slot(make_client) -> None:
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url, pool_size=1)
        first, waiting = await holding_one_with_one_waiting(client)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await first.read() == b"hello"
        first.release()
        for _ in range(3):
            assert await asyncio.wait_for(fetch(client), HANG) == b"hello"
            assert client.open_connections <= 1
        assert raw.connections == 1


async def test_waiter_cancelled_just_after_a_connection_was_handed_to_it(make_client) -> None:
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url, pool_size=1)
        first, waiting = await holding_one_with_one_waiting(client)
        assert await first.read() == b"hello"
        first.release()  # hands the connection to the waiter...
        waiting.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert client.open_connections == 1  # back in the pool, not lost nor counted twice
        assert await asyncio.wait_for(fetch(client), HANG) == b"hello"
        assert raw.connections == 1


async def cancel_and_serve_again(client: OriginClient, task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` (a request): it ends cancelled, holds no connection, and the client
    then fetches ``hello`` again."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.open_connections == 0
    assert await asyncio.wait_for(fetch(client), HANG) == b"hello"


async def test_waiter_cancelled_just_after_a_slot_was_freed_for_it(make_client) -> None:
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url, pool_size=1)
        first, waiting = await holding_one_with_one_waiting(client)
        first.release()  # body unread: the connection is closed, its slot given to the waiter
        await cancel_and_serve_again(client, waiting)
        assert client.open_connections == 1


async def test_cancelled_request_in_flight_frees_its_connection(make_client) -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:
            await silent(peer)
        else:
            await keep_alive(b"hello")(peer)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, pool_size=1)
        pending = asyncio.create_task(client.request("GET", "/"))
        await until(lambda: len(raw.requests) == 1)
        await cancel_and_serve_again(client, pending)
        assert raw.connections == 2


# --- releasing responses and closing the client ----------------------------------------------


@pytest.mark.parametrize("size", [10, 3 * MiB], ids=["small-already-in", "big-still-coming"])
async def test_releasing_an_unread_response_closes_its_connection(make_client, size) -> None:
    async with RawOrigin(streaming(BIG[:size])) as raw:
        client = make_client(raw.url)
        resp = await client.request("GET", "/")
        assert client.open_connections == 1
        resp.release()
        assert client.open_connections == 0
        await until(lambda: raw.active == 0)
        with pytest.raises(OriginError):
            await resp.read()
        resp.release()  # twice is harmless
        async with await client.request("GET", "/") as resp:
            await resp.read_upto(1)  # part of it, then left with ``async with``
        assert client.open_connections == (1 if size <= 65536 else 0)
        assert raw.connections == 2


async def test_close_ends_idle_connections_waiters_and_later_requests(make_client) -> None:
    async def handler(peer: Peer) -> None:
        await keep_alive(b"hello")(peer)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url, pool_size=2)
        assert await fetch(client) == b"hello"  # one idle connection
        busy = await client.request("GET", "/")
        busy2 = await client.request("GET", "/")
        waiting = asyncio.create_task(client.request("GET", "/"))
        await until(lambda: len(client._waiters) == 1)
        assert client.open_connections == 2
        await client.close()
        with pytest.raises(OriginError):
            await asyncio.wait_for(waiting, HANG)
        assert await busy.read() == b"hello"  # a response in hand can still be read
        busy.release()
        busy2.release()
        assert client.open_connections == 0
        await until(lambda: raw.active == 0)
        with pytest.raises(OriginError):
            await client.request("GET", "/")
        assert raw.connections == 2


async def test_close_ends_an_idle_connection(make_client) -> None:
    async with RawOrigin(keep_alive(b"hello")) as raw:
        client = make_client(raw.url)
        assert await fetch(client) == b"hello"
        assert client.open_connections == 1
        await client.close()
        assert client.open_connections == 0
        await until(lambda: raw.active == 0)


def test_origin_must_be_an_http_url() -> None:
    for bad in ("ftp://127.0.0.1/", "127.0.0.1:8000", "http://"):
        with pytest.raises(ValueError):
            OriginClient(bad)


async def test_client_without_origin_refuses_requests() -> None:
    client = OriginClient("")
    with pytest.raises(OriginError):
        await client.request("GET", "/")
    assert client.target_of("http://example.com/") is None


# --- an origin under a path, and targets -----------------------------------------------------


async def test_origin_with_a_base_path_prefixes_targets(make_client) -> None:
    async with RawOrigin(keep_alive()) as raw:
        client = make_client(raw.url + "/shop/")
        await fetch(client, "/cart?x=1")
        await fetch(client, "/")
    assert [r.split(b"\r\n")[0] for r in raw.requests] == [
        b"GET /shop/cart?x=1 HTTP/1.1", b"GET /shop/ HTTP/1.1"]
    assert raw.requests[0].split(b"\r\n")[1] == b"host: 127.0.0.1:%d" % raw.port


@pytest.mark.parametrize(
    "url, target",
    [
        ("http://127.0.0.1:8000/shop/cart?x=1", "/cart?x=1"),
        ("http://127.0.0.1:8000/shop", "/"),
        ("http://127.0.0.1:8000/shop/", "/"),
        ("HTTP://127.0.0.1:8000/shop/a", "/a"),
        ("/shop/a/b?c", "/a/b?c"),
        ("a/b", "/a/b"),  # relative to the origin: under its path
        ("?q=1", "/?q=1"),
        ("http://127.0.0.1:8000/shopping", None),
        ("http://127.0.0.1:8000/other/shop", None),
        ("/other", None),
        ("http://example.com/shop/a", None),
        ("//example.com/shop/a", None),
        ("http://127.0.0.1:8001/shop/a", None),
        ("https://127.0.0.1:8000/shop/a", None),
    ],
)
def test_target_of_with_a_base_path(url: str, target: str | None) -> None:
    assert OriginClient("http://127.0.0.1:8000/shop").target_of(url) == target


@pytest.mark.parametrize(
    "url, target",
    [
        ("http://127.0.0.1:8000/a?b=c", "/a?b=c"),
        ("http://127.0.0.1:8000", "/"),
        ("/x/y", "/x/y"),
        ("x", "/x"),
        ("http://example.com/a", None),
        ("//example.com/a", None),
        ("http://127.0.0.1:9000/a", None),
    ],
)
def test_target_of_without_a_base_path(url: str, target: str | None) -> None:
    assert OriginClient("http://127.0.0.1:8000").target_of(url) == target


# --- https -----------------------------------------------------------------------------------


def _cert_with_cryptography(cert: Path, key: Path) -> bool:
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return False
    import ipaddress

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return True


def _cert_with_openssl(cert: Path, key: Path) -> bool:
    if shutil.which("openssl") is None:
        return False
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True, timeout=60, check=False,
    )
    return done.returncode == 0


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it:
    from trustme, else a self-signed one from cryptography or the openssl command; nothing
    is installed for it."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    client = ssl.create_default_context()
    try:
        import trustme
    except ImportError:
        pass
    else:
        ca = trustme.CA()
        ca.issue_cert("127.0.0.1").configure_cert(server)
        ca.configure_trust(client)
        return server, client
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not (_cert_with_cryptography(cert, key) or _cert_with_openssl(cert, key)):
        pytest.skip("cannot make a TLS certificate: neither trustme nor cryptography is "
                    "installed, and there is no working openssl command")
    server.load_cert_chain(cert, key)
    client.load_verify_locations(cert)
    return server, client


async def test_https_origin(make_client, tls) -> None:
    server_tls, client_tls = tls
    body = BIG[: 3 * MiB]

    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(response(b"small"))
        await streaming(body)(peer)

    async with RawOrigin(handler, tls=server_tls) as raw:
        client = make_client(raw.url, ssl_context=client_tls)
        assert raw.url.startswith("https://")
        assert await asyncio.wait_for(fetch(client), HANG) == b"small"
        async with await client.request("GET", "/big") as resp:
            got = []
            async for chunk in resp.iter_chunks():
                got.append(chunk)
                if len(got) <= 3:
                    await asyncio.sleep(0.03)  # a slow reader over TLS too
        assert sha(b"".join(got)) == sha(body)
        assert raw.connections == 1
        assert client.open_connections == 1


async def test_https_origin_with_an_untrusted_certificate(make_client, tls) -> None:
    server_tls, _ = tls
    async with RawOrigin(keep_alive(), tls=server_tls) as raw:
        client = make_client(raw.url)  # the system's trust store, which has no such issuer
        with pytest.raises(OriginError) as caught:
            await asyncio.wait_for(client.request("GET", "/"), HANG)
        assert not isinstance(caught.value, OriginTimeout)
        assert client.open_connections == 0


# --- answers before the request body is all sent, and bodies cut short -----------------------


def early_answer(close: bool) -> Handler:
    """Reads the request head only, answers 413 at once without reading the body, then closes
    the connection or keeps it open (reading nothing more)."""

    async def handler(peer: Peer) -> None:
        peer.origin.requests.append(await peer.reader.readuntil(b"\r\n\r\n"))
        await peer.send(response(b"too big", status=413, reason="Content Too Large"))
        if close:
            return
        await asyncio.sleep(HANG)

    return handler


@pytest.mark.parametrize("close", [True, False], ids=["then-closes", "keeps-open"])
async def test_an_answer_before_the_body_is_sent_is_the_answer(make_client, close: bool) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for _ in range(64):  # 64 MiB: far more than the socket buffers hold
            yield b"x" * (1024 * 1024)

    async with RawOrigin(early_answer(close)) as raw:
        client = make_client(raw.url, read_timeout=HANG)
        async with asyncio.timeout(HANG / 2):
            resp = await client.request("POST", "/upload", [("content-length", str(64 << 20))],
                                        upload())
            async with resp:
                assert resp.status == 413
                assert await resp.read() == b"too big"
        assert client.open_connections == 0  # the rest of the upload was never sent: not reused


async def test_a_request_body_that_breaks_off_is_never_ended_for_the_origin(make_client) -> None:
    class Gone(Exception):
        pass

    async def upload() -> AsyncIterator[bytes]:
        yield b"first part"
        raise Gone

    async def handler(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        received = b""
        while data := await peer.reader.read(65536):
            received += data
        peer.origin.bodies.append(received)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        with pytest.raises(Gone):
            await client.request("POST", "/form", [], upload())
        await until(lambda: bool(raw.bodies))
        assert raw.bodies == [b"a\r\nfirst part\r\n"]  # no last chunk: the origin sees no end
        assert client.open_connections == 0


async def test_a_switch_of_protocols_nobody_asked_for_is_an_origin_error(make_client) -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\n\r\n")
        await peer.wait_closed_by_client()

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        with pytest.raises(OriginError, match="switched protocols"):
            await client.request("GET", "/")
        assert client.open_connections == 0


@pytest.mark.parametrize("later", [True, False],
                         ids=["on-the-idle-connection", "right-after-the-answer"])
async def test_a_response_nobody_asked_for_ends_its_connection(make_client, later: bool) -> None:
    unasked = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nodd"

    async def handler(peer: Peer) -> None:
        if peer.index == 0:  # a response, then one more nobody asked for
            await peer.request()
            if later:
                await peer.send(response(b"one"))
                await asyncio.sleep(0.05)
                await peer.send(unasked)
            else:
                await peer.send(response(b"one") + unasked)
            await peer.wait_closed_by_client()
            return
        await keep_alive(b"two")(peer)

    async with RawOrigin(handler) as raw:
        client = make_client(raw.url)
        assert await fetch(client) == b"one"
        if later:  # the connection went idle before the origin wrote to it
            await until(lambda: raw.requests and client._idle and client._idle[0].received)
        assert await fetch(client) == b"two"
        assert raw.connections == 2
        if later:
            assert raw.closed_by_client == 1
