"""Reading the demo shop's pages the way the edge and a browser do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import html5lib
import httpx
from starlette.applications import Starlette

NS = "{http://www.w3.org/1999/xhtml}"


@asynccontextmanager
async def shop_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://shop.test") as client:
        yield client


def parse(html: str) -> Any:
    """A spec parse (html5lib) of a whole page."""
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=True)


def text_of(element: Any) -> str:
    return " ".join("".join(element.itertext()).split())


def metas(doc: Any) -> dict[str, str]:
    return {m.get("name"): m.get("content") for m in doc.iter(f"{NS}meta") if m.get("name")}


def slots(doc: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for el in doc.iter():
        name = el.get("data-edge-slot") if isinstance(el.tag, str) else None
        if name is not None:
            assert name not in found, f"slot {name!r} appears twice"
            found[name] = el
    return found


def raw_slot(html: str, name: str) -> tuple[str, str]:
    """The slot's tag name and its raw source from the start tag to its matching end tag,
    found by counting same-name tags (what a byte-level slot scanner does)."""
    start = re.search(rf'<([a-z0-9]+)\s[^>]*data-edge-slot="{re.escape(name)}"[^>]*>', html)
    assert start, f"no start tag for slot {name!r}"
    tag = start.group(1)
    depth, pos = 1, start.end()
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>", re.I)
    while depth:
        m = pattern.search(html, pos)
        assert m, f"slot {name!r} is never closed"
        depth += -1 if m.group(1) else 1
        pos = m.end()
    return tag, html[start.start():pos]
