"""The Personal Shopping Inbox, as data and HTML. Pure: no I/O, no clock (``now_ms`` is passed).

``edge.api.inbox`` loads the profile and the catalog, builds an :class:`Inbox` with
:func:`build_inbox` and answers :func:`inbox_json` (with the drawer's HTML rendered here, so the
widget script only swaps markup and all escaping stays in Jinja).

Offer state, as stored per offer id in the profile's ``inbox`` hash (msgpack)::

    {"texts": {lang: {"title", "body", "cta"}}, "url": str,
     "ts": delivered (epoch ms), "expires": epoch ms or 0,
     "read": epoch ms or 0, "deleted": epoch ms or 0}

A deleted offer keeps its id (a tombstone) so that the rule that delivered it does not deliver
it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from widgets.banner import loyalty_lines
from widgets.catalog import Catalog, Product
from widgets.i18n import format_price
from widgets.safety import clean_text, safe_url
from widgets.templating import Templates

MAX_ITEMS = 12
MAX_OFFERS = 20

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "button": "My inbox", "title": "Your shopping inbox", "close": "Close",
        "offers": "Offers and messages", "wishlist": "Saved for later",
        "recent": "Recently viewed", "recommended": "You may also like",
        "loyalty": "Loyalty programme", "remove": "Remove", "read": "Mark as read",
        "delete": "Delete", "unread": "New", "empty_wishlist":
        "Nothing saved yet. Tap ♡ on a product to keep it here.",
        "empty_offers": "No messages right now.", "unread_count": "{n} unread",
        "expires": "Valid until {date}",
    },
    "pl": {
        "button": "Moja skrzynka", "title": "Twoja skrzynka zakupowa", "close": "Zamknij",
        "offers": "Oferty i wiadomości", "wishlist": "Zapisane na później",
        "recent": "Ostatnio oglądane", "recommended": "Może Ci się spodobać",
        "loyalty": "Program lojalnościowy", "remove": "Usuń", "read": "Oznacz jako przeczytane",
        "delete": "Usuń", "unread": "Nowe", "empty_wishlist":
        "Nic tu jeszcze nie ma. Kliknij ♡ przy produkcie, aby go zapisać.",
        "empty_offers": "Brak wiadomości.", "unread_count": "Nieprzeczytane: {n}",
        "expires": "Ważne do {date}",
    },
    "de": {
        "button": "Mein Postfach", "title": "Ihr Einkaufspostfach", "close": "Schließen",
        "offers": "Angebote und Nachrichten", "wishlist": "Für später gemerkt",
        "recent": "Zuletzt angesehen", "recommended": "Das könnte Ihnen gefallen",
        "loyalty": "Treueprogramm", "remove": "Entfernen", "read": "Als gelesen markieren",
        "delete": "Löschen", "unread": "Neu", "empty_wishlist":
        "Noch nichts gemerkt. Tippen Sie bei einem Produkt auf ♡.",
        "empty_offers": "Keine Nachrichten.", "unread_count": "{n} ungelesen",
        "expires": "Gültig bis {date}",
    },
}


def text(language: str, key: str, **values: Any) -> str:
    value = (STRINGS.get(language) or STRINGS["en"]).get(key) or STRINGS["en"][key]
    return value.format(**values) if values else value


@dataclass(frozen=True)
class Offer:
    id: str
    title: str
    body: str = ""
    cta: str = ""
    url: str | None = None
    ts: int = 0
    expires: int = 0
    read: bool = False


@dataclass(frozen=True)
class Inbox:
    language: str
    currency: str
    wishlist: tuple[Product, ...] = ()
    recent: tuple[Product, ...] = ()
    recommended: tuple[Product, ...] = ()
    offers: tuple[Offer, ...] = ()
    loyalty: Mapping[str, Any] = field(default_factory=dict)

    @property
    def unread(self) -> int:
        return sum(1 for o in self.offers if not o.read)


def _int(value: Any) -> int:
    try:
        return int(float(value or 0))
    except (TypeError, ValueError):
        return 0


def _local(state: Mapping[str, Any], language: str) -> Mapping[str, Any]:
    """An offer's texts in ``language``, else in English, else in any language it has."""
    texts = state.get("texts")
    texts = texts if isinstance(texts, Mapping) else {}
    local = texts.get(language) or texts.get("en") or next(iter(texts.values()), None)
    return local if isinstance(local, Mapping) else {}


