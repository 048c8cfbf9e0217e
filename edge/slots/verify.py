"""The Lexbor half of planning: which marked tags are real elements, in what context, and does
a probe in every slot (and at the body end) leave the rest of the tree alone?

Every candidate start tag gets a key attribute (`` data-edge-k=N``, unquoted so that it is
harmless wherever the "tag" really sits: text, comment, script, attribute value). The keyed
page ("A") is parsed once; a key that shows up on exactly one element of the right name is a
real slot. For verification a second page ("B") is A with probes spliced in (see
:class:`Verifier`); with the probe nodes removed it must serialize exactly as A. The probe
holds the elements our widgets use (block, list, heading, link, form, button, table), so a
slot where any of them would escape (foster-parented out of a table, in foreign content, ...)
fails and is dropped.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

KEY = "data-edge-k"
PROBE = "data-edge-probe"
_P = b' data-edge-probe=""'
_INNER = (b"<p" + _P + b"><a" + _P + b' href="#"></a><b' + _P + b"></b></p><ul" + _P +
          b"><li" + _P + b"></li></ul><h2" + _P + b"></h2><form" + _P + b"><button" + _P +
          b"></button><input" + _P + b"></form><table" + _P + b"><tbody" + _P + b"><tr" + _P +
          b"><td" + _P + b"></td></tr></tbody></table>")
SLOT_PROBE = b'<div data-edge-probe="s">' + _INNER + b"</div>"
# For slots inside a form: fills there may not hold a form (render drops those), so the probe
# has none either.
_INNER_NO_FORM = _INNER.replace(b"<form" + _P + b">", b"").replace(b"</form>", b"")
FORM_SLOT_PROBE = b'<div data-edge-probe="f">' + _INNER_NO_FORM + b"</div>"
END_PROBE = (b'<div data-edge-probe="e">' + _INNER + b"</div><script" + _P + b">0</script>")

_TABLE = frozenset({"table", "tbody", "thead", "tfoot", "tr", "colgroup"})
_CELL = frozenset({"td", "th", "caption"})
_SELECT = frozenset({"select", "datalist", "option", "optgroup"})
# Ancestors that the usual fill content would close, split or be dropped by.
_BLOCKERS = {
    "p": "inside a <p>: block content in a fill would close it",
    "a": "inside a link: a link in a fill would close it",
    "button": "inside a button: a button in a fill would close it",
}


def key_attr(i: int) -> bytes:
    # Spaces on both sides: an unquoted value would run on into "/attr" after it.
    return b" " + KEY.encode() + b"=" + str(i).encode() + b" "


def parse(data: bytes, encoding: str | None) -> LexborHTMLParser:
    # Lexbor reads bytes as UTF-8; pages in another charset are decoded first so that the
    # facts and title come out right (the tree's structure is the same either way).
    if encoding is not None and encoding not in ("utf-8", "ascii"):
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


def in_form(node: LexborNode) -> bool:
    p = node.parent
    while p is not None:
        if p.tag == "form":
            return True
        p = p.parent
    return False


def context(node: LexborNode) -> str | None:
    """Why a slot element's place in the tree makes it unfillable, or None."""
    p = node.parent
    in_cell = False
    while p is not None:
        tag = p.tag or ""
        if tag in ("svg", "math"):
            return "inside SVG/MathML"
        if tag in _BLOCKERS:
            return _BLOCKERS[tag]
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


def _clean(probe: bytes, which: str) -> str:
    node = LexborHTMLParser(b"<body>" + probe).css_first(f'[{PROBE}="{which}"]')
    assert node is not None
    return node.html or ""


# How each probe looks when nothing around it interferes.
_CLEAN = {"s": _clean(SLOT_PROBE, "s"), "f": _clean(FORM_SLOT_PROBE, "f"),
          "e": _clean(END_PROBE, "e")}


def _probe_html(root: LexborNode) -> str:
    # Elements in the probe that the probe did not write are copies of formatting elements
    # left open on the page (the parser reopens them in any new content): harmless, unwrapped.
    for node in reversed(root.css("*")):
        if PROBE not in node.attributes:
            node.unwrap()
    return root.html or ""


def _misplaced(tree: LexborHTMLParser, filled: dict[int, tuple[int, bool]]) -> set[int]:
    """The slots whose probe is not a child of the slot exactly as written (nothing closed,
    moved or ignored in it)."""
    nodes = keyed(tree)
    bad = set()
    for i, (_, form) in filled.items():
        kind = "f" if form else "s"
        found = nodes.get(i)
        child = found[0].css_first(f'[{PROBE}="{kind}"]') if found and len(found) == 1 else None
        if (child is None or child.parent is None or child.parent.attributes.get(KEY) != str(i)
                or _probe_html(child) != _CLEAN[kind]):
            bad.add(i)
    return bad


def _end_in_place(tree: LexborHTMLParser, end: bool) -> bool:
    """The end probe is in the body, as written."""
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
    """Checks probe fills against one keyed page ("A", parsed once); each check costs one
    Lexbor parse of the probed page ("B").

    A probe goes at the *start* of each slot's content, the default content stays after it. A
    self-contained fill leaves the parser where it found it, so "probe, then default" parses
    like the page wherever "fill instead of default" would; and with the probe nodes removed
    the whole tree, slot contents included, must serialize exactly as the page's. That lets
    every slot and the body end be checked in one parse, nested slots included.
    """

    def __init__(self, keyed_page: bytes, inserted_at: Sequence[int], inserted_total: Sequence[int],
                 encoding: str | None, keyed_tree: LexborHTMLParser):
        self._page = keyed_page
        # Where keys went into the original page, and how many bytes were inserted up to each:
        # maps original offsets to offsets in the keyed page.
        self._at_pos = inserted_at
        self._at_total = inserted_total
        self._encoding = encoding
        self._expected = keyed_tree.html or ""
        # The slots whose probe did not stay in place in the last check.
        self.misplaced: set[int] = set()

    def _at(self, offset: int) -> int:
        i = bisect_right(self._at_pos, offset)
        return offset + (self._at_total[i - 1] if i else 0)

    def check(self, starts: dict[int, tuple[int, bool]], end: int | None) -> bool:
        """Probe the slots ``{key: (content start, inside a form)}`` and the body end at
        ``end`` (offsets in the original page); True when the probes come out as written and
        change nothing else."""
        edits = [(self._at(a), self._at(a), FORM_SLOT_PROBE if form else SLOT_PROBE)
                 for a, form in starts.values()]
        if end is not None:
            edits.append((self._at(end), self._at(end), END_PROBE))
        edits.sort()
        b = parse(splice(self._page, edits), self._encoding)
        self.misplaced = _misplaced(b, starts)
        if self.misplaced or not _end_in_place(b, end is not None):
            return False
        # Children before parents, so no node is freed twice.
        for node in reversed(b.css(f"[{PROBE}]")):
            node.decompose()
        return (b.html or "") == self._expected


def splice(data: bytes, edits: Sequence[tuple[int, int, bytes]]) -> bytes:
    """Replace ``data[start:end]`` by each replacement; edits sorted and not overlapping."""
    view = memoryview(data)  # slices of a view are not copies: the page is copied once
    parts: list[bytes | memoryview] = []
    pos = 0
    for start, end, new in edits:
        parts.append(view[pos:start])
        parts.append(new)
        pos = end
    parts.append(view[pos:])
    return b"".join(parts)
