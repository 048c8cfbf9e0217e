"""Planning: from page bytes to a :class:`SlotPlan` (which slots can be filled, where the
body-end HTML goes, the page's facts), cached per page body."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode
from xxhash import xxh3_128_digest

from edge.slots import scan
from edge.slots.scan import Candidate, Occurrence
from edge.slots.verify import Verifier, context, in_form, key_attr, keyed, parse, unlocated

log = logging.getLogger("edge.slots")

# A page with more marked tags than this is refused as a whole (each slot costs verification).
MAX_CANDIDATES = 200
# Bigger pages are not planned (no slots, no body end): planning costs about two Lexbor parses.
MAX_PAGE_BYTES = 4_000_000
VERIFY_FAILED = "filling it would change the page outside the slot (Lexbor verification)"


@dataclass(frozen=True)
class SlotPlan:
    """What the rewriter knows about one page body; see the package docstring."""

    slots: tuple[str, ...] = ()
    body_end: int | None = None
    facts: dict[str, str] = field(default_factory=dict)
    title: str = ""
    charset: str | None = None
    rejected: tuple[tuple[str, str], ...] = ()
    # The accepted slots in document order (a name may occur more than once).
    occurrences: tuple[Occurrence, ...] = ()
    # The length of the planned body: render refuses to apply the plan to another one.
    length: int = 0


EMPTY_PLAN = SlotPlan()


class SlotPlanner:
    """Plans pages, remembering the last ``cache_size`` plans by a digest of the body (XXH3).

    ``verify=False`` skips the probe parse: slots then rest on the byte scan and the Lexbor
    context checks alone, and the body end is the last ``</body>`` as found in the bytes. That
    is about half the planning cost, and a slot in an odd place (e.g. foster-parented out of a
    table, or a <span> slot inside a <p> filled with a <div>) can then disturb the page.
    """

    def __init__(self, verify: bool = True, cache_size: int = 512):
        self.verify = verify
        self.cache_size = max(0, cache_size)
        self._cache: OrderedDict[bytes, SlotPlan] = OrderedDict()
        # Digests of bodies seen without the marker: a repeated unmarked page costs one digest
        # (~6 µs per 100 KB) instead of a marker search (~35 µs, more on a busy machine).
        self._unmarked: OrderedDict[bytes, None] = OrderedDict()
        # Planning may run in worker threads (it costs milliseconds); the cache is shared.
        self._lock = threading.Lock()

    def plan_if_marked(self, body: bytes) -> SlotPlan | None:
        """The plan for ``body`` if it may hold a slot (see ``has_marker``), else None."""
        key = _digest(body)
        with self._lock:
            plan = _get(self._cache, key)
            if plan is not None:
                return plan
            if key in self._unmarked:  # seen before, without a marker
                self._unmarked.move_to_end(key)
                return None
        if MARKER not in body:
            self._put(self._unmarked, key, None)
            return None
        return self.plan(body, key)

    def plan(self, body: bytes, key: bytes | None = None) -> SlotPlan:
        """The plan for ``body``; never raises (a page that cannot be planned gets an empty
        plan and goes out unchanged). ``key``: the body's digest, if already computed."""
        if key is None:
            key = _digest(body)
        with self._lock:
            plan = _get(self._cache, key)
        if plan is not None:
            return plan
        try:
            plan = build_plan(body, verify=self.verify)
        except Exception:
            log.exception("slot planning failed; the page passes through unchanged")
            plan = EMPTY_PLAN
        self._put(self._cache, key, plan)
        return plan

    def _put(self, lru: OrderedDict[bytes, Any], key: bytes, value: Any) -> None:
        if self.cache_size:
            with self._lock:
                lru[key] = value
                if len(lru) > self.cache_size:
                    lru.popitem(last=False)


def _get(lru: OrderedDict[bytes, Any], key: bytes) -> Any:
    """``lru[key]``, marked as recently used; None if absent (the caller holds the lock)."""
    value = lru.get(key)
    if value is not None:
        lru.move_to_end(key)
    return value


# What marks a slot, as documented: found by one byte search, in lower case.
MARKER = b"data-edge-slot"


def _digest(body: bytes) -> bytes:
    # XXH3-128 hashes 100 KB in ~6 µs (SHA-1: 90 µs, blake2b: 200 µs), which matters on every
    # page. It is not cryptographic: two different pages of the same length would need the
    # same 128-bit digest, which takes pages crafted for it, and the pages come from the shop's
    # own origin. render refuses a plan whose length differs.
    return xxh3_128_digest(body) + len(body).to_bytes(8, "little")


