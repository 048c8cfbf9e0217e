"""Filling a page ahead: while a slow origin answers, the page is filled from the shape it had
last time; that fill is used only if the page comes back with the same shape, and the writes
of its decision are made only then."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from edge.app import create_app
from edge.page import Fills, Page, RequestHead
from edge.settings import Settings
from tests.support.servers import serve


class _Origin:
    """A shop page that takes ``delay`` seconds and whose title the test can change."""

    def __init__(self) -> None:
        self.title = "Shoes"
        self.delay = 0.3

    def app(self) -> Starlette:
        async def page(request: Request) -> HTMLResponse:
            await asyncio.sleep(self.delay)
            return HTMLResponse(
                f"<!doctype html><html><head><title>{self.title}</title></head><body>"
                '<div data-edge-slot="hero">default hero</div></body></html>')

        return Starlette(routes=[Route("/page", page)])


class _Visitor:
    """A personalizer whose identification waits a little (as a Redis round trip does) and
    whose sessions note every fill: (held back?, the page title it assumed)."""

    speculative = True

    def __init__(self) -> None:
        self.fills: list[tuple[bool, str]] = []
        self.written: list[str] = []  # the decisions whose writes were made

    async def begin(self, request: RequestHead) -> Any:
        await asyncio.sleep(0.01)
        return _Session(self)


class _Session:
    def __init__(self, visitor: _Visitor) -> None:
        self.visitor = visitor
        self.speculative = visitor.speculative

    def response_headers(self) -> list[tuple[bytes, bytes]]:
        return []

    async def fill(self, page: Page, defer: bool = False) -> Fills:
        self.visitor.fills.append((defer, page.title))
        fills = Fills(slots={"hero": f"<p>for {page.title}</p>"})

        def write() -> None:
            self.visitor.written.append(page.title)

        if defer:
            fills.deferred = write
        else:
            write()
        return fills

    def finish(self, page: Page | None, status: int) -> None:
        return None


def _get(url: str) -> httpx.Response:
    # as a browser asks for a page: identification starts as the request arrives
    return httpx.get(url + "/page", headers={"accept": "text/html,*/*;q=0.8"}, timeout=5)


@pytest.fixture
def shop() -> Iterator[tuple[_Origin, str]]:
    origin = _Origin()
    with serve(origin.app()) as url:
        yield origin, url


def _edge(origin_url: str, visitor: _Visitor) -> Iterator[str]:
    settings = Settings(origin=origin_url, inject_script=False, personalize_timeout=2.0)
    with serve(create_app(settings, lambda state: visitor, use_redis=False)) as url:
        yield url


def test_a_page_seen_before_is_filled_ahead_and_its_writes_made_once_used(
        shop: tuple[_Origin, str]) -> None:
    origin, origin_url = shop
    visitor = _Visitor()
    for url in _edge(origin_url, visitor):
        first = _get(url)
        # The first time, the page's shape is not known: it is filled once it is here.
        assert visitor.fills == [(False, "Shoes")] and visitor.written == ["Shoes"]
        second = _get(url)
        # Then it is filled while the origin answers, and that fill is the one sent.
        assert visitor.fills[1:] == [(True, "Shoes")]
        assert visitor.written == ["Shoes", "Shoes"]
        for response in (first, second):
            assert response.status_code == 200
            assert '<div data-edge-slot="hero"><p>for Shoes</p></div>' in response.text


def test_a_page_that_changed_is_filled_again_and_the_fill_made_ahead_writes_nothing(
        shop: tuple[_Origin, str]) -> None:
    origin, origin_url = shop
    visitor = _Visitor()
    for url in _edge(origin_url, visitor):
        _get(url)
        origin.title = "Boots"
        response = _get(url)
        # Filled ahead for the old page, then again for the page that came.
        assert visitor.fills == [(False, "Shoes"), (True, "Shoes"), (False, "Boots")]
        assert visitor.written == ["Shoes", "Boots"]
        assert '<div data-edge-slot="hero"><p>for Boots</p></div>' in response.text
        assert "for Shoes" not in response.text


def test_a_quick_origin_or_a_session_that_cannot_hold_writes_is_never_filled_ahead(
        shop: tuple[_Origin, str]) -> None:
    origin, origin_url = shop
    origin.delay = 0  # the page is here before the visitor is identified
    visitor = _Visitor()
    for url in _edge(origin_url, visitor):
        for _ in range(3):
            _get(url)
        assert visitor.fills == [(False, "Shoes")] * 3
    origin.delay = 0.3
    visitor = _Visitor()
    visitor.speculative = False
    for url in _edge(origin_url, visitor):
        for _ in range(2):
            response = _get(url)
        assert visitor.fills == [(False, "Shoes")] * 2 and visitor.written == ["Shoes"] * 2
        assert "<p>for Shoes</p>" in response.text
