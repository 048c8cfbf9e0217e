"""Remembered parses of profile parts, keyed by their exact stored bytes.

Between two pages of one visitor most parts of the profile do not change (a page view changes
the counters in ``p`` and the ``views`` list; events change the part they touch), yet each load
reads them all. A ``PartCache`` keeps the parse of a part under the part's name and its exact
stored items (as a plain read replies them; or the LOAD script's msgpack blob of them, on
clients that read through the script). A part whose bytes
changed is parsed again, and two profiles share a parse only when their stored bytes are
identical, so nothing of one visitor can reach another. The kept values are read-only
(``edge.store.frozen``).

Parts that change on every page (``VOLATILE``) are not kept whole; the items of a list part
are kept one by one instead (a new page view shifts the list, the older items stay the same).
Both caches are bounded by an estimate of the memory they take; the part cache forgets the
least recently used part first, the item cache the oldest item.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import msgpack

from edge.store.frozen import unpack_frozen
from edge.store.profile import Advisor, parse_advisor, parse_part

VOLATILE = frozenset({"p", "views"})
NOT_READ = frozenset({"clk"})  # loaded (it is part of the profile) but not in a Profile
# Memory for kept parses, estimated per entry as its stored bytes (the key) plus three times
# that for the parsed objects (measured: dicts of a few short fields) plus a fixed overhead.
PART_BUDGET = 24 * 1024 * 1024
ITEM_BUDGET = 8 * 1024 * 1024
MAX_ITEM = 16 * 1024  # bigger single values are parsed each time
_OVERHEAD = 200
_EMPTY = b"\x90"  # what the script sends for a missing key: an empty msgpack array


class _Lru:
    """Values keyed by stored bytes (or a (name, bytes) pair), bounded by an estimate of the
    memory they take; the oldest entry goes first."""

    def __init__(self, budget: int):
        self.budget = budget
        self.size = 0
        self.entries: OrderedDict[Any, Any] = OrderedDict()

    def put(self, key: Any, value: Any) -> None:
        entries = self.entries
        if key in entries:
            return
        entries[key] = value
        self.size += _cost(key)
        while self.size > self.budget and entries:
            old, _ = entries.popitem(last=False)
            self.size -= _cost(old)

    def clear(self) -> None:
        self.entries.clear()
        self.size = 0


def _cost(key: Any) -> int:
    stored = key[1] if isinstance(key, tuple) else key
    if isinstance(stored, tuple):  # a part's items, as Redis replied them
        return 4 * sum(map(len, stored)) + 60 * len(stored) + _OVERHEAD
    return 4 * len(stored) + _OVERHEAD


class PartCache:
    def __init__(self, part_budget: int = PART_BUDGET, item_budget: int = ITEM_BUDGET):
        self._parts = _Lru(part_budget)
        self._items = _Lru(item_budget)
        self._empty: dict[str, Any] = {}

    def clear(self) -> None:
        self._parts.clear()
        self._items.clear()

    def parse(self, names: Iterable[str], blobs: Iterable[bytes]) -> dict[str, Any]:
        """The parsed parts of one LOAD reply: ``blobs[i]`` is part ``names[i]``'s msgpack.
        A kept parse is found by the part's name and the blob's exact bytes."""
        return self._parse(names, blobs, _EMPTY.__eq__, _reply, _itself)

    def parse_replies(self, names: Iterable[str], replies: Iterable[Any]) -> dict[str, Any]:
        """The parsed parts of a plain read (``Store._read_parts``): ``replies[i]`` is part
        ``names[i]`` as Redis replied (a flat list of bulk strings; empty when missing). A
        kept parse is found by the part's name and its exact items."""
        return self._parse(names, replies, operator.not_, _itself, tuple)

    def _parse(self, names: Iterable[str], stored: Iterable[Any], empty: Callable[[Any], bool],
               items: Callable[[Any], Any], key: Callable[[Any], Any]) -> dict[str, Any]:
        """Each part's parse: ``empty(value)`` says the part holds nothing, ``items(value)``
        is its flat list of bulk strings, ``key(value)`` its exact stored form (the cache key,
        with the part's name)."""
        entries = self._parts.entries
        out: dict[str, Any] = {}
        for name, value in zip(names, stored, strict=True):
            if name in NOT_READ:
                continue
            if empty(value):
                parsed = self._empty.get(name)
                if parsed is None:
                    parsed = self._empty[name] = parse_part(name, None)
                out[name] = parsed
                continue
            if name in VOLATILE:
                out[name] = parse_part(name, items(value), self.item, self.advisor)
                continue
            cache_key = (name, key(value))
            parsed = entries.get(cache_key)
            if parsed is None:
                parsed = parse_part(name, items(value), self.item, self.advisor)
                self._parts.put(cache_key, parsed)
            else:
                entries.move_to_end(cache_key)
            out[name] = parsed
        return out

    def item(self, blob: Any) -> Any:
        """One stored msgpack value, read-only (None if broken); remembered by its bytes."""
        try:
            return self._items.entries[blob]  # first in, first out: no reordering on a hit
        except (KeyError, TypeError):
            value = unpack_frozen(blob)
            if isinstance(blob, bytes) and len(blob) <= MAX_ITEM:
                self._items.put(blob, value)
            return value


    def advisor(self, blob: Any) -> Advisor | None:
        """The advisor stored in ``p`` (which changes on every page; the advisor seldom)."""
        key = ("advisor", blob)
        try:
            return self._items.entries[key]
        except (KeyError, TypeError):
            value = parse_advisor(blob, self.item)
            if isinstance(blob, bytes) and len(blob) <= MAX_ITEM:
                self._items.put(key, value)
            return value


def _itself(value: Any) -> Any:
    return value


def _reply(blob: bytes) -> Any:
    # The script packs each Redis reply as it came: a flat list of bulk strings.
    try:
        return msgpack.unpackb(blob, raw=True)
    except Exception:  # not what the script writes: an empty part
        return None