def build_plan(body: bytes, verify: bool = True) -> SlotPlan:
    """Plan one page (uncached)."""
    if scan.is_wide(body) or len(body) > MAX_PAGE_BYTES:
        return EMPTY_PLAN
    encoding = scan.charset(body)
    cands, rejected = scan.candidates(body, encoding)
    if scan.has_frameset(body):
        # A <frameset> replaces the body unless content before it said otherwise; any fill
        # could flip that ("frameset-ok"), so frameset pages are left alone.
        return SlotPlan(charset=encoding, length=len(body),
                        rejected=tuple(rejected + [(c.name, "frameset page") for c in cands]))
    if len(cands) > MAX_CANDIDATES:
        rejected += [(c.name, "too many slots on the page") for c in cands]
        cands = []
    # The keyed page: every candidate start tag gets its key right after its tag name.
    parts: list[bytes] = []
    at: list[int] = []
    total: list[int] = []
    pos = inserted = 0
    for i, c in enumerate(cands):
        k = key_attr(i)
        parts += (body[pos:c.name_end], k)
        pos = c.name_end
        inserted += len(k)
        at.append(pos)
        total.append(inserted)
    parts.append(body[pos:])
    keyed_page = b"".join(parts)
    tree = parse(keyed_page, encoding)
    facts, title = _facts(tree, b"edge:" in body or b"EDGE:" in body)

    nodes = keyed(tree)
    rejected += [(name, "its start tag was not found in the page bytes")
                 for name in unlocated(tree)]
    accepted: dict[int, Occurrence] = {}
    for i, c in enumerate(cands):
        why = _refusal(body, c, nodes.get(i))
        if isinstance(why, Occurrence):
            accepted[i] = why
        else:
            rejected.append((c.name, why))

    ends = [e for e in scan.body_end_candidates(body)
            if not any(o.start <= e <= o.end for o in accepted.values())]
    if verify:
        verifier = Verifier(keyed_page, at, total, encoding, tree)
        body_end = _verify(verifier, accepted, ends, rejected)
    else:
        body_end = ends[0] if ends else None

    occurrences = tuple(accepted[i] for i in sorted(accepted))
    return SlotPlan(
        slots=tuple(dict.fromkeys(o.name for o in occurrences)),
        body_end=body_end,
        facts=facts,
        title=title,
        charset=encoding,
        rejected=tuple(rejected),
        occurrences=occurrences,
        length=len(body),
    )


def _refusal(body: bytes, c: Candidate, found: list[LexborNode] | None) -> str | Occurrence:
    if not found:
        return "not an element: inside a comment, raw text, template or attribute value"
    if len(found) != 1 or (found[0].tag or "").encode("latin-1", "replace") != c.tag:
        return "the parser does not build this element as written"
    why = scan.REFUSED.get(c.tag) or context(found[0])
    if why is not None:
        return why
    why, end = scan.content(body, c)
    if why is not None:
        return why
    return Occurrence(c.name, c.tag, c.content_start, end, in_form(found[0]))


def _facts(tree: LexborHTMLParser, any_facts: bool) -> tuple[dict[str, str], str]:
    facts: dict[str, str] = {}
    for node in tree.css("meta[name]") if any_facts else ():
        name = node.attributes.get("name") or ""
        if name[:5].lower() == "edge:" and len(name) > 5:
            facts.setdefault(name[5:], node.attributes.get("content") or "")
    found = tree.css_first("title")
    title = " ".join(found.text().split()) if found is not None else ""
    return facts, title


def _verify(verifier: Verifier, accepted: dict[int, Occurrence], ends: list[int],
            rejected: list[tuple[str, str]]) -> int | None:
    """Drop the slots that fail verification (from ``accepted``, in place) and pick the body
    end. One parse when all is well; failing slots are then found by halving."""
    starts = {i: (o.start, o.in_form) for i, o in accepted.items()}
    end = ends[0] if ends else None
    if verifier.check(starts, end):
        return end
    # Probes that did not stay in place name their slots; the rest is found by halving.
    keys = [i for i in starts if i not in verifier.misplaced]
    good = _passing(verifier, keys, starts)
    # With no slots the first check was the first body end's own: no need to repeat it.
    end = _first_end(verifier, ends if starts else ends[1:])
    if good and not verifier.check({i: starts[i] for i in good}, end):
        good = []  # slots that pass alone but not together: keep none
    for i in starts:
        if i not in good:
            rejected.append((accepted.pop(i).name, VERIFY_FAILED))
    return end


def _passing(verifier: Verifier, keys: list[int],
             starts: dict[int, tuple[int, bool]]) -> list[int]:
    if not keys:
        return []
    if verifier.check({i: starts[i] for i in keys}, None):
        return keys
    if len(keys) == 1:
        return []
    half = len(keys) // 2
    return _passing(verifier, keys[:half], starts) + _passing(verifier, keys[half:], starts)


def _first_end(verifier: Verifier, ends: list[int]) -> int | None:
    for end in ends:
        if verifier.check({}, end):
            return end
    return None