def offer_from_state(offer_id: str, state: Any, language: str, now_ms: int) -> Offer | None:
    """A live offer from its stored state, or None if deleted, expired or unreadable."""
    if not isinstance(state, Mapping) or _int(state.get("deleted")):
        return None
    expires = _int(state.get("expires"))
    if expires and expires <= now_ms:
        return None
    local = _local(state, language)
    title = clean_text(local.get("title") or state.get("title"), 200)
    if not title:
        return None
    return Offer(id=clean_text(offer_id, 64), title=title,
                 body=clean_text(local.get("body") or state.get("body"), 1000),
                 cta=clean_text(local.get("cta") or state.get("cta"), 80),
                 url=safe_url(state.get("url")), ts=_int(state.get("ts")), expires=expires,
                 read=bool(_int(state.get("read"))))


def live_offers(states: Mapping[str, Any], language: str, now_ms: int) -> tuple[Offer, ...]:
    """Offers to show: not deleted or expired, newest first."""
    offers = [o for oid, s in states.items()
              if (o := offer_from_state(str(oid), s, language, now_ms)) is not None]
    offers.sort(key=lambda o: (-o.ts, o.id))
    return tuple(offers[:MAX_OFFERS])


# What the badge needs of an offer: (expires, read, ts, id as stored).
Badge = tuple[int, bool, int, str]


def badge_entries(states: Mapping[str, Any]) -> tuple[Badge, ...]:
    """The offers ``live_offers`` would show at some time (not deleted, with a title), as
    what :func:`count_unread` reads. A function of the states alone (no clock), so the edge
    derives it once per stored inbox; nothing here is cleaned for display, only counted."""
    out = []
    for oid, state in states.items():
        if not isinstance(state, Mapping) or _int(state.get("deleted")):
            continue
        if not clean_text(_local(state, "en").get("title") or state.get("title"), 200):
            continue
        out.append((_int(state.get("expires")), bool(_int(state.get("read"))),
                    _int(state.get("ts")), str(oid)))
    return tuple(out)


def count_unread(entries: tuple[Badge, ...], now_ms: int) -> int:
    """Unread offers among those ``live_offers`` shows at ``now_ms`` (the newest MAX_OFFERS)."""
    live = [e for e in entries if not e[0] or e[0] > now_ms]
    if len(live) > MAX_OFFERS:  # which ones are shown: newest first, ties by cleaned id
        live.sort(key=lambda e: (-e[2], clean_text(e[3], 64)))
        del live[MAX_OFFERS:]
    return sum(1 for e in live if not e[1])


def unread_count(states: Mapping[str, Any], now_ms: int) -> int:
    """Unread live offers (not read, deleted or expired): the badge on the inbox button."""
    return count_unread(badge_entries(states), now_ms)


def _products(catalog: Catalog, skus: Iterable[str], limit: int = MAX_ITEMS) -> tuple[Product, ...]:
    out: list[Product] = []
    for sku in dict.fromkeys(skus):
        product = catalog.get(sku)
        if product is not None:
            out.append(product)
            if len(out) >= limit:
                break
    return tuple(out)


