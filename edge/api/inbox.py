"""The Personal Shopping Inbox API: wish list, offers and loyalty for the visitor of the request.

    GET    /_edge/api/inbox[?lang=pl&shell=1]     the inbox (JSON + the drawer's HTML)
    POST   /_edge/api/inbox/wishlist {"sku"}      like / save for later
    DELETE /_edge/api/inbox/wishlist/{sku}        remove from the wish list
    POST   /_edge/api/inbox/offers/{id}/read      mark an offer read
    DELETE /_edge/api/inbox/offers/{id}           delete an offer (kept as a tombstone)

Every answer is the whole inbox, so the script redraws from one response. The visitor comes from
the signed edge cookie (``state.identity``): anonymous visitors have an inbox too, and the
store's merge carries likes and offers over when they log in.

Offers are written by the personalizer from the rules' inbox placements with
:func:`deliver_offer`; this module reads and updates their state (format in
``widgets.inbox_view``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from edge.api.common import api_endpoint, client_ip, read_json, request_head
from edge.api.embed import check_write_origin, with_cors
from edge.errors import ApiError
from edge.store import keys
from edge.store.profile import Profile, pack, unpack
from widgets.catalog import Catalog
from widgets.i18n import pick_language
from widgets.inbox_view import build_inbox, inbox_json
from widgets.templating import Templates

_SKU = re.compile(r"^[^\s|/]{1,128}$")
_OFFER_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


# --- offer state in the profile's inbox hash -------------------------------------------------
# Anonymous profiles expire as a whole: the inbox key takes the profile's own expiry, read and
# set in one step. Known profiles never expire, and a profile made known in between (LINK
# removes every part's expiry) must not be left with an expiring inbox: the edge's writes rely
# on a known profile's keys having none once its ``p`` key has none.
_MIRROR_TTL = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return ttl
"""


async def _mirror_ttl(redis: Any, profile_id: str) -> None:
    await redis.eval(_MIRROR_TTL, 2, keys.profile_key(profile_id, "p"),
                     keys.profile_key(profile_id, "inbox"))


async def deliver_offer(redis: Any, profile_id: str, offer_id: str, *,
                        texts: Mapping[str, Mapping[str, str]], url: str = "",
                        expires_ms: int = 0, now_ms: int | None = None) -> bool:
    """Put an offer into a profile's inbox unless it is there already (read, unread or deleted).

    Returns True if it was new. ``texts``: {lang: {"title", "body", "cta"}}."""
    if not _OFFER_ID.match(offer_id):
        raise ValueError(f"bad offer id {offer_id!r}")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    state = {"texts": {str(k): dict(v) for k, v in texts.items()}, "url": url,
             "ts": now_ms, "expires": int(expires_ms or 0), "read": 0, "deleted": 0}
    added = bool(await redis.hsetnx(keys.profile_key(profile_id, "inbox"), offer_id, pack(state)))
    if added:
        await _mirror_ttl(redis, profile_id)
    return added


async def deliver_decided(redis: Any, profile_id: str, offer: Any,
                          now_ms: int | None = None) -> bool:
    """Deliver a ``rules.decision.InboxOffer`` (offer code, language, texts, url, expires in
    epoch seconds): what the personalizer calls for each offer a decision holds."""
    expires = getattr(offer, "expires", None)
    return await deliver_offer(
        redis, profile_id, str(offer.offer or offer.placement),
        texts={str(offer.language): {k: str(v) for k, v in dict(offer.texts).items()}},
        url=str(getattr(offer, "url", "") or ""),
        expires_ms=int(expires * 1000) if expires else 0, now_ms=now_ms)


async def _update_offer(redis: Any, profile_id: str, offer_id: str, field: str,
                        now_ms: int) -> bool:
    key = keys.profile_key(profile_id, "inbox")
    state = unpack(await redis.hget(key, offer_id))
    if not isinstance(state, dict) or state.get("deleted"):
        return False
    if field == "deleted":
        state = {"ts": state.get("ts", 0), "deleted": now_ms}  # the texts are not needed any more
    elif not state.get("read"):
        state["read"] = now_ms
    await redis.hset(key, offer_id, pack(state))
    return True


