"""Real pages (news sites, blogs, wikis) through the rewriter: untouched without slots, and
unchanged outside the filled slots (html5lib trees) with slots marked at many depths."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from edge.slots import SlotPlanner, has_marker, render
from edge.slots.tokens import TOKEN, VOID
from tests.slots.fills import FILLS
from tests.slots.trees import dump, is_injected, parse, slot_in

pytestmark = pytest.mark.slow

FILL = ('<div data-edge-injected=""><h2>Nabídka pro vás – ☃</h2><p>Ahoj <b>světe</b>, '
        '<a href="/x?a=1&amp;b=2">odkaz</a> &amp; “quotes”</p><ul><li>jedna</li></ul></div>')
BODY_END = ('<div data-edge-injected="" id="edge-root"><p>Pop-up: Grüße ☃</p></div>'
            '<script data-edge-injected="" src="/_edge/edge.js"></script>')
CONTAINERS = frozenset({b"div", b"section", b"article", b"aside", b"header", b"footer", b"nav",
                        b"main", b"ul", b"ol", b"li", b"span", b"td", b"form", b"figure",
                        b"blockquote", b"dl", b"dd"})
# Fill shapes with a marked element, so that the test can see each fill arrived.
SHAPES = [fill for fill in FILLS if fill.startswith("<") and "data-edge-injected" in fill]
MARK_DEPTHS = (3, 6, 10, 15, 20, 25)
NEW_DEPTHS = (2, 5, 8, 12)


def pages(corpus_dir: Path) -> list[Path]:
    found = sorted((corpus_dir / "real-pages").glob("*.html"))
    assert len(found) > 50
    return found


def mark(body: bytes) -> tuple[bytes, int]:
    """The page with ``data-edge-slot="sN"`` added to container elements at several depths
    (two per depth) and new ``<div data-edge-slot>`` elements after containers at others."""
    stack: list[bytes] = []
    edits: list[tuple[int, bytes]] = []
    taken: Counter[int] = Counter()
    for m in TOKEN.finditer(body):
        kind = m.lastgroup
        if kind == "z":
            name = m.group("s").lower()
            depth = len(stack) + 1
            if name in CONTAINERS and m.group("z"):
                if depth in MARK_DEPTHS and taken[depth] < 2:
                    taken[depth] += 1
                    edits.append((m.end("s"), b' data-edge-slot="s%d"'))
                elif depth in NEW_DEPTHS and taken[depth] < 1:
                    taken[depth] += 1
                    edits.append((m.end(), b'<div data-edge-slot="s%d">default <b>x</b></div>'))
            if name not in VOID and not m.group("a").endswith(b"/"):
                stack.append(name)
        elif kind == "e":
            name = m.group("e").lower()
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
    out = []
    pos = 0
    for n, (at, text) in enumerate(edits):
        out += [body[pos:at], text % n]
        pos = at
    out.append(body[pos:])
    return b"".join(out), len(edits)


def test_pages_without_slots_pass_through_byte_for_byte(corpus_dir: Path) -> None:
    planner = SlotPlanner()
    for path in pages(corpus_dir):
        body = path.read_bytes()
        assert has_marker(body) is (b"data-edge-slot" in body.lower()), path.name
        assert not has_marker(body), path.name
        plan = planner.plan(body)
        assert plan.slots == ()
        assert render(body, plan, {}, "", plan.charset) is body
        assert render(body, plan, {"hero": FILL}, "", plan.charset) is body


def test_filled_pages_keep_their_tree_outside_the_slots(corpus_dir: Path) -> None:
    planner = SlotPlanner()
    inserted = accepted = with_body_end = 0
    reasons: Counter[str] = Counter()
    failures: list[str] = []
    for index, path in enumerate(pages(corpus_dir)):
        marked, n = mark(path.read_bytes())
        plan = planner.plan(marked)
        inserted += n
        accepted += len(plan.slots)
        reasons.update(why for _, why in plan.rejected)
        with_body_end += plan.body_end is not None
        print(f"{path.name}: {n} slots marked, {len(plan.slots)} fillable, "
              f"body end {'yes' if plan.body_end is not None else 'no'}")
        # Alternate the shape of the fills from page to page.
        shape = SHAPES[index % len(SHAPES)]
        fills = {name: FILL if i % 2 else shape for i, name in enumerate(plan.slots)}
        out = render(marked, plan, fills, BODY_END if n % 2 else shape, plan.charset)
        if not fills and plan.body_end is None:
            assert out is marked
            continue
        assert out != marked

        filled = slot_in(fills)
        codec = plan.charset or "utf-8"
        before = parse(marked.decode(codec, "replace"), scripting=True)
        after = parse(out.decode(codec, "replace"), scripting=True)
        for el in after.iter():
            if isinstance(el.tag, str) and filled(el):
                assert any(is_injected(child) for child in el), (path.name, el.attrib)
        if dump(before, clear=filled) != dump(after, drop=is_injected, clear=filled):
            failures.append(path.name)
    print(f"\nreal pages: {inserted} slots marked, {accepted} fillable, "
          f"{inserted - accepted} refused; body end on {with_body_end} pages")
    print("refusals:", dict(reasons))
    assert not failures, f"trees changed outside the slots: {failures}"
    assert accepted > 0.6 * inserted
    assert with_body_end > 0.9 * len(pages(corpus_dir))