def wishlist_recommendations(catalog: Catalog, liked: Sequence[str],
                             related: Mapping[str, Sequence[tuple[str, float]]] | None = None,
                             exclude: Iterable[str] = (), n: int = 4) -> tuple[Product, ...]:
    """Products for the wish list: first what was viewed together with liked products, then
    in-stock products from the liked products' categories (the deepest shared one first).
    Liked and excluded products are left out; catalog order breaks ties."""
    skip = set(liked) | set(exclude)
    picked: list[Product] = []

    def take(product: Product | None) -> None:
        if product is not None and product.sku not in skip and product.in_stock and len(picked) < n:
            skip.add(product.sku)
            picked.append(product)

    for sku in liked:
        for other, _score in (related or {}).get(sku, ()):
            take(catalog.get(other))
    category_votes: dict[str, int] = {}
    for sku in liked:
        product = catalog.get(sku)
        for depth, cat in enumerate(product.categories if product else ()):
            # deeper categories weigh more: "buty/trekkingowe" before "buty"
            category_votes[cat] = category_votes.get(cat, 0) + 100 - depth
    for cat, _votes in sorted(category_votes.items(), key=lambda kv: (-kv[1], kv[0])):
        for product in sorted(catalog.in_category(cat), key=lambda p: catalog.order(p.sku)):
            take(product)
    return tuple(picked)


def build_inbox(*, language: str, currency: str, catalog: Catalog, liked: Sequence[str],
                viewed: Sequence[str], inbox_states: Mapping[str, Any],
                loyalty: Mapping[str, Any] | None, now_ms: int,
                related: Mapping[str, Sequence[tuple[str, float]]] | None = None) -> Inbox:
    wishlist = _products(catalog, liked)
    recent = _products(catalog, [s for s in viewed if s not in set(liked)], 6)
    return Inbox(
        language=language, currency=currency, wishlist=wishlist, recent=recent,
        recommended=wishlist_recommendations(catalog, [p.sku for p in wishlist], related,
                                             exclude=[p.sku for p in recent[:2]]),
        offers=live_offers(inbox_states, language, now_ms),
        loyalty=dict(loyalty or {}),
    )


def _product_view(product: Product, inbox: Inbox) -> dict[str, Any]:
    return {"sku": product.sku, "name": clean_text(product.name, 200),
            "url": safe_url(product.url), "image": safe_url(product.image),
            "price": format_price(product.price, product.currency or inbox.currency,
                                  inbox.language)}


def _loyalty(inbox: Inbox) -> list[str]:
    loyalty = inbox.loyalty
    if not (loyalty.get("tier") or loyalty.get("points")):
        return []
    return loyalty_lines(loyalty, inbox.language)


def render_body(templates: Templates, inbox: Inbox) -> str:
    """The drawer's content (offers, wish list, recommendations, recently viewed, loyalty)."""
    lang = inbox.language
    return templates.render(
        "inbox_body.html",
        t={k: text(lang, k) for k in STRINGS["en"]},
        offers=[{"id": o.id, "title": o.title, "body": o.body, "url": o.url,
                 "cta": o.cta or o.title, "read": o.read} for o in inbox.offers],
        wishlist=[_product_view(p, inbox) for p in inbox.wishlist],
        recommended=[_product_view(p, inbox) for p in inbox.recommended],
        recent=[_product_view(p, inbox) for p in inbox.recent],
        loyalty=_loyalty(inbox),
    )


def render_shell(templates: Templates, language: str, unread: int = 0) -> str:
    """The floating button with its unread badge and the (empty, hidden) drawer."""
    return templates.render("inbox.html", t={k: text(language, k) for k in STRINGS["en"]},
                            language=language,
                            unread=unread, unread_label=text(language, "unread_count", n=unread))


def inbox_json(templates: Templates, inbox: Inbox, *, shell: bool = False) -> dict[str, Any]:
    """What ``GET /_edge/api/inbox`` answers."""
    data: dict[str, Any] = {
        "language": inbox.language,
        "unread": inbox.unread,
        "wishlist": [_product_view(p, inbox) for p in inbox.wishlist],
        "recent": [_product_view(p, inbox) for p in inbox.recent],
        "recommended": [_product_view(p, inbox) for p in inbox.recommended],
        "offers": [{"id": o.id, "title": o.title, "body": o.body, "cta": o.cta, "url": o.url,
                    "read": o.read, "ts": o.ts, "expires": o.expires} for o in inbox.offers],
        "loyalty": {k: inbox.loyalty.get(k) for k in ("points", "tier", "next_tier",
                                                      "points_to_next")},
        "html": render_body(templates, inbox),
    }
    if shell:
        data["shell"] = render_shell(templates, inbox.language, inbox.unread)
    return data

