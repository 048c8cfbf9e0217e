"""The personalization pipeline: identity → profile → rules → widgets → fills.

``begin`` runs as the request arrives: it identifies the visitor and starts loading the
profile, so the load overlaps with the origin's answer. ``fill`` runs only for pages that hold
a slot or get the body-end injection: it decides (pure), renders (pure) and hands fragments to
the rewriter. Everything that writes runs off the response path: page views, control-arm
exposures and experiment assignments are queued and written in batches
(``edge.store.writeback``), inbox deliveries in tracked background tasks; shutdown waits for
both.

The catalog, the co-occurrence signals and the rules are shared by all requests and refreshed
in the background, so a request costs no Redis round trip for them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from edge.api.embed import script_tag
from edge.contexts import device_type, page_info, rules_context, unread_count, visitor_info
from edge.errors import StoreError
from edge.fresh import FreshFills
from edge.page import Fills, NullSession, Page, RequestHead, Session
from edge.results import load_experiment_counters
from edge.store import keys
from edge.store.catalog import catalog_version, load_catalog
from edge.store.events import EventWriter
from edge.store.identity import Identity, Visitor
from edge.store.mux import close_for
from edge.store.profile import Profile, text
from edge.store.recs import decay_weight
from edge.store.signing import SignedVisitor
from edge.store.store import Store
from edge.store.writeback import WriteBehind
from rules import Decision, RuleSet, RuleStore, decide
from rules.experiments import allocations
from widgets import Catalog, Signals, WidgetRegistry, build_context, pick_language
from widgets.inbox_view import render_shell
from widgets.popup import PopupWidget
from widgets.registry import default_widgets, render_placement

log = logging.getLogger("edge.personalize")

# What a page needs of a profile's histories: the recent past. Purchases stay whole (rules
# sum them over days); the page-view log, forms and custom events are for export and the
# events API, never read on a page (visit counters live in the profile hash).
PAGE_LOAD_LIMITS = {"views": 0, "pviews": 40, "forms": 0, "events": 0}
REFRESH_EVERY_S = 5.0
SIGNALS_EVERY_S = 30.0
RELATED_PER_SKU = 12


PASS_THROUGH = NullSession()


class Shared:
    """What every request reads and the background refresher replaces whole."""

    def __init__(self) -> None:
        self.catalog = Catalog.from_dicts([], version="")
        self.signals = Signals()
        self.weights: dict[str, Any] = {}


class EdgePersonalizer:
    def __init__(self, state: Any):
        self.state = state
        self.settings = settings = state.settings
        self.redis = state.redis
        # Background work (catalog, signals, writes) may take longer than a page's budget.
        handle = getattr(state, "redis_handle", None)
        self.bg_redis = handle.client(timeout=5) if handle is not None else state.redis
        self.identity: Identity = state.identity
        self.store: Store = state.store
        self.bg_store = Store(self.bg_redis, settings)
        # The page's own writes, batched for many visitors per round trip.
        self.writes = WriteBehind(self.bg_redis, EventWriter(self.bg_redis, settings))
        self.rules = RuleStore(settings.rules_dir, strict=True) if settings.rules_dir else None
        templates_registry = WidgetRegistry.create(settings.templates_dir)
        templates = templates_registry.templates
        self.registry = WidgetRegistry([*default_widgets(templates), PopupWidget(templates)],
                                       templates)
        state.widgets = self.registry
        self.shared = Shared()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refresher: asyncio.Task[None] | None = None
        self._signals_at = 0.0
        self._popups: dict[tuple[Any, ...], str] = {}
        self._chrome: dict[tuple[Any, ...], str] = {}
        self.fresh = FreshFills()

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self.refresh(force=True)
        except Exception as exc:  # Redis down at start: serve anyway, retry in the background
            log.warning("could not load the catalog and signals yet: %r", exc)
        self._refresher = asyncio.create_task(self._refresh_loop())

    async def aclose(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        # Accepted writes finish before the edge stops.
        deadline = time.monotonic() + 10
        await self.writes.aclose(timeout=10)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=max(0.1, deadline - time.monotonic()))
        if self.bg_redis is not self.redis:
            await close_for(self.bg_redis)
            await self.bg_redis.aclose()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background write failed: %r", task.exception())

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_S)
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("background refresh failed: %r", exc)

    async def refresh(self, force: bool = False) -> None:
        if self.rules is not None and self.rules.maybe_reload():
            log.info("rules reloaded from %s (version %d)", self.rules.path, self.rules.version)
        if self.rules is not None and self.rules.last_error is not None:
            log.error("rule files have errors; the previous rules stay in force: %s",
                      self.rules.last_error)
        version = str(await catalog_version(self.bg_redis))
        shared = self.shared
        if force or version != shared.catalog.version:
            products = await load_catalog(self.bg_redis)
            fresh = Shared()
            fresh.catalog = Catalog.from_dicts(products, version=version)
            fresh.signals, fresh.weights = shared.signals, shared.weights
            self.shared = shared = fresh
            self.state.catalog = fresh.catalog
            self._signals_at = 0.0
        if force or time.monotonic() - self._signals_at > SIGNALS_EVERY_S:
            await self._load_signals(shared)
            self._signals_at = time.monotonic()

    async def _load_signals(self, shared: Shared) -> None:
        skus = [p.sku for p in shared.catalog]
        pipe = self.bg_redis.pipeline(transaction=False)
        for sku in skus:
            pipe.zrevrange(keys.co_key("view", sku), 0, RELATED_PER_SKU - 1, withscores=True)
            pipe.zrevrange(keys.co_key("buy", sku), 0, RELATED_PER_SKU - 1, withscores=True)
        pipe.zrevrange(keys.BEST_KEY, 0, 199, withscores=True)
        replies = await pipe.execute() if skus else [await self.bg_redis.zrevrange(
            keys.BEST_KEY, 0, 199, withscores=True)]
        weight = decay_weight()

        def scored(rows: Any) -> list[tuple[str, float]]:
            return [(text(m), float(s) / weight) for m, s in rows]

        viewed: dict[str, list[tuple[str, float]]] = {}
        bought: dict[str, list[tuple[str, float]]] = {}
        for i, sku in enumerate(skus):
            if replies[2 * i]:
                viewed[sku] = scored(replies[2 * i])
            if replies[2 * i + 1]:
                bought[sku] = scored(replies[2 * i + 1])
        shared.signals = Signals.from_raw(viewed, bought, scored(replies[-1]))
        shared.weights = await self._weights()

    async def _weights(self) -> dict[str, Any]:
        """After-test arm shares from the counted results (winner share or bandit)."""
        ruleset = self.ruleset
        if ruleset is None or not getattr(ruleset, "experiments", None):
            return {}
        try:
            counters = await load_experiment_counters(self.bg_redis, ruleset)
            return dict(allocations(ruleset, counters, time.time()))
        except Exception as exc:
            log.warning("experiment allocations unavailable: %r", exc)
            return {}

    @property
    def ruleset(self) -> RuleSet | None:
        return self.rules.ruleset if self.rules is not None else None

    # --- per request -------------------------------------------------------------------
    async def begin(self, request: RequestHead) -> Session:
        signed = self.identity.signed_cookie(request)
        if signed is not None and self.store.loads_pages:
            session = await self._returning(request, signed)
            if session is not None:
                return session
        return await self._identify(request, signed.visitor_id if signed else None)

    async def _returning(self, request: RequestHead, signed: SignedVisitor) -> Session | None:
        """A returning visitor's page in one round trip: the profile under the cookie's id,
        read with what identification needs (is the id an alias? whose is the fingerprint?).
        None when identification must run in full (a merged id, a login to link, an error)."""
        identity = self.identity
        fp = identity.page_fingerprint(request)
        try:
            loaded = await self.store.load_page(signed.visitor_id, PAGE_LOAD_LIMITS, fp)
        except StoreError as exc:
            # Redis did not answer: as when identification fails, the page goes out as the
            # shop made it, and Redis is not asked again for this request.
            log.debug("page load for a returning visitor failed: %r", exc)
            return PASS_THROUGH
        if loaded.alias is not None:
            return None
        profile = loaded.profile
        visitor = identity.returning(request, signed, profile.contact_id)
        if visitor is None:
            return None
        if identity.fingerprint_taken(visitor.id, fp, loaded.fingerprint_owner):
            self.spawn(identity.mark_ambiguous(fp))
        done: asyncio.Future[Profile] = asyncio.get_running_loop().create_future()
        done.set_result(profile)
        return EdgeSession(self, request, visitor, done)

    async def _identify(self, request: RequestHead, guess: str | None) -> Session:
        # A valid cookie names the profile almost always (unless it was merged into another):
        # start loading it now, alongside identification, so both take one round trip's time.
        early = asyncio.ensure_future(self.store.load(guess, PAGE_LOAD_LIMITS)) if guess else None
        if early is not None:
            early.add_done_callback(_quiet)
        visitor = await self.identity.identify(request)
        if visitor.via == "fallback":
            # Redis did not answer: the page goes out as the shop made it, with no cookie
            # (a returning visitor keeps theirs) and nothing recorded.
            return PASS_THROUGH
        profile: asyncio.Future[Profile]
        if early is not None and visitor.id == guess:
            profile = early
        else:
            # An early load that named the wrong profile (the cookie's id was merged into a
            # contact's) is left to finish unused: cancelling a Redis call mid-flight costs a
            # dropped connection and a new handshake.
            if visitor.is_new:
                # A visitor minted on this request has nothing stored yet: no round trip.
                profile = asyncio.get_running_loop().create_future()
                profile.set_result(Profile.empty(visitor.id))
                return EdgeSession(self, request, visitor, profile, fresh=True)
            profile = asyncio.ensure_future(self.store.load(visitor.id, PAGE_LOAD_LIMITS))
        return EdgeSession(self, request, visitor, profile)

    def chrome(self, language: str, unread: int, fingerprint: bool) -> str:
        """The inbox button and the widget script tag: the same for every visitor with the same
        language, unread count and fingerprint permission, so rendered once per combination."""
        key = (language, unread, fingerprint)
        html = self._chrome.get(key)
        if html is None:
            html = render_shell(self.registry.templates, language, unread) + script_tag(
                self.settings, language=language, fingerprint=fingerprint)
            if len(self._chrome) > 1024:
                self._chrome.clear()
            self._chrome[key] = html
        return html

    def render_popup(self, widget: str, language: str, placement: dict[str, str],
                     params: dict[str, Any], page: Any) -> str | None:
        """Pop-ups hold no visitor data, so their markup is cached per placement, variant,
        language and rules version (and their context built only to render one)."""
        version = self.rules.version if self.rules is not None else 0
        key = (version, placement["id"], placement["variant"], language)
        cached = self._popups.get(key)
        if cached is None:
            ctx = build_context(language=language, currency=self.settings.currency, page=page,
                                placement=placement)
            cached = render_placement(self.registry, widget, ctx, params, include_css=False) or ""
            if len(self._popups) > 512:
                self._popups.clear()
            self._popups[key] = cached
        return cached or None


class EdgeSession:
    def __init__(self, owner: EdgePersonalizer, request: RequestHead, visitor: Visitor,
                 profile: asyncio.Future[Profile], fresh: bool = False):
        self.owner = owner
        self.request = request
        self.visitor = visitor
        self._profile = profile
        # The profile is the empty one of a visitor minted on this request.
        self.fresh = fresh
        self.decision: Decision | None = None

    def response_headers(self) -> list[tuple[bytes, bytes]]:
        return self.visitor.set_cookie_headers()

    async def profile(self) -> Profile:
        return await self._profile

    # The proxy may fill a page ahead, from the shape this URL had last time, while the origin
    # answers (``edge.proxy``); that fill holds its writes back until it is used.
    speculative = True

    async def fill(self, page: Page, defer: bool = False) -> Fills:
        """The page's fills. The decision's writes (experiment arms, exposures, inbox offers)
        are made at once, or with ``defer`` held back in ``Fills.deferred`` until
        ``Fills.commit``: a fill made ahead is thrown away if the page turns out otherwise."""
        owner = self.owner
        settings = owner.settings
        profile = await self._profile
        known = self.visitor.known or profile.known
        language = pick_language(str(profile.attributes.get("language") or ""),
                                 self.request.headers.get("accept-language", ""),
                                 settings.languages, settings.default_language)
        ruleset = owner.ruleset
        now = time.time()
        if self.fresh and not known and ruleset is not None:
            # A visitor met on this request: their fills are those of every such visitor on
            # this page with the same language, device and experiment arms (``edge.fresh``).
            memo, shared = owner.fresh, owner.shared
            memo.matches(ruleset, shared.catalog, shared.signals, shared.weights)
            key = memo.key(ruleset, profile.stable_id or profile.id, now,
                           shared.weights or None, page, language,
                           device_type(self.request.headers.get("user-agent", "")))
            made = memo.get(key, now)
            if made is None:
                decision, slots, body_end = self._make(profile, page, ruleset, known, language,
                                                       now)
                if decision is not None:
                    memo.put(key, now, decision, slots, body_end)
            else:
                decision, slots, body_end = made.decision, dict(made.slots), made.body_end
        else:
            decision, slots, body_end = self._make(profile, page, ruleset, known, language, now)
        self.decision = decision
        fills = Fills(slots, body_end)
        if decision is not None:
            if defer:
                fills.deferred = lambda: self._record(profile, decision)
            else:
                self._record(profile, decision)
        return fills

    def _make(self, profile: Profile, page: Page, ruleset: RuleSet | None, known: bool,
              language: str, now: float) -> tuple[Decision | None, dict[str, str], str]:
        """Decide (pure) and render (pure): the decision, the slots' HTML and what goes before
        </body>."""
        owner = self.owner
        settings = owner.settings
        shared = owner.shared
        slots: dict[str, str] = {}
        decision = None
        if ruleset is not None:
            ctx = rules_context(profile, page, known=known, language=language, now=now)
            decision = decide(ruleset, ctx, weights=shared.weights or None)
        body_end: list[str] = []
        if decision is not None:
            visitor = visitor_info(profile, known=known)
            page_dict = page_info(page)
            for slot, fill in decision.slots.items():
                html = render_placement(owner.registry, fill.widget, build_context(
                    language=language, currency=settings.currency, page=page_dict,
                    visitor=visitor,
                    placement={"id": fill.placement, "variant": fill.variant or "",
                               "experiment": fill.experiment or ""},
                    catalog=shared.catalog, signals=shared.signals), fill.params,
                    include_css=False)
                if html:
                    slots[slot] = html
            popup = decision.popup
            if popup is not None:
                params = dict(popup.params)
                params.setdefault("trigger", popup.trigger)
                placement = {"id": popup.placement, "variant": popup.variant or "",
                             "experiment": popup.experiment or ""}
                html = owner.render_popup(popup.widget or "popup", language, placement, params,
                                          page_dict)
                if html:
                    body_end.append(html)
        if page.slots or body_end or settings.inject_script:
            if slots or body_end:
                body_end.insert(0, owner.registry.stylesheet())
            if settings.inject_script:
                unread = unread_count(profile.inbox, int(now * 1000))
                fp_ok = settings.fingerprint and profile.consented("fingerprint") \
                    and profile.consented("tracking")
                body_end.append(owner.chrome(language, unread, fp_ok))
        return decision, slots, "".join(body_end)

    def _record(self, profile: Profile, decision: Decision) -> None:
        owner = self.owner
        writes = owner.writes
        for experiment, variant in decision.assignments.items():
            if profile.experiments.get(experiment) != variant:
                writes.assign(profile.id, experiment, variant)
        if decision.inbox:
            from edge.api.inbox import deliver_decided

            for offer in decision.inbox:
                if offer.offer not in profile.inbox:
                    owner.spawn(deliver_decided(owner.bg_redis, profile.id, offer))
        control = [(i.placement, i.variant or "control") for i in decision.impressions
                   if not i.shown]
        if control:
            writes.impressions(profile.id, control)

    def finish(self, page: Page | None, status: int) -> None:
        if page is None or status != 200:
            return
        self.owner.writes.page_view(self.visitor.id, page.request.url, page.title,
                                    fresh=self.fresh)


def _quiet(task: asyncio.Future[Any]) -> None:
    # A load nobody waits for any more (identification failed or chose another profile).
    if not task.cancelled():
        task.exception()


def build_personalizer(state: Any) -> EdgePersonalizer:
    return EdgePersonalizer(state)
