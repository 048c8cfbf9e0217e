"""The html5lib tree-construction tests at the rewriter level: each #data document, rendered
with a body-end injection (and with a fill in a slot marked on one of its elements), must parse
with html5lib to the same tree once the injected nodes and the slot's children are left out."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from edge.slots import SlotPlanner, render
from tests.slots.fills import FILLS
from tests.slots.html5lib_dat import FRAGMENT, TreeTest, not_a_page, read_all
from tests.slots.trees import compare_tree, dump, is_injected, parse, slot_in

pytestmark = pytest.mark.slow

END_FILL = '<div data-edge-injected=""><p>Zdravím ☃</p><script>1</script></div>'
# The first start tag of a container gets slot "t"; the first of the others gets slot "u"
# (most of those are refused, which is the point: a refused slot must leave the page alone).
_CONTAINER = re.compile(r"<(div|span|section|article|aside|main|nav|header|footer|li|td|th|"
                        r"dd|dt|blockquote|ul|ol)(?=[\s/>])", re.IGNORECASE)
_OTHER = re.compile(r"<(em|b|i|p|h1|table|tr|select|option|svg|math|template|textarea|script|"
                    r"style|a|frameset|noscript|img|iframe|foo)(?=[\s/>])", re.IGNORECASE)


_FIRST_TAG = re.compile(r"<[a-zA-Z][^\s/>]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")


def _scripting(t: TreeTest) -> bool:
    # The rewriter plans for browsers, where scripting is on; tests that hold either way run so.
    return True if t.scripting is None else t.scripting


@pytest.fixture(scope="module")
def tests(corpus_dir: Path) -> list[TreeTest]:
    found = read_all(corpus_dir / "html5lib-tree-construction")
    assert len(found) > 1500
    return found


def _text(out: bytes) -> str:
    return out.decode("utf-8", "replace")


def test_body_end_injection_keeps_every_tree(tests: list[TreeTest]) -> None:
    planner = SlotPlanner(cache_size=0)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for t in tests:
        counts["total"] += 1
        skipped = not_a_page(t)
        if skipped:
            counts[skipped] += 1
            continue
        scripting = _scripting(t)
        body = t.data.encode("utf-8")
        plan = planner.plan(body)
        out = render(body, plan, {}, END_FILL, plan.charset or "utf-8")
        if plan.body_end is None:
            counts["no body end (refused by the planner)"] += 1
            assert out is body
        else:
            counts["injected"] += 1
        compare_tree(t.id, t.data, t.document, _text(out), scripting, counts, failures)
    print("\nhtml5lib corpus, body end:", dict(counts))
    # Refusals: documents that end inside script, plaintext, template, frameset, select, foreign
    # content, a table, a button, ... where the probe (div, p, a, list, form, table) would not
    # come out as written. Most of these test documents are made to be broken that way.
    assert counts["injected"] > 0.6 * (counts["total"] - counts[FRAGMENT])
    assert not failures, f"{len(failures)} trees changed:\n" + "\n\n".join(failures[:5])


def test_slot_fill_keeps_every_tree(tests: list[TreeTest]) -> None:
    planner = SlotPlanner(cache_size=0)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for t in tests:
        if t.fragment is not None:
            continue
        if t.scripting is False:
            continue
        marked = t.data
        for regex, name in ((_OTHER, "u"), (_CONTAINER, "t")):
            m = regex.search(marked)
            if m is not None:
                marked = marked[:m.end()] + f' data-edge-slot="{name}"' + marked[m.end():]
        # And a new slot element right after the first start tag.
        m = _FIRST_TAG.search(marked)
        if m is not None:
            marked = marked[:m.end()] + '<div data-edge-slot="n">new</div>' + marked[m.end():]
        if marked == t.data:
            counts["no element to mark"] += 1
            continue
        body = marked.encode("utf-8")
        plan = planner.plan(body)
        names = [name for name in ("t", "u", "n") if name in plan.slots]
        counts["slots refused"] += len(plan.rejected)
        if not names:
            continue
        counts["slots filled"] += len(names)
        scripting = _scripting(t)
        filled = slot_in(names)
        expected = dump(parse(marked, scripting), clear=filled)
        for fill in FILLS:
            out = render(body, plan, {name: fill for name in names}, fill, plan.charset or "utf-8")
            if out is body:
                # Only a form is refused where the page has a form open around the slots.
                assert "<form" in fill and all(o.in_form for o in plan.occurrences)
                counts["form fill dropped in a form"] += 1
                continue
            counts["documents rendered and compared"] += 1
            got = dump(parse(_text(out), scripting), drop=is_injected, clear=filled)
            if got != expected:
                failures.append(f"{t.id} {marked!r} {fill!r}\n{expected}\n--- got ---\n{got}")
    print("\nhtml5lib corpus, slots:", dict(counts))
    assert counts["slots filled"] > 500
    assert not failures, f"{len(failures)} trees changed:\n" + "\n\n".join(failures[:5])
