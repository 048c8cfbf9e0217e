"""The proxy against a real origin on loopback: headers, bodies, encodings, charsets, failures."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
import zlib
from collections.abc import Iterator

import brotli
import httpx
import pytest

from edge.app import create_app
from edge.page import Fills, Page, RequestHead, StaticPersonalizer
from edge.settings import Settings
from tests.support.origin import DATA, GATE, LATIN2_PAGE, PLAIN_PAGE, SLOT_PAGE, create_origin
from tests.support.servers import free_port, serve

FILLS = Fills(
    slots={"hero": '<p class="filled">Witaj Krzysztofie — 10 € → 中</p>'},
    body_end='<div id="edge-end"></div>',
)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with serve(create_origin()) as url:
        yield url


def _edge(origin: str, personalizer=None, **overrides) -> Iterator[str]:  # type: ignore[no-untyped-def]
    settings = Settings(origin=origin, **overrides)
    app = create_app(
        settings, personalizer or (lambda state: StaticPersonalizer(FILLS)), use_redis=False
    )
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def edge(origin: str) -> Iterator[str]:
    yield from _edge(origin, origin_timeout=1.0)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as c:
        yield c


def test_page_without_slot_and_nothing_to_inject_is_byte_for_byte(
    origin: str, client: httpx.Client
) -> None:
    for url in _edge(origin, inject_script=False):
        direct = client.get(origin + "/plain")
        via = client.get(url + "/plain")
        assert via.status_code == 200
        assert via.content == direct.content == PLAIN_PAGE.encode()
        assert via.headers["content-length"] == direct.headers["content-length"]


def test_slots_are_filled_and_body_end_injected(edge: str, client: httpx.Client) -> None:
    r = client.get(edge + "/slots")
    assert r.status_code == 200
    text = r.text
    assert (
        '<div data-edge-slot="hero"><p class="filled">Witaj Krzysztofie — 10 € → 中</p></div>'
        in text
    )
    assert "default hero" not in text
    assert '<section data-edge-slot="recs">default recs</section>' in text  # no fill: default stays
    # Body-end HTML goes in one marked container just before </body>.
    assert text.endswith('<div data-edge-end=""><div id="edge-end"></div></div></body></html>')
    assert int(r.headers["content-length"]) == len(r.content)
    # Personalized: never cached by shared caches, validators of the origin's copy dropped.
    assert r.headers["cache-control"] == "private, no-cache"
    assert "etag" not in r.headers
    assert "cookie" in r.headers["vary"].lower()


def test_forwarding_headers_and_hop_by_hop(edge: str, origin: str, client: httpx.Client) -> None:
    r = client.get(
        edge + "/echo?q=1",
        headers={
            "x-forwarded-for": "10.1.1.1",
            "connection": "keep-alive, x-secret-hop",
            "x-secret-hop": "1",
            "te": "trailers",
            "x-custom": "kept",
            "proxy-authorization": "x",
        },
    )
    payload = r.json()
    headers = dict(payload["headers"])
    assert payload["query"] == "q=1"
    assert headers["x-forwarded-for"] == "10.1.1.1, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == edge.removeprefix("http://")
    assert headers["host"] == origin.removeprefix("http://")
    assert headers["x-custom"] == "kept"
    for hop in ("x-secret-hop", "te", "proxy-authorization", "keep-alive"):
        assert hop not in headers


def test_host_policy(origin: str, client: httpx.Client) -> None:
    for url in _edge(origin, host_policy="origin"):
        host = dict(client.get(url + "/echo").json()["headers"])["host"]
        assert host == origin.removeprefix("http://")
    for url in _edge(origin, host_policy="preserve"):
        host = dict(client.get(url + "/echo", headers={"host": "shop.example"}).json()["headers"])[
            "host"
        ]
        assert host == "shop.example"


def test_request_body_is_streamed(edge: str) -> None:
    payload = b"field=" + b"z" * (3 * 1024 * 1024)

    def gen() -> Iterator[bytes]:
        for i in range(0, len(payload), 65536):
            yield payload[i : i + 65536]

    with httpx.Client(timeout=10) as c:
        r = c.post(
            edge + "/echo",
            content=gen(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        data = r.json()
        assert data["body_length"] == len(payload)
        assert data["body_sha"] == hashlib.sha256(payload).hexdigest()
        r2 = c.post(edge + "/echo", content=b"a=1&b=2", headers={"content-type": "text/plain"})
        assert r2.json()["body_length"] == 7


def test_several_set_cookie_headers(edge: str, client: httpx.Client) -> None:
    r = client.get(edge + "/cookies")
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 3
    assert any(c.startswith("c=3") and "Path=/shop" in c for c in cookies)


def test_redirect_to_origin_host_is_rewritten(edge: str, origin: str, client: httpx.Client) -> None:
    r = client.get(edge + "/redirect")
    assert r.status_code == 302
    assert r.headers["location"] == edge + "/landing?x=1"
    r = client.get(edge + "/redirect", params={"to": "https://elsewhere.example/x"})
    assert r.headers["location"] == "https://elsewhere.example/x"
    r = client.get(edge + "/redirect", params={"to": "/relative"})
    assert r.headers["location"] == "/relative"


def test_head_304_and_range(edge: str, client: httpx.Client) -> None:
    r = client.head(edge + "/slots")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == len(SLOT_PAGE)
    r = client.get(edge + "/conditional", headers={"if-none-match": '"abc"'})
    assert r.status_code == 304 and r.content == b""
    r = client.get(edge + "/ranged", headers={"range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == DATA[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(DATA)}"
    full = client.get(edge + "/ranged")
    assert full.content == DATA


def test_chunked_origin_page_is_rewritten(edge: str, client: httpx.Client) -> None:
    r = client.get(edge + "/chunked")
    assert "Witaj Krzysztofie" in r.text
    assert int(r.headers["content-length"]) == len(r.content)


def test_non_html_streams_without_buffering(edge: str) -> None:
    """The first chunk reaches the client while the origin is still holding the rest."""
    got_first = threading.Event()
    received = bytearray()

    def read() -> None:
        with httpx.Client(timeout=15) as c, c.stream("GET", edge + "/stream") as r:
            for chunk in r.iter_raw():
                received.extend(chunk)
                if received.startswith(b"first-chunk;"):
                    got_first.set()

    t = threading.Thread(target=read)
    t.start()
    assert got_first.wait(5), "the edge buffered a streamed download"
    GATE.open()
    t.join(15)
    assert len(received) == len(b"first-chunk;") + 64 * 16384


def test_json_passes_through(edge: str, origin: str, client: httpx.Client) -> None:
    assert client.get(edge + "/api.json").content == client.get(origin + "/api.json").content


@pytest.mark.parametrize("kind", ["gzip", "deflate", "br"])
def test_compressed_page_is_decoded_rewritten_and_reencoded(edge: str, kind: str) -> None:
    with httpx.Client(timeout=10) as c:
        r = c.get(edge + f"/enc/{kind}", headers={"accept-encoding": kind})
        assert r.headers["content-encoding"] == kind
        raw = r.read()
    # httpx decodes transparently; check the text and that the wire bytes were really encoded.
    assert "Witaj Krzysztofie" in r.text
    assert raw


@pytest.mark.parametrize("kind", ["gzip", "deflate", "br"])
def test_compressed_page_without_slot_passes_untouched(origin: str, kind: str) -> None:
    for url in _edge(origin, inject_script=False):
        with httpx.Client(timeout=10) as c:
            with c.stream(
                "GET", url + f"/enc/{kind}?slot=0", headers={"accept-encoding": kind}
            ) as r:
                wire = b"".join(r.iter_raw())
            with c.stream(
                "GET", origin + f"/enc/{kind}?slot=0", headers={"accept-encoding": kind}
            ) as d:
                direct = b"".join(d.iter_raw())
        assert wire == direct
        decoded = {"gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress}[
            kind
        ](wire)
        assert decoded == PLAIN_PAGE.encode()


@pytest.mark.parametrize("meta", [False, True])
def test_windows_1250_page(edge: str, client: httpx.Client, meta: bool) -> None:
    r = client.get(edge + "/latin2" + ("?meta=1" if meta else ""))
    body = r.content
    # The page's own text is untouched in its charset; injected text it can hold ("—", "€") is
    # encoded in it, the rest ("→", "中") becomes character references.
    assert "Zażółć gęślą jaźń".encode("cp1250") in body
    assert "Witaj Krzysztofie — 10 € &#8594; &#20013;".encode("cp1250") in body
    decoded = body.decode("cp1250")
    assert decoded.startswith(LATIN2_PAGE[:60])


def test_origin_down_is_502(client: httpx.Client) -> None:
    for url in _edge(f"http://127.0.0.1:{free_port()}"):
        r = client.get(url + "/anything")
        assert r.status_code == 502
        assert "cannot be reached" in r.text


def test_origin_too_slow_is_504(edge: str) -> None:
    # The origin takes 5 s, the edge allows it 1 s: the 504 comes before the client gives up.
    r = httpx.get(edge + "/slow?s=5", timeout=4)
    assert r.status_code == 504


def test_origin_stalling_mid_page_is_504(edge: str) -> None:
    # The page starts, then the origin goes quiet for longer than the edge allows (1 s).
    r = httpx.get(edge + "/stall?kind=html&s=4", timeout=3)
    assert r.status_code == 504


def test_origin_stalling_mid_download_ends_it_early(edge: str) -> None:
    with httpx.Client(timeout=3) as c, c.stream("GET", edge + "/stall?kind=bin&s=4") as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            r.read()


def test_origin_timeout_is_per_wait_not_for_the_whole_answer(edge: str) -> None:
    # Three pauses of 0.6 s: each under the edge's 1 s, together over it.
    r = httpx.get(edge + "/stall?kind=html&s=0.6&n=3", timeout=5)
    assert r.status_code == 200
    assert "Witaj Krzysztofie" in r.text
    r = httpx.get(edge + "/stall?kind=bin&s=0.6&n=3", timeout=5)
    assert r.status_code == 200
    assert r.content == b"first-chunk;" + b"x" * 100


def test_origin_gets_the_clients_headers_and_nothing_else(edge: str) -> None:
    # A raw request, so no client library adds headers of its own: the edge's client must not
    # either (no User-Agent, Accept, Accept-Encoding; no Content-Type for a body that had none).
    host, port = edge.removeprefix("http://").split(":")
    for request in (
        b"GET /echo HTTP/1.1\r\nHost: shop.example\r\nX-Custom: 1\r\n"
        b"Connection: close\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 3\r\n"
        b"Connection: close\r\n\r\nabc",
    ):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        payload = json.loads(answer.partition(b"\r\n\r\n")[2])
        names = [name for name, _ in payload["headers"]]
        assert names[0] == "host"  # first, as clients send it
        own = {"host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}
        extra = {"x-custom"} if payload["method"] == "GET" else {"content-length"}
        assert set(names) == own | extra
        assert payload["body_length"] == (0 if payload["method"] == "GET" else 3)


def test_origin_status_is_kept(edge: str, client: httpx.Client) -> None:
    r = client.get(edge + "/missing")
    assert r.status_code == 404
    assert "default hero" in r.text  # error pages are not personalized


class _Exploding:
    class _Session:
        def response_headers(self) -> list[tuple[bytes, bytes]]:
            return []

        async def fill(self, page: Page) -> Fills:
            raise RuntimeError("widget blew up")

        def finish(self, page: Page | None, status: int) -> None:
            raise RuntimeError("recording blew up")

    async def begin(self, request: RequestHead) -> _Session:
        return self._Session()


class _Hanging:
    async def begin(self, request: RequestHead):  # type: ignore[no-untyped-def]
        import asyncio

        await asyncio.sleep(30)


def test_personalization_errors_leave_page_unchanged(origin: str, client: httpx.Client) -> None:
    for url in _edge(origin, personalizer=lambda state: _Exploding()):
        r = client.get(url + "/slots")
        assert r.status_code == 200
        assert r.content == SLOT_PAGE.encode()


def test_hanging_identification_does_not_hang_the_page(origin: str, client: httpx.Client) -> None:
    for url in _edge(origin, personalizer=lambda state: _Hanging(), personalize_timeout=0.2):
        # Identification never finishes; the page still comes (a hang would time the client out).
        r = httpx.get(url + "/slots", timeout=3)
        assert r.status_code == 200
        assert r.content == SLOT_PAGE.encode()


def test_huge_and_broken_headers(edge: str, client: httpx.Client) -> None:
    r = client.get(edge + "/slots", headers={"cookie": "edge_vid=" + "x" * 20000 + "; ===; a"})
    assert r.status_code in (200, 400, 431)
    r = client.get(edge + "/slots", headers={"x-big": "y" * 60000})
    assert r.status_code in (200, 400, 431)


def test_health(edge: str, client: httpx.Client) -> None:
    assert client.get(edge + "/_edge/health").json() == {"status": "ok"}
    ready = client.get(edge + "/_edge/ready")
    assert ready.json()["checks"]["origin"] == "ok"


async def test_a_client_leaving_mid_upload_ends_the_body_as_an_error_not_as_its_end() -> None:
    from edge.errors import ClientGone
    from edge.proxy import _request_body

    messages = iter([
        {"type": "http.request", "body": b"part one", "more_body": True},
        {"type": "http.disconnect"},
    ])

    async def receive() -> dict[str, object]:
        return next(messages)

    parts = []
    with pytest.raises(ClientGone):
        async for part in _request_body(receive):
            parts.append(part)
    assert parts == [b"part one"]