async def mark_offer_read(redis: Any, profile_id: str, offer_id: str,
                          now_ms: int | None = None) -> bool:
    """Mark an offer read; False if there is no such live offer."""
    return await _update_offer(redis, profile_id, offer_id, "read",
                               int(time.time() * 1000) if now_ms is None else now_ms)


async def delete_offer(redis: Any, profile_id: str, offer_id: str,
                       now_ms: int | None = None) -> bool:
    """Delete an offer, keeping a tombstone so it is not delivered again."""
    return await _update_offer(redis, profile_id, offer_id, "deleted",
                               int(time.time() * 1000) if now_ms is None else now_ms)


# --- what the handlers need from the app's state -------------------------------------------
def _identity(state: Any) -> Any:
    identity = getattr(state, "identity", None)
    if identity is None:
        from edge.store.identity import Identity

        identity = state.identity = Identity(state.settings, state.redis)
    return identity


def _store(state: Any) -> Any:
    store = getattr(state, "store", None)
    if store is None:
        from edge.store.store import Store

        store = state.store = Store(state.redis, state.settings)
    return store


def _writer(state: Any) -> Any:
    writer = getattr(_store(state), "events", None)
    if writer is None:
        from edge.store.events import EventWriter

        writer = state.event_writer = EventWriter(state.redis, state.settings)
    return writer


def _templates(state: Any) -> Templates:
    registry = getattr(state, "widgets", None)
    templates = getattr(registry, "templates", None)
    if isinstance(templates, Templates):
        return templates
    cached = getattr(state, "inbox_templates", None)
    if cached is None:
        cached = state.inbox_templates = Templates(getattr(state.settings, "templates_dir", ""))
    return cached


async def _catalog(state: Any) -> Catalog:
    """The catalog as a widgets index, rebuilt only when the store's version changes."""
    # The personalizer keeps one refreshed in the background: no Redis round trip then.
    for shared in (getattr(state, "catalog", None),
                   getattr(getattr(getattr(state, "personalizer", None), "shared", None),
                           "catalog", None)):
        if isinstance(shared, Catalog) and len(shared):
            return shared
    from edge.store.catalog import catalog_version, load_catalog

    version = str(await catalog_version(state.redis))
    cached = getattr(state, "inbox_catalog", None)
    if cached is None or cached.version != version:
        cached = state.inbox_catalog = Catalog.from_dicts(await load_catalog(state.redis),
                                                          version=version)
    return cached


async def _related(state: Any, skus: list[str]) -> dict[str, list[tuple[str, float]]]:
    """Products viewed together with the liked ones: from the personalizer's shared signals
    when it has them, else one pipelined read."""
    skus = skus[:3]
    signals = getattr(getattr(getattr(state, "personalizer", None), "shared", None),
                      "signals", None)
    together = getattr(signals, "viewed_together", None)
    if together:
        return {sku: list(together.get(sku, ())) for sku in skus}
    if not skus:
        return {}
    pipe = state.redis.pipeline(transaction=False)
    for sku in skus:
        pipe.zrevrange(keys.co_key("view", sku), 0, 5, withscores=True)
    replies = await pipe.execute()
    return {sku: [(m.decode() if isinstance(m, bytes) else str(m), float(score))
                  for m, score in rows] for sku, rows in zip(skus, replies, strict=True)}


def _language(request: Request, profile: Profile) -> str:
    settings = request.app.state.settings
    supported = tuple(getattr(settings, "languages", ("pl", "en", "de")))
    asked = request.query_params.get("lang", "")[:8].lower()
    if asked in supported:
        return asked
    stored = profile.attributes.get("language") or profile.attributes.get("lang")
    return pick_language(stored if isinstance(stored, str) else None,
                         request.headers.get("accept-language"), supported,
                         getattr(settings, "default_language", "en"))


# --- handlers --------------------------------------------------------------------------------
async def _visitor(request: Request) -> Any:
    return await _identity(request.app.state).identify(request_head(request))


