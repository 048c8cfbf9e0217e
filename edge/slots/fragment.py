"""Is a piece of HTML self-contained? Used for a slot's default content (on the page) and for
every fill (from our widgets) before it is spliced in.

A fragment is self-contained when the tree a parser builds from it cannot reach outside it:
every element is closed by its own end tag in order (void elements need none), comments and
raw-text elements are closed, and nothing in it makes the parser close, reopen or merge into
elements around it. The check is a conservative, cheap stack walk over the tags (regex
tokenizer, C speed); anything unusual is refused with a short reason.
"""

from __future__ import annotations

from edge.slots.tokens import TOKEN, VOID

# Start tags that act on the document or its <head>/<body> rather than where they stand.
# (<nobr> runs the adoption agency on any open <nobr> in scope, the page's included.)
_FORBIDDEN = frozenset({b"html", b"head", b"body", b"frameset", b"frame", b"plaintext",
                        b"base", b"image", b"isindex", b"keygen", b"nobr"})
# Start tags that close an open <p> (HTML "close a p element"), so they may not nest in one.
_CLOSES_P = frozenset({b"address", b"article", b"aside", b"blockquote", b"center", b"details",
                       b"dialog", b"dir", b"div", b"dl", b"fieldset", b"figcaption", b"figure",
                       b"footer", b"header", b"hgroup", b"main", b"menu", b"nav", b"ol", b"p",
                       b"search", b"section", b"summary", b"ul", b"h1", b"h2", b"h3", b"h4",
                       b"h5", b"h6", b"pre", b"listing", b"form", b"table", b"hr", b"xmp"})
