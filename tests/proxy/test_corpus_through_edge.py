"""The shared corpus served by a real origin and fetched through the live edge.

- every real page with no slot and nothing to inject comes out byte-for-byte;
- every real page with slots marked at several depths comes out with the same html5lib tree
  outside the filled slots and the injected body-end nodes;
- every html5lib tree-construction #data document comes out with its #document tree (or, where
  html5lib itself differs from #document or the test depends on parser options, html5lib's own
  tree of the input), once the injected nodes are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.app import create_app
from edge.page import Fills, StaticPersonalizer
from edge.settings import Settings
from tests.slots.html5lib_dat import FRAGMENT, SCRIPTING_OFF, TreeTest, not_a_page, read_all
from tests.slots.trees import compare_tree, dump, is_injected, parse, slot_in
from tests.support.servers import serve

pytestmark = pytest.mark.slow

END_FILL = '<div data-edge-injected=""><p>Witaj ☃</p><script>1</script></div>'
SLOT_FILL = '<div data-edge-injected=""><b>Ahoj</b> ☃ <ul><li>x</li></ul></div>'
SLOT_NAMES = ("s3", "s6", "s10", "s14", "n1")

_START_TAG = re.compile(
    rb"<(div|section|article|aside|main|nav|header|footer|li|td|ul|span)"
    rb"(?=[\s>])",
    re.I,
)


def _mark_at_depths(page: bytes) -> bytes:
    """Mark container start tags found at a few rough nesting depths as slots, and insert one
    new slot element after the first <div>."""
    out = page
    marks = {3: b"s3", 6: b"s6", 10: b"s10", 14: b"s14"}
    depth = 0
    positions: list[tuple[int, bytes]] = []
    for m in re.finditer(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)", page):
        if m.group(1):
            depth = max(0, depth - 1)
            continue
        depth += 1
        name = marks.get(depth)
        if name and _START_TAG.match(page, m.start()):
            positions.append((m.end(), name))
            del marks[depth]
    for pos, name in sorted(positions, reverse=True):
        out = out[:pos] + b' data-edge-slot="' + name + b'"' + out[pos:]
    m = re.search(rb"<div(?=[\s>])[^>]*>", out, re.I)
    if m:
        out = out[: m.end()] + b'<div data-edge-slot="n1">new</div>' + out[m.end() :]
    return out


@pytest.fixture(scope="module")
def real_pages(corpus_dir: Path) -> dict[str, bytes]:
    pages = {p.name: p.read_bytes() for p in sorted((corpus_dir / "real-pages").glob("*.html"))}
    assert len(pages) >= 60
    return pages


@pytest.fixture(scope="module")
def tree_tests(corpus_dir: Path) -> list[TreeTest]:
    return read_all(corpus_dir / "html5lib-tree-construction")


@pytest.fixture(scope="module")
def origin(real_pages: dict[str, bytes], tree_tests: list[TreeTest]) -> Iterator[str]:
    marked = {name: _mark_at_depths(body) for name, body in real_pages.items()}

    async def real(request: Request) -> Response:
        return Response(
            real_pages[request.path_params["name"]], headers={"content-type": "text/html"}
        )

    async def slotted(request: Request) -> Response:
        return Response(marked[request.path_params["name"]], headers={"content-type": "text/html"})

    async def tree(request: Request) -> Response:
        t = tree_tests[int(request.path_params["i"])]
        return Response(t.data.encode("utf-8"), media_type="text/html; charset=utf-8")

    app = Starlette(
        routes=[
            Route("/real/{name}", real),
            Route("/slotted/{name}", slotted),
            Route("/tree/{i:int}", tree),
        ]
    )
    with serve(app) as url:
        yield url


def _edge(origin: str, fills: Fills, **overrides: object) -> Iterator[str]:
    settings = Settings(origin=origin, **overrides)  # type: ignore[arg-type]
    app = create_app(settings, lambda state: StaticPersonalizer(fills), use_redis=False)
    with serve(app) as url:
        yield url


def test_real_pages_pass_through_byte_for_byte(origin: str, real_pages: dict[str, bytes]) -> None:
    for edge in _edge(origin, Fills(slots={"x": "<p>x</p>"}), inject_script=False):
        with httpx.Client(timeout=30) as client:
            for name, body in real_pages.items():
                r = client.get(f"{edge}/real/{name}")
                assert r.status_code == 200
                assert r.content == body, name


def test_real_pages_with_slots_keep_their_tree(origin: str, real_pages: dict[str, bytes]) -> None:
    fills = Fills(slots={n: SLOT_FILL for n in SLOT_NAMES}, body_end=END_FILL)
    counts: Counter[str] = Counter()
    with httpx.Client(timeout=30) as direct:
        for edge in _edge(origin, fills):
            with httpx.Client(timeout=30) as client:
                for name in real_pages:
                    original = direct.get(f"{origin}/slotted/{name}").content
                    out = client.get(f"{edge}/slotted/{name}").content
                    text_in = original.decode("utf-8", "replace")
                    text_out = out.decode("utf-8", "replace")
                    # (the fill's "☃" may arrive as a character reference: pages without a
                    # declared charset get ASCII fills)
                    filled = {
                        n
                        for n in SLOT_NAMES
                        if re.search(
                            f'data-edge-slot="{n}"[^>]*><div data-edge-injected=""><b>Ahoj</b>',
                            text_out,
                        )
                    }
                    counts["slots marked"] += sum(
                        f'data-edge-slot="{n}"' in text_in for n in SLOT_NAMES
                    )
                    counts["slots filled"] += len(filled)
                    counts["body end injected"] += '<div data-edge-injected=""><p>Witaj' in text_out
                    expected = dump(parse(text_in, True), clear=slot_in(filled))
                    got = dump(parse(text_out, True), drop=is_injected, clear=slot_in(filled))
                    assert got == expected, name
    print("\nreal pages through the edge:", dict(counts))
    assert counts["slots filled"] > 0.6 * counts["slots marked"]
    assert counts["body end injected"] > 0.9 * len(real_pages)


def test_html5lib_documents_through_the_edge(origin: str, tree_tests: list[TreeTest]) -> None:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for edge in _edge(origin, Fills(body_end=END_FILL)):
        with httpx.Client(timeout=30) as client:
            for i, t in enumerate(tree_tests):
                counts["total"] += 1
                skipped = not_a_page(t)
                if skipped:
                    counts[skipped] += 1
                    continue
                scripting = True
                r = client.get(f"{edge}/tree/{i}")
                assert r.status_code == 200
                counts["injected" if END_FILL.encode() in r.content else "left unchanged"] += 1
                compare_tree(t.id, t.data, t.document, r.content.decode("utf-8"), scripting,
                             counts, failures)
    print("\nhtml5lib documents through the edge:", dict(counts))
    served = counts["total"] - counts[FRAGMENT] - counts[SCRIPTING_OFF]
    # The rest end inside script/plaintext/template/frameset/foreign content/tables...: made
    # to be broken that way, they go out unchanged.
    assert counts["injected"] > 0.6 * served
    assert not failures, f"{len(failures)} trees changed:\n" + "\n\n".join(failures[:5])