async def _answer(request: Request, visitor: Any, *, status: int = 200) -> Response:
    state = request.app.state
    profile = await _store(state).load(visitor.id)
    catalog = await _catalog(state)
    liked = list(profile.likes)
    inbox = build_inbox(
        language=_language(request, profile),
        currency=getattr(state.settings, "currency", "PLN"),
        catalog=catalog, liked=liked,
        viewed=[str(v.get("sku")) for v in profile.product_views if v.get("sku")],
        inbox_states=profile.inbox,
        loyalty={"points": profile.loyalty.points, "tier": profile.loyalty.tier,
                 "next_tier": profile.loyalty.next_tier,
                 "points_to_next": profile.loyalty.points_to_next},
        now_ms=int(time.time() * 1000),
        related=await _related(state, liked),
    )
    shell = request.query_params.get("shell") == "1"
    response = JSONResponse(inbox_json(_templates(state), inbox, shell=shell), status_code=status,
                            headers={"cache-control": "private, no-store"})
    for name, value in visitor.set_cookie_headers():
        response.headers.append(name.decode("latin-1"), value.decode("latin-1"))
    return response


def _handler(action: Any) -> Any:
    """Wrap an action(request, visitor) with identity, rate limit, errors (common) and CORS."""
    @api_endpoint
    async def inner(request: Request) -> Response:
        write = request.method != "GET"
        if write:
            check_write_origin(request)
        visitor = await _visitor(request)
        # every call counts against the address; writes also against the visitor
        await _writer(request.app.state).check_rate(client_ip(request),
                                                    visitor.id if write else None, int(write))
        await action(request, visitor)
        return await _answer(request, visitor)

    async def endpoint(request: Request) -> Response:
        return with_cors(request, await inner(request))

    endpoint.__name__ = getattr(action, "__name__", "endpoint")
    return endpoint


async def _show(request: Request, visitor: Any) -> None:
    return None


def _sku(value: Any) -> str:
    if not isinstance(value, str) or not _SKU.match(value):
        raise ApiError("sku: must be a product code", field="sku")
    return value


async def _add(request: Request, visitor: Any) -> None:
    from edge.store.event_models import Like

    body = await read_json(request)
    sku = _sku(body.get("sku") if isinstance(body, dict) else None)
    catalog = await _catalog(request.app.state)
    if len(catalog) and sku not in catalog:
        raise ApiError(f"sku: unknown product {sku!r}", field="sku", status_code=404)
    await _writer(request.app.state).apply(visitor.id, [Like(type="like", sku=sku)])


async def _remove(request: Request, visitor: Any) -> None:
    from edge.store.event_models import Like

    sku = _sku(request.path_params["sku"])
    await _writer(request.app.state).apply(visitor.id, [Like(type="unlike", sku=sku)])


def _offer_id(request: Request) -> str:
    offer_id = request.path_params["offer_id"]
    if not _OFFER_ID.match(offer_id):
        raise ApiError("offer: bad id", field="offer", status_code=404)
    return str(offer_id)


async def _read(request: Request, visitor: Any) -> None:
    if not await mark_offer_read(request.app.state.redis, visitor.id, _offer_id(request)):
        raise ApiError("offer: not in this inbox", field="offer", status_code=404)


async def _delete(request: Request, visitor: Any) -> None:
    if not await delete_offer(request.app.state.redis, visitor.id, _offer_id(request)):
        raise ApiError("offer: not in this inbox", field="offer", status_code=404)


routes: list[BaseRoute] = [
    Route("/_edge/api/inbox", _handler(_show), methods=["GET"]),
    Route("/_edge/api/inbox/wishlist", _handler(_add), methods=["POST"]),
    Route("/_edge/api/inbox/wishlist/{sku}", _handler(_remove), methods=["DELETE"]),
    Route("/_edge/api/inbox/offers/{offer_id}/read", _handler(_read), methods=["POST"]),
    Route("/_edge/api/inbox/offers/{offer_id}", _handler(_delete), methods=["DELETE"]),
]
