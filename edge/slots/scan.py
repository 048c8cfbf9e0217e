"""The byte-level half of planning: find slot start tags, the page's charset, slot content
ranges. All of it is bytes.find and compiled regexes; Python only touches the few marked tags.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass

from edge.slots import fragment
from edge.slots.tokens import MARKER_NAME, START, VOID, attributes

# A slot whose element is one of these is refused whatever its content (see the package doc).
REFUSED: dict[bytes, str] = {}
for _names, _why in (
    (VOID, "void element: it has no content"),
    ((b"table", b"caption", b"colgroup", b"tbody", b"thead", b"tfoot", b"tr"),
     "table-structure element"),
    ((b"select", b"option", b"optgroup", b"datalist"), "select element"),
    ((b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes",
      b"noscript", b"plaintext"), "raw-text element"),
    ((b"html", b"head", b"body", b"frameset", b"template"), "document-structure element"),
    ((b"svg", b"math"), "SVG/MathML element"),
    ((b"a", b"b", b"big", b"code", b"em", b"font", b"i", b"nobr", b"s", b"small", b"strike",
      b"strong", b"tt", b"u"), "formatting element: the parser clones and reopens it"),
    ((b"form",), "form element: a form in a fill would be dropped"),
    ((b"p", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"button", b"label", b"ruby", b"rb",
      b"rt", b"rp", b"rtc", b"object", b"applet", b"marquee"),
     "element closed or split by block content in a fill"),
):
    for _n in _names:
        REFUSED.setdefault(_n, _why)

_CHARSET = re.compile(rb"<meta[^>]*?charset[\t\n\f\r ]*=[\t\n\f\r ]*[\"']?[\t\n\f\r ]*"
                      rb"([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_FRAMESET = re.compile(rb"<frameset[\t\n\f\r />]", re.IGNORECASE)
_BODY_END = re.compile(rb"</body[\t\n\f\r />]", re.IGNORECASE)
_HTML_END = re.compile(rb"</html[\t\n\f\r />]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A start tag that carries a ``data-edge-slot`` attribute (as far as bytes can tell)."""

    name: str          # the slot name (attribute value, entity-decoded)
    tag: bytes         # lower-cased element name
    tag_start: int     # offset of "<"
    name_end: int      # offset just after the tag name (where a probe attribute can go)
    content_start: int  # just after ">"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An accepted slot on the page: its content is ``body[start:end]``."""

    name: str
    tag: bytes
    start: int
    end: int
    # Inside a <form>: a fill may not hold another form (it would close the page's).
    in_form: bool = False


def is_wide(body: bytes) -> bool:
    """UTF-16/32 pages (BOM, or NUL bytes around markup) are not ASCII-compatible: no slots."""
    head = body[:4]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head == b"\x00\x00\xfe\xff":
        return True
    sample = body[:512]
    return b"<\x00" in sample or b"\x00<" in sample


def has_frameset(body: bytes) -> bool:
    return _FRAMESET.search(body) is not None


def charset(body: bytes) -> str | None:
    """The encoding the page declares in its first 1024 bytes (the HTML prescan), if any."""
    if body.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    m = _CHARSET.search(body, 0, 1024)
    if m is None:
        return None
    try:
        name = codecs.lookup(m.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # HTML maps these to UTF-8 (they are not ASCII-compatible, so cannot be what the page uses).
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return name


def decode(raw: bytes, encoding: str | None) -> str:
    return html.unescape(raw.decode(encoding or "utf-8", "replace"))


def candidates(body: bytes, encoding: str | None) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """Start tags whose attribute list has an attribute named data-edge-slot.

    The marker is found with bytes.find; the tag it belongs to is the nearest "<" before it, and
    the marker must sit at an attribute-name position of that tag. Markers in text, comments or
    scripts may still come back: the Lexbor pass drops whatever is no element.
    """
    out: list[Candidate] = []
    refused: list[tuple[str, str]] = []
    seen: set[int] = set()
    low = body.lower()  # ASCII-only, C speed: lets bytes.find do a case-insensitive search
    at = low.find(MARKER_NAME)
    while at >= 0:
        marker, at = at, low.find(MARKER_NAME, at + 1)
        lt = body.rfind(b"<", 0, marker)
        if lt < 0 or lt in seen:
            continue
        tag = START.match(body, lt)
        if tag is None or tag.end() <= marker:
            continue
        attrs = attributes(tag.group(2))
        found = attrs.get(MARKER_NAME)
        if found is None or tag.start(2) + found[0] != marker:
            continue
        seen.add(lt)
        name = decode(found[1], encoding)
        if not name:
            refused.append(("", "empty slot name"))
            continue
        out.append(Candidate(name, tag.group(1).lower(), lt, tag.end(1), tag.end()))
    return out, refused


def content(body: bytes, cand: Candidate) -> tuple[str | None, int]:
    """(reason, end): where the slot's default content ends, or why it cannot be filled."""
    why = REFUSED.get(cand.tag)
    if why is not None:
        return why, 0
    reason, end, _ = fragment.check(body, cand.content_start, stop=cand.tag, context=cand.tag)
    if reason is not None:
        return f"default content: {reason}", 0
    return None, end


def body_end_candidates(body: bytes) -> list[int]:
    """Offsets to try for the body-end injection, best first: before the last few </body>
    tags, before the last </html>, at the end of the page."""
    out = [m.start() for m in _BODY_END.finditer(body)][-3:][::-1]
    last_html = [m.start() for m in _HTML_END.finditer(body)][-1:]
    out += last_html
    out.append(len(body))
    return list(dict.fromkeys(out))
