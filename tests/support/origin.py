"""A real origin for proxy tests: every case the edge must forward as the origin meant."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import brotli
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SLOT_PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body>"
    "<header>Header</header>"
    '<div data-edge-slot="hero">default hero</div>'
    "<main><p>Products</p>"
    '<section data-edge-slot="recs">default recs</section></main>'
    "<footer>Footer</footer></body></html>"
)
PLAIN_PAGE = (
    "<!doctype html><html><head><title>Plain</title></head><body><p>Hello</p></body></html>"
)
LATIN2_PAGE = (
    '<!doctype html><html><head><meta charset="windows-1250"><title>Sklep</title></head><body>'
    "<p>Zażółć gęślą jaźń</p>"
    '<div data-edge-slot="hero">domyślny</div>'
    "</body></html>"
)


def _echo_payload(request: Request, body: bytes) -> dict[str, object]:
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": [
            [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]
        ],
        "body_length": len(body),
        "body_sha": __import__("hashlib").sha256(body).hexdigest(),
    }


async def echo(request: Request) -> JSONResponse:
    body = b""
    chunks = 0
    async for chunk in request.stream():
        body += chunk
        chunks += 1 if chunk else 0
    payload = _echo_payload(request, body)
    payload["chunks"] = chunks
    return JSONResponse(payload)


async def plain(request: Request) -> Response:
    return HTMLResponse(PLAIN_PAGE)


async def slots(request: Request) -> Response:
    return HTMLResponse(SLOT_PAGE, headers={"etag": '"v1"', "cache-control": "public, max-age=60"})


async def compressed(request: Request) -> Response:
    kind = request.path_params["kind"]
    page = (SLOT_PAGE if request.query_params.get("slot", "1") == "1" else PLAIN_PAGE).encode()
    if kind == "gzip":
        body = gzip.compress(page)
    elif kind == "deflate":
        body = zlib.compress(page)
    elif kind == "br":
        body = brotli.compress(page)
    else:
        body = page
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"content-encoding": kind, "vary": "Accept-Encoding"},
    )


async def latin2(request: Request) -> Response:
    # With ?meta=1 the charset is only in the page's <meta> (Starlette would add utf-8 to a
    # text/* media type, so the header is set by hand).
    ctype = "text/html" if request.query_params.get("meta") else "text/html; charset=windows-1250"
    return Response(LATIN2_PAGE.encode("cp1250"), headers={"content-type": ctype})


async def cookies(request: Request) -> Response:
    resp = HTMLResponse(PLAIN_PAGE)
    resp.set_cookie("a", "1")
    resp.set_cookie("b", "2", httponly=True)
    resp.set_cookie("c", "3", path="/shop")
    return resp


async def redirect(request: Request) -> Response:
    target = request.query_params.get("to", "")
    if not target:
        target = f"http://{request.url.netloc}/landing?x=1"
    return Response(status_code=302, headers={"location": target})


async def conditional(request: Request) -> Response:
    if request.headers.get("if-none-match") == '"abc"':
        return Response(status_code=304, headers={"etag": '"abc"'})
    return HTMLResponse(PLAIN_PAGE, headers={"etag": '"abc"'})


DATA = bytes(range(256)) * 4096  # 1 MiB


async def ranged(request: Request) -> Response:
    rng = request.headers.get("range", "")
    if rng.startswith("bytes="):
        start_s, _, end_s = rng[6:].partition("-")
        start, end = int(start_s), int(end_s or len(DATA) - 1)
        part = DATA[start : end + 1]
        return Response(
            part,
            status_code=206,
            media_type="application/octet-stream",
            headers={"content-range": f"bytes {start}-{end}/{len(DATA)}", "accept-ranges": "bytes"},
        )
    return Response(DATA, media_type="application/octet-stream", headers={"accept-ranges": "bytes"})


class Gate:
    """Lets a test hold a streamed response half-way."""

    def __init__(self) -> None:
        self.event: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def open(self) -> None:
        if self.loop and self.event:
            self.loop.call_soon_threadsafe(self.event.set)


GATE = Gate()


async def stream(request: Request) -> Response:
    GATE.loop = asyncio.get_running_loop()
    GATE.event = asyncio.Event()
    event = GATE.event

    async def body():  # type: ignore[no-untyped-def]
        yield b"first-chunk;"
        await asyncio.wait_for(event.wait(), 10)
        for _ in range(64):
            yield b"x" * 16384

    return StreamingResponse(body(), media_type="application/octet-stream")


async def chunked_html(request: Request) -> Response:
    async def body():  # type: ignore[no-untyped-def]
        for part in (SLOT_PAGE[:40], SLOT_PAGE[40:120], SLOT_PAGE[120:]):
            yield part.encode()
            await asyncio.sleep(0)

    return StreamingResponse(body(), media_type="text/html; charset=utf-8")


async def stall(request: Request) -> Response:
    """Starts the answer, then goes quiet for ``s`` seconds ``n`` times between parts."""
    pause = float(request.query_params.get("s", "5"))
    times = int(request.query_params.get("n", "1"))
    html = request.query_params.get("kind", "html") == "html"
    page = SLOT_PAGE.encode() if html else b"first-chunk;" + b"x" * 100
    cuts = [len(page) * i // (times + 1) for i in range(times + 2)]

    async def body():  # type: ignore[no-untyped-def]
        for i in range(times + 1):
            if i:
                await asyncio.sleep(pause)
            yield page[cuts[i] : cuts[i + 1]]

    media = "text/html; charset=utf-8" if html else "application/octet-stream"
    return StreamingResponse(body(), media_type=media)


async def slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("s", "5")))
    return HTMLResponse(PLAIN_PAGE)


async def json_api(request: Request) -> Response:
    return Response(
        json.dumps({"ok": True, "items": list(range(100))}), media_type="application/json"
    )


async def not_found(request: Request) -> Response:
    return HTMLResponse(SLOT_PAGE, status_code=404)


def create_origin() -> Starlette:
    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Route("/plain", plain, methods=["GET", "HEAD"]),
            Route("/slots", slots, methods=["GET", "HEAD"]),
            Route("/enc/{kind}", compressed),
            Route("/latin2", latin2),
            Route("/cookies", cookies),
            Route("/redirect", redirect),
            Route("/conditional", conditional),
            Route("/ranged", ranged),
            Route("/stream", stream),
            Route("/chunked", chunked_html),
            Route("/slow", slow),
            Route("/stall", stall),
            Route("/api.json", json_api),
            Route("/missing", not_found),
        ]
    )
