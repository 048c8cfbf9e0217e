"""Every Redis key the store uses, in one place.

Per-visitor keys carry the hash tag ``{v:<profile id>}`` so one profile lives on one Cluster
shard and loads in one pipelined round trip. Shared keys (catalog, indexes, co-occurrence,
stats) are plain ``edge:`` keys.
"""

from __future__ import annotations

import hashlib

# The per-profile keys, by short name. The order is the order of KEYS in the Lua scripts.
PROFILE_PARTS: tuple[str, ...] = (
    "p",  # hash: scalar fields (contact, email, stable, visit_no, last_seen, points, ...)
    "attrs",  # hash: attribute name -> msgpack value
    "consents",  # hash: consent name -> msgpack {"granted", "ts"}
    "prefs",  # hash: declared preference -> msgpack value
    "facts",  # hash: custom facts from imports -> msgpack value
    "exp",  # hash: experiment -> variant
    "views",  # list: page views, newest first (msgpack)
    "pviews",  # list: product views, newest first (msgpack)
    "buys",  # list: purchases, newest first (msgpack)
    "forms",  # list: form submissions, newest first (msgpack)
    "events",  # list: custom events, newest first (msgpack)
    "cart",  # hash: sku -> msgpack {"qty", "price", "ts"}
    "likes",  # zset: sku -> ts (ms) liked
    "place",  # hash: placement history counters
    "agg",  # hash: "cat:<category>" / "attr:<name>=<value>" -> count
    "inbox",  # hash: offer id -> msgpack state
    "clk",  # hash: "<placement>|<variant>" -> ts of the last click (for conversions)
    "aliases",  # set: visitor ids (cookie ids) that point at this profile
)

# History caps: lists are trimmed to these lengths on every write.
CAPS: dict[str, int] = {"views": 200, "pviews": 100, "buys": 50, "forms": 50, "events": 100}
MAX_CART_LINES = 100
MAX_LIKES = 200
MAX_NAMED = 100  # consents / preferences per profile (their names come from visitors)
CO_CAP = 100  # members kept per co-occurrence zset


def profile_key(pid: str, part: str) -> str:
    return f"edge:{{v:{pid}}}:{part}"


def profile_keys(pid: str) -> list[str]:
    return [profile_key(pid, part) for part in PROFILE_PARTS]


def alias_key(visitor_id: str) -> str:
    """Cookie visitor id -> profile id, once the visitor was merged into another profile. In the
    visitor id's own slot, so a page's profile load reads it in the same script call."""
    return profile_key(visitor_id, "alias")


def contact_key(contact_id: str) -> str:
    return f"edge:contact:{_safe(contact_id)}"


def email_key(email: str) -> str:
    return f"edge:email:{_safe(email.strip().lower())}"


def fingerprint_key(fp: str) -> str:
    return f"edge:fp:{fp}"


def catalog_key() -> str:
    return "edge:catalog"


def catalog_version_key() -> str:
    return "edge:catalog:version"


def co_key(kind: str, sku: str) -> str:
    return f"edge:co:{kind}:{sku}"


BEST_KEY = "edge:best"
POP_KEY = "edge:pop"
STATS_INDEX_KEY = "edge:stats:index"


def stats_key(placement: str) -> str:
    return f"edge:stats:{placement}"


def rate_key(kind: str, who: str, window: int) -> str:
    return f"edge:rl:{kind}:{who}:{window}"


def _safe(value: str) -> str:
    # Contact ids and emails come from outside: hash long or odd ones into a fixed-size key.
    if len(value) <= 100 and value.isprintable() and " " not in value:
        return value
    return "h:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
