"""html5lib trees as the html5lib-tests tree dump ("| <html>" lines), with nodes left out.

Reusable for any test that compares pages before and after the edge: ``dump(parse(text),
drop=..., clear=...)`` leaves out injected nodes and the children of filled slots, and merges
the text nodes that meet where a node was left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import html5lib

HTML = "http://www.w3.org/1999/xhtml"
_PREFIX = {
    HTML: "",
    "http://www.w3.org/2000/svg": "svg ",
    "http://www.w3.org/1998/Math/MathML": "math ",
}
_ATTR_NS = {
    "http://www.w3.org/1999/xlink": "xlink ",
    "http://www.w3.org/XML/1998/namespace": "xml ",
    "http://www.w3.org/2000/xmlns/": "xmlns ",
}
INJECTED = "data-edge-injected"
END_WRAPPER = "data-edge-end"

Element = Any  # xml.etree element as html5lib's etree builder makes it
Test = Callable[[Element], bool]


def parse(text: str, scripting: bool = False) -> Element:
    """The whole document (DOCUMENT_ROOT) as html5lib builds it."""
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree", fullTree=True),
                                 namespaceHTMLElements=True)
    return parser.parse(text, scripting=scripting)


def split_name(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an etree tag."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return HTML, tag


def attr(el: Element, name: str) -> str | None:
    return el.attrib.get(name)


def slot_in(names: object) -> Test:
    """A test for slot elements (``data-edge-slot``) whose name is in ``names``."""
    def test(el: Element) -> bool:
        return isinstance(el.tag, str) and el.attrib.get("data-edge-slot") in names  # type: ignore[operator]
    return test


def is_injected(el: Element) -> bool:
    """Nodes the edge put in: marked by the fill's author, or the body-end wrapper."""
    return isinstance(el.tag, str) and (INJECTED in el.attrib or END_WRAPPER in el.attrib)


def dump(doc: Element, drop: Test = is_injected, clear: Test | None = None) -> str:
    """The tree dump of ``doc``; elements for which ``drop`` holds are left out with their
    subtree, elements for which ``clear`` holds are kept but their children are not."""
    lines: list[str] = []
    _children(doc, 0, lines, drop, clear)
    return "\n".join(lines)


def _emit_text(lines: list[str], depth: int, pending: list[str]) -> None:
    if pending:
        text = "".join(pending)
        if text:
            lines.append("| " + "  " * depth + '"' + text + '"')
        pending.clear()


def _children(el: Element, depth: int, lines: list[str], drop: Test, clear: Test | None) -> None:
    pending: list[str] = []
    if el.text and el.tag != "<!DOCTYPE>" and el.tag is not ElementTree.Comment:
        pending.append(el.text)
    for child in el:
        if not (isinstance(child.tag, str) and drop(child)):
            _emit_text(lines, depth, pending)
            _node(child, depth, lines, drop, clear)
        if child.tail:
            pending.append(child.tail)
    _emit_text(lines, depth, pending)


def _node(el: Element, depth: int, lines: list[str], drop: Test, clear: Test | None) -> None:
    pad = "| " + "  " * depth
    if el.tag is ElementTree.Comment:
        lines.append(f"{pad}<!-- {el.text or ''} -->")
        return
    if el.tag == "<!DOCTYPE>":
        public, system = el.get("publicId") or "", el.get("systemId") or ""
        name = el.text or ""
        if public or system:
            lines.append(f'{pad}<!DOCTYPE {name} "{public}" "{system}">')
        else:
            lines.append(f"{pad}<!DOCTYPE {name}>")
        return
    ns, local = split_name(el.tag)
    lines.append(f"{pad}<{_PREFIX.get(ns, '')}{local}>")
    attrs = []
    for key, value in el.attrib.items():
        ans, alocal = split_name(key) if key.startswith("{") else ("", key)
        attrs.append((_ATTR_NS.get(ans, "") + alocal, value))
    for key, value in sorted(attrs):
        lines.append(f'{pad}  {key}="{value}"')
    if clear is not None and clear(el):
        return
    if ns == HTML and local == "template":
        lines.append(f"{pad}  content")
        _children(el, depth + 2, lines, drop, clear)
    else:
        _children(el, depth + 1, lines, drop, clear)


def expected_tree(data: str, document: str, scripting: bool) -> tuple[str, bool]:
    """The tree a test document must keep: its ``#document``, or html5lib's own tree of the
    input where html5lib (older than the spec in places) differs. The flag says which."""
    own = dump(parse(data, scripting))
    return (document, True) if own == document else (own, False)


def compare_tree(test_id: str, data: str, document: str, out: str, scripting: bool,
                 counts: Counter[str], failures: list[str]) -> None:
    """Compare the tree of ``out`` (the page as the edge sent it, injections dropped) with
    the tree the test document must keep; count which one it was, note a difference."""
    got = dump(parse(out, scripting))
    expected, spec = expected_tree(data, document, scripting)
    counts["compared with #document" if spec else
           "compared with html5lib's own tree (html5lib differs from #document)"] += 1
    if got != expected:
        failures.append(f"{test_id} {data!r}\n{expected}\n--- got ---\n{got}")
