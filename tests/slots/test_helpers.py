"""The .dat reader and the tree dump, which other tests (the proxy's too) build on."""

from __future__ import annotations

from pathlib import Path

from tests.slots.html5lib_dat import read, read_all
from tests.slots.trees import dump, parse, slot_in


def test_reading_a_dat_file(corpus_dir: Path) -> None:
    tests = list(read(corpus_dir / "html5lib-tree-construction" / "tests1.dat"))
    first, second = tests[0], tests[1]
    assert first.data == "Test"
    assert first.document == '| <html>\n|   <head>\n|   <body>\n|     "Test"'
    assert second.data == "<p>One<p>Two"
    assert second.fragment is None and second.scripting is None
    assert first.id == "tests1.dat:0"


def test_fragment_and_scripting_sections_are_read(corpus_dir: Path) -> None:
    tests = read_all(corpus_dir / "html5lib-tree-construction")
    assert sum(t.fragment is not None for t in tests) > 100
    assert any(t.scripting is True for t in tests)
    assert any(t.scripting is False for t in tests)


def test_the_dump_matches_the_test_format_for_html5lib_itself(corpus_dir: Path) -> None:
    # html5lib 1.1 predates some spec changes (template in head, ruby, search, ...), so not
    # every test agrees; the dump format itself must, on the large majority.
    tests = [t for t in read_all(corpus_dir / "html5lib-tree-construction") if t.fragment is None]
    same = sum(dump(parse(t.data, bool(t.scripting))) == t.document for t in tests)
    assert same > 0.85 * len(tests)


def test_dump_leaves_out_dropped_nodes_and_merges_text() -> None:
    doc = parse('<div data-edge-slot="a">x<i>y</i></div>one<b data-edge-injected="">z</b>two')
    assert dump(doc, clear=slot_in({"a"})) == (
        '| <html>\n|   <head>\n|   <body>\n|     <div>\n|       data-edge-slot="a"\n'
        '|     "onetwo"'
    )
