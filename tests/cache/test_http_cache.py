"""The shared cache of origin pages: what may be stored, for how long, under which key, and
that a cached page is still personalized per visitor."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cache.http import HttpCache, directives, freshness, request_allows_cache
from edge.app import create_app
from edge.page import Fills, Page, RequestHead
from edge.settings import Settings
from tests.support.servers import serve

PAGE = ('<!doctype html><html><body><h1>VERSION</h1>'
        '<div data-edge-slot="hero">default</div></body></html>')


def test_directives_and_freshness() -> None:
    assert directives('public, max-age=60, stale-while-revalidate="30"') == {
        "public": "", "max-age": "60", "stale-while-revalidate": "30"}
    h = [(b"cache-control", b"public, max-age=60, stale-while-revalidate=30")]
    assert freshness(200, h, time.time()) == (60.0, 30.0, ())
    assert freshness(200, [(b"cache-control", b"max-age=60, s-maxage=5")], 0) == (5.0, 0.0, ())
    vary = [(b"cache-control", b"max-age=9"), (b"vary", b"Accept-Language, accept-encoding")]
    assert freshness(200, vary, 0) == (9.0, 0.0, ("accept-encoding", "accept-language"))
    for bad in ([(b"cache-control", b"private, max-age=60")],
                [(b"cache-control", b"no-store")],
                [(b"cache-control", b"no-cache, max-age=60")],
                [(b"cache-control", b"max-age=60"), (b"set-cookie", b"a=1")],
                [(b"cache-control", b"max-age=60"), (b"vary", b"*")],
                [(b"cache-control", b"max-age=0")],
                []):
        assert freshness(200, bad, 0) is None, bad
    assert freshness(404, [(b"cache-control", b"max-age=60")], 0) is None
    expires = [(b"date", b"Mon, 23 Nov 2026 08:00:00 GMT"),
               (b"expires", b"Mon, 23 Nov 2026 08:02:00 GMT")]
    assert freshness(200, expires, 0) == (120.0, 0.0, ())


def test_requests_that_bypass_the_cache() -> None:
    assert request_allows_cache("GET", {})
    assert not request_allows_cache("POST", {})
    assert not request_allows_cache("GET", {"authorization": "Basic x"})
    assert not request_allows_cache("GET", {"cache-control": "no-cache"})
    assert not request_allows_cache("GET", {"pragma": "no-cache"})
    assert not request_allows_cache("GET", {"if-none-match": '"a"'})
    assert not request_allows_cache("GET", {"range": "bytes=0-1"})


def test_lookup_store_vary_expiry_and_bounds() -> None:
    cache = HttpCache(max_bytes=1000, max_entry_bytes=400)
    h = [(b"cache-control", b"max-age=10, stale-while-revalidate=5"),
         (b"vary", b"Accept-Language")]
    assert cache.store("/a", {"accept-language": "pl"}, 200, h, b"x" * 100, now=0)
    assert cache.lookup("/a", {"accept-language": "pl"}, now=5) is not None
    assert cache.lookup("/a", {"accept-language": "de"}, now=5) is None  # another variant
    stale = cache.lookup("/a", {"accept-language": "pl"}, now=12)
    assert stale is not None and not stale.is_fresh(12)
    assert cache.lookup("/a", {"accept-language": "pl"}, now=16) is None  # past the window
    assert not cache.store("/big", {}, 200, h, b"x" * 500, now=0)  # over the entry limit
    for i in range(20):  # the total stays bounded, oldest out first
        cache.store(f"/p{i}", {}, 200, [(b"cache-control", b"max-age=60")], b"y" * 300, now=0)
    assert len(cache) == 3
    assert cache.lookup("/p19", {}, now=1) is not None
    assert cache.lookup("/p0", {}, now=1) is None


class _Origin:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.version = 1

    def app(self) -> Starlette:
        async def page(request: Request) -> Response:
            name = request.path_params["name"]
            self.hits[name] += 1
            headers = {
                "public": {"cache-control": "public, max-age=60"},
                "swr": {"cache-control": "max-age=1, stale-while-revalidate=30"},
                "private": {"cache-control": "private, max-age=60"},
                "vary": {"cache-control": "max-age=60", "vary": "Accept-Language"},
            }.get(name, {})
            body = PAGE.replace("VERSION", f"v{self.version} {name}")
            resp = HTMLResponse(body, headers=headers)
            if name == "cookie":
                resp.headers["cache-control"] = "max-age=60"
                resp.set_cookie("session", "1")
            return resp

        return Starlette(routes=[Route("/{name}", page)])


class _PerVisitor:
    """Fills the hero with the visitor's own name from a header: each visitor's page differs."""

    class _Session:
        def __init__(self, name: str) -> None:
            self.name = name

        def response_headers(self) -> list[tuple[bytes, bytes]]:
            return []

        async def fill(self, page: Page) -> Fills:
            return Fills(slots={"hero": f"<p>Hello {self.name}</p>"})

        def finish(self, page: Page | None, status: int) -> None:
            return None

    async def begin(self, request: RequestHead) -> _PerVisitor._Session:
        return self._Session(request.headers.get("x-visitor", "nobody"))


@pytest.fixture
def stack() -> Iterator[tuple[_Origin, str]]:
    origin = _Origin()
    with serve(origin.app()) as origin_url:
        app = create_app(Settings(origin=origin_url), lambda state: _PerVisitor(), use_redis=False)
        with serve(app) as edge:
            yield origin, edge


def test_a_shareable_page_is_fetched_once_and_personalized_per_visitor(
    stack: tuple[_Origin, str],
) -> None:
    origin, edge = stack
    with httpx.Client(timeout=10) as c:
        pages = [c.get(edge + "/public", headers={"x-visitor": v}) for v in ("Ann", "Bob", "Cy")]
    assert origin.hits["public"] == 1
    assert ["Hello Ann" in p.text for p in pages] == [True, False, False]
    assert "Hello Bob" in pages[1].text and "Hello Cy" in pages[2].text
    assert all(p.headers["cache-control"] == "private, no-cache" for p in pages)
    assert "age" in pages[2].headers


@pytest.mark.parametrize("name", ["private", "cookie", "plain"])
def test_pages_that_may_not_be_shared_always_go_to_the_origin(
    stack: tuple[_Origin, str], name: str,
) -> None:
    origin, edge = stack
    with httpx.Client(timeout=10) as c:
        for _ in range(3):
            assert c.get(f"{edge}/{name}").status_code == 200
    assert origin.hits[name] == 3


def test_vary_and_bypassing_requests(stack: tuple[_Origin, str]) -> None:
    origin, edge = stack
    with httpx.Client(timeout=10) as c:
        for lang in ("pl", "pl", "de", "de", "pl"):
            c.get(edge + "/vary", headers={"accept-language": lang})
        assert origin.hits["vary"] == 2
        c.get(edge + "/vary", headers={"accept-language": "pl", "cache-control": "no-cache"})
        c.get(edge + "/vary", headers={"accept-language": "pl", "authorization": "Bearer x"})
        assert origin.hits["vary"] == 4


def test_stale_while_revalidate_serves_then_refreshes(stack: tuple[_Origin, str]) -> None:
    origin, edge = stack
    with httpx.Client(timeout=10) as c:
        assert "v1 swr" in c.get(edge + "/swr").text
        origin.version = 2
        time.sleep(1.2)  # past max-age=1, inside stale-while-revalidate
        stale = c.get(edge + "/swr")
        assert "v1 swr" in stale.text  # served at once from the stale copy
        deadline = time.monotonic() + 5
        while origin.hits["swr"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert origin.hits["swr"] == 2  # one background refresh
        time.sleep(0.1)
        assert "v2 swr" in c.get(edge + "/swr").text
        assert origin.hits["swr"] == 2
