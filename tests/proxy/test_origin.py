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
    """Reads the request and never answers."""
    await peer.request()
    await asyncio.sleep(3600)


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
