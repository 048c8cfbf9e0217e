"""The Lexbor half of planning: which marked tags are real elements, in what context, and does
a probe fill in every slot (and at the body end) leave the rest of the tree alone?

Every candidate start tag gets a key attribute (`` data-edge-k=N``, unquoted so that it is
harmless wherever the "tag" really sits: text, comment, script, attribute value). The keyed
page ("A") is parsed once; a key that shows up on exactly one element of the right name is a real
slot. For verification a second page ("B") is A with probe fills spliced in; both trees are
normalized (children of the filled slots and all probe nodes removed) and serialized, and must
be equal. The probe holds the elements our widgets use (block, list, heading, link, form,
button, table), so a slot where any of them would escape (inside a <p>, an <a>, a form, a
table, foreign content, ...) fails and is dropped.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

KEY = "data-edge-k"
PROBE = "data-edge-probe"
_P = b' data-edge-probe=""'
_INNER = (b"<p" + _P + b"><a" + _P + b' href="#"></a><b' + _P + b"></b></p><ul" + _P +
          b"><li" + _P + b"></li></ul><h2" + _P + b"></h2><form" + _P + b"><button" + _P +
          b"></button><input" + _P + b"></form><table" + _P + b"><tbody" + _P + b"><tr" + _P +
          b"><td" + _P + b"></td></tr></tbody></table>")
SLOT_PROBE = b'<div data-edge-probe="s">' + _INNER + b"</div>"
END_PROBE = (b'<div data-edge-probe="e">' + _INNER + b"</div><script" + _P + b">0</script>")

_TABLE = frozenset({"table", "tbody", "thead", "tfoot", "tr", "colgroup"})
_CELL = frozenset({"td", "th", "caption"})
_SELECT = frozenset({"select", "datalist", "option", "optgroup"})


def key_attr(i: int) -> bytes:
    return b" " + KEY.encode() + b"=" + str(i).encode()


def parse(data: bytes, encoding: str | None) -> LexborHTMLParser:
    # Lexbor reads bytes as UTF-8; pages in another charset are decoded first so that the
    # facts and title come out right (the tree's structure is the same either way).
    if encoding not in (None, "utf-8", "ascii"):
        return LexborHTMLParser(data.decode(encoding, "replace"), scripting=True)
    return LexborHTMLParser(data, scripting=True)


def keyed(tree: LexborHTMLParser) -> dict[int, list[LexborNode]]:
    out: dict[int, list[LexborNode]] = {}
    for node in tree.css(f"[{KEY}]"):
        value = node.attributes.get(KEY) or ""
        if value.isdigit():
            out.setdefault(int(value), []).append(node)
    return out


def unlocated(tree: LexborHTMLParser) -> list[str]:
    """Slot names of elements with data-edge-slot whose start tag the byte scan did not find."""
    names = (n.attributes.get("data-edge-slot") for n in tree.css(f"[data-edge-slot]:not([{KEY}])"))
    return [name for name in names if name]


def context(node: LexborNode) -> str | None:
    """Why a slot element's place in the tree makes it unfillable, or None."""
    p = node.parent
    in_cell = False
    while p is not None:
        tag = p.tag or ""
        if tag in ("svg", "math"):
            return "inside SVG/MathML"
        if tag in _SELECT:
            return "inside a select element"
        if tag in _CELL:
            in_cell = True
        elif tag in _TABLE and not in_cell:
            return "inside table structure"
        elif tag == "template":
            return "inside a template"
        p = p.parent
    return None


def _clear(tree: LexborHTMLParser, filled: set[str]) -> str:
    for node in tree.css(f"[{KEY}]"):
        if node.attributes.get(KEY) in filled:
            for child in list(node.iter(include_text=True)):
                child.decompose()
    # Children before parents, so no node is freed twice.
    for node in reversed(tree.css(f"[{PROBE}]")):
        node.decompose()
    return tree.html or ""


def _clean(probe: bytes, which: str) -> str:
    node = LexborHTMLParser(b"<body>" + probe).css_first(f'[{PROBE}="{which}"]')
    assert node is not None
    return node.html or ""


# How each probe looks when nothing around it interferes.
_CLEAN = {"s": _clean(SLOT_PROBE, "s"), "e": _clean(END_PROBE, "e")}


def _probe_html(root: LexborNode) -> str:
    # Elements in the probe that the probe did not write are copies of formatting elements
    # left open on the page (the parser reopens them in any new content): harmless, unwrapped.
    for node in reversed(root.css("*")):
        if PROBE not in node.attributes:
            node.unwrap()
    return root.html or ""


def _probes_in_place(tree: LexborHTMLParser, filled: Iterable[int], end: bool) -> bool:
    """Every slot probe is a child of its slot, the end probe is in the body, and each probe
    came out of the parser exactly as written (nothing closed, moved or ignored in it)."""
    nodes = keyed(tree)
    for i in filled:
        found = nodes.get(i)
        if not found or len(found) != 1:
            return False
        child = found[0].css_first(f'[{PROBE}="s"]')
        if child is None or child.parent is None or child.parent.attributes.get(KEY) != str(i):
            return False
        if _probe_html(child) != _CLEAN["s"]:
            return False
    if end:
        probe = tree.css_first(f'[{PROBE}="e"]')
        if (probe is None or context(probe) is not None
                or _probe_html(probe) != _CLEAN["e"]):
            return False
        p = probe.parent
        while p is not None and p.tag != "body":
            p = p.parent
        if p is None:
            return False
    return True


class Verifier:
    """Checks probe fills against one keyed page; every check costs two Lexbor parses."""

    def __init__(self, keyed_page: bytes, inserted_at: Sequence[int], inserted_total: Sequence[int],
                 encoding: str | None):
        self._page = keyed_page
        # Where keys went into the original page, and how many bytes were inserted up to each:
        # maps original offsets to offsets in the keyed page.
        self._at_pos = inserted_at
        self._at_total = inserted_total
        self._encoding = encoding

    def _at(self, offset: int) -> int:
        i = bisect_right(self._at_pos, offset)
        return offset + (self._at_total[i - 1] if i else 0)

    def check(self, ranges: dict[int, tuple[int, int]], end: int | None) -> bool:
        """Fill the slots ``{key: (start, end)}`` (offsets in the original page) with the probe
        and put the end probe at ``end``; True when the trees agree outside them."""
        edits = [(self._at(a), self._at(b), SLOT_PROBE) for a, b in ranges.values()]
        if end is not None:
            edits.append((self._at(end), self._at(end), END_PROBE))
        edits.sort()
        probe_page = splice(self._page, edits)
        b = parse(probe_page, self._encoding)
        if not _probes_in_place(b, ranges, end is not None):
            return False
        a = parse(self._page, self._encoding)
        filled = {str(i) for i in ranges}
        return _clear(a, filled) == _clear(b, filled)


def splice(data: bytes, edits: Sequence[tuple[int, int, bytes]]) -> bytes:
    """Replace ``data[start:end]`` by each replacement; edits sorted and not overlapping."""
    parts: list[bytes] = []
    pos = 0
    for start, end, new in edits:
        parts.append(data[pos:start])
        parts.append(new)
        pos = end
    parts.append(data[pos:])
    return b"".join(parts)
