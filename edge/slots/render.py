"""Splicing fills into a planned page: bytes outside the filled slots are copied unchanged."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Mapping
from functools import lru_cache

from edge.slots import fragment
from edge.slots.plan import SlotPlan
from edge.slots.verify import splice

log = logging.getLogger("edge.slots")

_ASCII = bytes(range(0x20, 0x7F)).decode("ascii")
END_OPEN = b'<div data-edge-end="">'
END_CLOSE = b"</div>"


@lru_cache(maxsize=64)
def codec_for(encoding: str | None) -> str:
    """The codec to encode fills with: the page's own if it is ASCII-compatible (markup keeps
    its bytes), else ASCII (with character references, safe in any ASCII-compatible page)."""
    if not encoding:
        return "ascii"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return "ascii"
    if name.startswith(("iso2022", "hz", "utf-7", "utf-16", "utf-32")):
        return "ascii"
    try:
        if _ASCII.encode(name) != _ASCII.encode("ascii"):
            return "ascii"
    except (UnicodeError, LookupError):
        return "ascii"
    return name


@lru_cache(maxsize=512)
def encode_fill(html: str, codec: str, context: bytes, in_form: bool = False) -> bytes | None:
    """The fill as page bytes, or None when it is not self-contained (it is then dropped)."""
    data = html.encode(codec, "xmlcharrefreplace")
    reason, _, _ = fragment.check(data, context=context, in_form=in_form)
    if reason is not None:
        log.warning("fill dropped (%s): %.80r", reason, html)
        return None
    return data


def render(body: bytes, plan: SlotPlan, fills: Mapping[str, str], body_end: str,
           encoding: str | None) -> bytes:
    """Splice ``fills`` (slot name → HTML) and ``body_end`` into the page.

    Returns ``body`` itself when nothing is spliced. Never raises: on any error the page goes
    out unchanged.
    """
    try:
        if not fills and not body_end:
            return body
        if plan.length != len(body):
            if plan.occurrences or plan.body_end is not None:
                log.error("slot plan is for another page body; the page goes out unchanged")
            return body
        codec = codec_for(encoding)
        edits: list[tuple[int, int, bytes]] = []
        filled_to = -1
        for occ in plan.occurrences:
            if occ.start < filled_to:  # inside a slot that is being filled
                continue
            html = fills.get(occ.name)
            if not isinstance(html, str):
                continue
            data = encode_fill(html, codec, occ.tag, occ.in_form)
            if data is None:
                continue
            edits.append((occ.start, occ.end, data))
            filled_to = occ.end
        if body_end and isinstance(body_end, str) and plan.body_end is not None:
            data = encode_fill(body_end, codec, b"body")
            if data:
                # In a wrapper <div>: its start tag does not reopen formatting elements the
                # page left open (text or a <span> would, around the injection, in the body).
                edits.append((plan.body_end, plan.body_end, END_OPEN + data + END_CLOSE))
                edits.sort(key=lambda e: e[0])
        if not edits:
            return body
        return splice(body, edits)
    except Exception:
        log.exception("rendering failed; the page goes out unchanged")
        return body