_HEADINGS = frozenset({b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"})
# Elements that must sit directly in a given parent, or the parser moves, drops or closes things.
_PARENTS: dict[bytes, frozenset[bytes]] = {
    b"li": frozenset({b"ul", b"ol", b"menu"}),
    # (HTML allows <dl><div><dd>, but a <dd> start tag looks past a <div> for a <dd> to close,
    # so a <div> slot would let it reach the page's own lists.)
    b"dd": frozenset({b"dl"}),
    b"dt": frozenset({b"dl"}),
    b"tr": frozenset({b"table", b"tbody", b"thead", b"tfoot"}),
    b"td": frozenset({b"tr"}),
    b"th": frozenset({b"tr"}),
    b"tbody": frozenset({b"table"}),
    b"thead": frozenset({b"table"}),
    b"tfoot": frozenset({b"table"}),
    b"caption": frozenset({b"table"}),
    b"colgroup": frozenset({b"table"}),
    b"col": frozenset({b"colgroup", b"table"}),
    b"option": frozenset({b"select", b"datalist", b"optgroup"}),
    b"optgroup": frozenset({b"select"}),
    b"rb": frozenset({b"ruby"}),
    b"rt": frozenset({b"ruby", b"rtc"}),
    b"rp": frozenset({b"ruby", b"rtc"}),
    b"rtc": frozenset({b"ruby"}),
}
# In a table (not in a cell) only table parts may appear directly: text or other elements
# would be foster-parented out of the fragment.
_TABLE_PARTS = frozenset({b"table", b"tbody", b"thead", b"tfoot", b"tr"})
_IN_TABLE_OK = frozenset({b"caption", b"colgroup", b"col", b"tbody", b"thead", b"tfoot", b"tr",
                          b"td", b"th", b"script", b"template", b"style"})
# Elements that nest badly in themselves (adoption agency, implicit closes, ignored tags).
_NO_SELF_NEST = frozenset({b"a", b"nobr", b"form", b"button", b"select", b"label", b"p"})
_FOREIGN = frozenset({b"svg", b"math"})
# Tags that break out of SVG/MathML back into HTML.
_BREAKOUT = frozenset({b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd",
                       b"div", b"dl", b"dt", b"em", b"embed", b"h1", b"h2", b"h3", b"h4", b"h5",
                       b"h6", b"head", b"hr", b"i", b"img", b"li", b"listing", b"menu", b"meta",
                       b"nobr", b"ol", b"p", b"pre", b"ruby", b"s", b"small", b"span", b"strong",
                       b"strike", b"sub", b"sup", b"table", b"tt", b"u", b"ul", b"var", b"font"})


def check(data: bytes, start: int = 0, end: int | None = None, stop: bytes | None = None,
          context: bytes | None = None, in_form: bool = False) -> tuple[str | None, int, int]:
    """Walk the tags of ``data[start:end]``, which will sit inside a ``context`` element (and
    inside a form, if ``in_form``: then it may hold no form).

    Without ``stop``: returns ``(reason, -, -)``; reason is None when the fragment is
    self-contained. With ``stop`` (a tag name): the walk ends at the first ``</stop>`` that
    closes nothing opened in the fragment, and returns ``(reason, content_end, tag_end)``, the
    offsets of that end tag; reaching the end without it is a reason.
    """
    end = len(data) if end is None else end
    stack: list[bytes] = []
    foreign = 0
    pos = start
    for m in TOKEN.finditer(data, start, end):
        kind = m.lastgroup
        if stack and stack[-1] in _TABLE_PARTS and data[pos:m.start()].strip():
            return "text directly inside a table", 0, 0
        pos = m.end()
        if kind == "z":
            name = m.group("s").lower()
            if not m.group("z"):
                return "a tag is not closed", 0, 0
            self_closing = m.group("a").endswith(b"/")
            if foreign:
                if name in _BREAKOUT:
                    return f"<{name.decode()}> inside SVG/MathML", 0, 0
                if not self_closing:
                    stack.append(name)
                    foreign += 1
                continue
            if name in _FORBIDDEN:
                return f"<{name.decode()}> is not allowed here", 0, 0
            parent = stack[-1] if stack else context
            need = _PARENTS.get(name)
            if need is not None and parent not in need:
                return f"<{name.decode()}> outside its parent element", 0, 0
            if parent in _TABLE_PARTS and name not in _IN_TABLE_OK:
                return f"<{name.decode()}> directly inside a table", 0, 0
            if name in _CLOSES_P and b"p" in stack:
                return f"<{name.decode()}> inside <p> would close it", 0, 0
            if name in _HEADINGS and parent in _HEADINGS:
                return "a heading inside a heading", 0, 0
            if name == b"form" and in_form:
                return "<form> inside the page's form", 0, 0
            if name in _NO_SELF_NEST and name in stack:
                return f"<{name.decode()}> inside <{name.decode()}>", 0, 0
            if name in VOID:
                continue
            if name in _FOREIGN:
                if self_closing:
                    continue
                foreign = 1
            stack.append(name)
        elif kind == "e":
            name = m.group("e").lower()
            if not m.group(0).endswith(b">"):
                return "a tag is not closed", 0, 0
            if stack and stack[-1] == name:
                stack.pop()
                if foreign:
                    foreign -= 1
                continue
            if stop is not None and not stack and name == stop:
                return None, m.start(), m.end()
            return f"end tag </{name.decode()}> does not match", 0, 0
        elif kind == "c":
            text = m.group(0)
            if not (text.endswith((b"-->", b"--!>")) or text in (b"<!-->", b"<!--->")):
                return "a comment is not closed", 0, 0
        elif kind == "b":
            if not m.group(0).endswith(b">"):
                return "a comment is not closed", 0, 0
        elif kind == "ra" or kind == "rx":
            if kind == "rx":
                return f"<{m.group('r').lower().decode()}> is not closed", 0, 0
            if stack and stack[-1] in _TABLE_PARTS and m.group("r").lower() not in _IN_TABLE_OK:
                return "raw-text element directly inside a table", 0, 0
        else:  # plaintext
            return "<plaintext> is not allowed", 0, 0
    if stop is not None:
        return f"no </{stop.decode()}> end tag", 0, 0
    if stack and stack[-1] in _TABLE_PARTS and data[pos:end].strip():
        return "text directly inside a table", 0, 0
    if stack:
        return f"<{stack[-1].decode()}> is not closed", 0, 0
    return None, 0, 0
