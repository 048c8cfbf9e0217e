"""A markup tokenizer over bytes, driven by one compiled regex (the regex engine walks the
text at C speed; Python only sees tags, comments and whole raw-text elements).

It follows the HTML tokenizer where it matters for finding slots: attribute values are
quoted or unquoted as the spec says (so ``<a title="<div>">`` holds no tag), comments end at
``-->``/``--!>`` (``<!-->`` is an empty comment), ``<!``/``<?``/``</`` + non-letter open bogus
comments, and raw-text/RCDATA elements (script, style, textarea, title, ...) swallow everything
up to their end tag. It does not do script-data escapes or foreign-content CDATA; the Lexbor
verification in :mod:`edge.slots.verify` catches what this approximation gets wrong.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Elements whose content the tokenizer does not parse as markup (noscript: scripting is on in
# browsers). plaintext never ends.
RAW_TEXT = (b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed",
            b"noframes", b"noscript")
VOID = frozenset({b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link",
                  b"meta", b"source", b"track", b"wbr", b"param", b"keygen", b"frame",
                  b"basefont", b"bgsound", b"image"})

# HTML whitespace is tab, LF, FF, CR and space (not \v).
_WS = rb"[\t\n\f\r ]"
_NOT_WS = rb"\t\n\f\r "
# The inside of a tag after its name: separators, and attributes with optional values.
_ATTRS = (rb"(?:[^>\"'=]++|=" + _WS + rb"*+(?:\"[^\"]*+\"|'[^']*+')?|[\"'])*+")
_RAW = b"|".join(RAW_TEXT)

TOKEN = re.compile(
    rb"<(?:"
    rb"(?P<c>!--(?:-?>|(?:[^-]++|-(?!-!?>))*+(?:--!?>)?))"       # comment
    rb"|(?P<b>(?:[!?]|/(?![A-Za-z>]))[^>]*(?:>|\Z))"           # doctype, CDATA, bogus comment
    rb"|/(?P<e>[A-Za-z][^" + _NOT_WS + rb"/>]*)" + _ATTRS + rb"(?:>|\Z)"   # end tag
    rb"|(?P<r>" + _RAW + rb")(?=[\t\n\f\r />])(?P<ra>" + _ATTRS + rb")(?:>|\Z)"
    rb"(?:(?:[^<]*+<)*?/(?P=r)(?=[\t\n\f\r />])" + _ATTRS + rb"(?:>|\Z)|(?P<rx>.*))"  # raw element
    rb"|(?P<p>plaintext)(?=[\t\n\f\r />])" + _ATTRS + rb".*"   # plaintext: to the end
    rb"|(?P<s>[A-Za-z][^" + _NOT_WS + rb"/>]*)(?P<a>" + _ATTRS + rb")(?P<z>>|\Z)"  # start tag
    rb")",
    re.IGNORECASE | re.DOTALL,
)

ATTR = re.compile(
    rb"([^" + _NOT_WS + rb"/>][^" + _NOT_WS + rb"/>=]*)"
    rb"(?:" + _WS + rb"*=" + _WS + rb"*(?:\"([^\"]*)\"|'([^']*)'|([^" + _NOT_WS + rb">]*)))?",
)

# The attribute that marks a slot (compared lower-cased).
MARKER_NAME = b"data-edge-slot"


class Tag(NamedTuple):
    """A start tag, end tag or whole raw-text element; offsets into the page bytes."""

    kind: str          # "s" start, "e" end, "r" raw-text element (start..end tag), "x" other
    name: bytes        # lower-cased tag name
    start: int
    end: int           # for "s": just after ">"; for "r": just after the end tag
    attrs: bytes       # the raw attribute text of a start tag
    closed: bool       # "s": ends with "/>"; "r": its end tag was found


def tokenize(data: bytes) -> list[Tag]:
    """All tags of ``data`` in order (comments and bogus comments come back as kind "x")."""
    out: list[Tag] = []
    append = out.append
    for m in TOKEN.finditer(data):
        kind = m.lastgroup
        if kind == "z":  # start tag (the last group to match is the closing ">")
            if not m.group("z"):  # EOF inside a tag: the tokenizer drops it
                append(Tag("x", b"", m.start(), m.end(), b"", False))
                continue
            a = m.group("a")
            append(Tag("s", m.group("s").lower(), m.start(), m.end(), a,
                       a.endswith(b"/") and m.group("z") == b">"))
        elif kind == "e":
            append(Tag("e", m.group("e").lower(), m.start(), m.end(), b"", False))
        elif kind == "c" or kind == "b":
            append(Tag("x", b"", m.start(), m.end(), b"", False))
        elif kind == "p":
            append(Tag("r", b"plaintext", m.start(), m.end(), b"", False))
        else:  # raw-text element: lastgroup "ra" (end tag found) or "rx" (runs to the end)
            append(Tag("r", m.group("r").lower(), m.start(), m.end(), m.group("ra"), kind == "ra"))
    return out


def attributes(raw: bytes) -> dict[bytes, tuple[int, bytes]]:
    """Attribute name (lower-cased) → (offset of the name in ``raw``, raw value); the first of
    duplicate names wins, as in HTML."""
    out: dict[bytes, tuple[int, bytes]] = {}
    for m in ATTR.finditer(raw):
        name = m.group(1).lower()
        if name not in out:
            v = m.group(2)
            if v is None:
                v = m.group(3)
            if v is None:
                v = m.group(4) or b""
            out[name] = (m.start(), v)
    return out


# A start tag at a given "<" (match with START.match(data, pos)); EOF inside the tag is no tag.
START = re.compile(rb"<([A-Za-z][^" + _NOT_WS + rb"/>]*)(" + _ATTRS + rb")>", re.DOTALL)
