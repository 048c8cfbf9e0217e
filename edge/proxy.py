"""The reverse proxy: forward to the origin, stream what is not a page, personalize what is.

Plain ASGI, no framework on the hot path. The response start is held back only for HTML that
may be rewritten (as Starlette's GZipMiddleware does); everything else streams straight through.
Personalization fails open: any error or timeout in it sends the origin's page unchanged.

The visitor is identified (and their profile loaded) while the origin answers. When that is
done before the page is here, and the page was personalized before, the page is also filled
then, from the shape it had last time (its slots, facts, title and charset): deciding and
rendering overlap the origin's answer instead of following it. That fill is used only if the
page comes back with the same shape; its decision's writes (experiment arms, exposures, inbox
offers) are made only when it is used. Measured on the benchmark's quick local origin, a
cookieless visitor's page at one connection went from ~0.91 to ~0.77–0.86 ms (p50); behind a
real shop, whose pages take tens of milliseconds, the whole fill hides behind the origin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from cache.http import HttpCache, request_allows_cache
from edge import encoding as enc
from edge import headers as hdr
from edge.deadline import bounded, start, wait_done
from edge.errors import ClientGone, OriginError, OriginTimeout, RewriteError
from edge.origin import OriginClient, OriginResponse, make_origin_client
from edge.page import Fills, Page, Personalizer, RequestHead, Session, Shape
from edge.settings import Settings
from edge.slots import SlotPlanner, render

log = logging.getLogger("edge.proxy")

Scope = dict[str, Any]

_BODYLESS_STATUS = frozenset({204, 304})
_ERROR_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{status} {title}</title>"
    "<body style='font-family:sans-serif;max-width:36em;margin:4em auto'>"
    "<h1>{title}</h1><p>{message}</p></body></html>"
)


def error_page(status: int, title: str, message: str) -> bytes:
    return _ERROR_PAGE.format(status=status, title=title, message=message).encode()


class Proxy:
    def __init__(
        self,
        settings: Settings,
        client: OriginClient,
        personalizer: Personalizer,
        planner: SlotPlanner,
    ):
        self.settings = settings
        self.client = client
        self.personalizer = personalizer
        self.planner = planner
        self.origin = settings.origin
        self.origin_netloc = settings.origin_netloc
        self.cache = (
            HttpCache(settings.http_cache_mb * 1024 * 1024, settings.max_rewrite_bytes)
            if settings.http_cache_mb > 0
            else None
        )
        self._tasks: set[asyncio.Future[Any]] = set()
        # The shape (``Page.shape``) each page had when it was last personalized, by path and query:
        # what a fill made ahead of the origin's answer assumes (``_Identification``).
        self._shapes: dict[tuple[str, str], Shape] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        client = scope.get("client")
        client_ip = client[0] if client else ""
        scheme = scope.get("scheme", "http")
        # The request's headers are decoded once, for the personalizer and the origin both.
        headers, forward, client_host = hdr.request_headers(
            scope["headers"],
            client_ip=client_ip,
            scheme=scheme,
            origin_netloc=self.origin_netloc,
            host_policy=self.settings.host_policy,
        )
        head = RequestHead(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            client_ip,
            scheme,
            headers.get("host", ""),
        )
        begin = _Identification(self, head)
        method = head.method
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if head.query:
            target += "?" + head.query
        has_body = "transfer-encoding" in headers or (
            headers.get("content-length", "0").strip() not in ("", "0")
        )
        data = _request_body(receive) if has_body else None

        cache_key: str | None = None
        if self.cache is not None and not has_body and request_allows_cache(method, headers):
            cache_key = target
            entry = self.cache.lookup(cache_key, headers)
            if entry is not None:
                now = time.time()
                if not entry.is_fresh(now) and not entry.refreshing:
                    entry.refreshing = True  # one background refresh per stale entry
                    self._spawn(self._refresh(target, forward, cache_key, headers))
                age = (b"age", str(int(entry.age(now))).encode())
                await self._finish_rewrite(
                    send,
                    entry.body,
                    entry.status,
                    [*entry.headers, age],
                    hdr.response_facts(entry.headers),
                    head,
                    begin,
                )
                return

        try:
            resp = await self.client.request(method, target, forward, data)
        except OriginError as exc:
            await _send_origin_error(send, exc)
            return
        except ClientGone:  # mid-upload: the origin got no end of the body, and no one waits
            return

        async with resp:
            edge_base = f"{head.scheme}://{client_host}" if client_host else None
            out_headers, facts = hdr.response_headers(
                resp.raw_headers, origin=self.origin, edge_base=edge_base
            )
            status = resp.status
            if method == "HEAD" or status in _BODYLESS_STATUS or 100 <= status < 200:
                await self._send_start(send, status, out_headers, begin)
                await send({"type": "http.response.body", "body": b""})
                return
            if self._may_rewrite(method, status, facts):
                await self._rewrite(send, resp, status, out_headers, facts, head, begin, cache_key)
                return
            await self._send_start(send, status, out_headers, begin)
            await _stream(send, resp)

    async def _begin(self, head: RequestHead) -> Session | None:
        # No timer here: the deadline is applied only if the page is ready before this is
        # (see _Identification.session), which is rare, as it overlaps the origin's answer.
        try:
            return await self.personalizer.begin(head)
        except Exception:
            log.exception("identifying the visitor failed; serving unpersonalized")
            return None

    def _remember(self, head: RequestHead, shape: Shape) -> None:
        key = (head.path, head.query)
        if self._shapes.get(key) != shape:
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            self._shapes[key] = shape

    def _may_rewrite(self, method: str, status: int, facts: dict[bytes, bytes]) -> bool:
        """``facts``: the response's headers as ``headers.response_headers`` gives them."""
        if method != "GET" or status != 200:
            return False
        ctype = facts.get(b"content-type")
        if ctype is None or not ctype[:9].lower() == b"text/html":
            return False
        if b"content-range" in facts:
            return False
        coding = facts.get(b"content-encoding")
        if coding and enc.normalise(coding.decode("latin-1")) not in enc.SUPPORTED:
            return False
        length = facts.get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.settings.max_rewrite_bytes:
                    return False
            except ValueError:
                return False
        return True

    async def _send_start(
        self,
        send: Any,
        status: int,
        headers: list[tuple[bytes, bytes]],
        begin: _Identification,
    ) -> None:
        # Non-page responses do not wait for identification; a finished one adds its cookie.
        session = begin.ready()
        if session is not None:
            extra = session.response_headers()
            if extra:
                headers = headers + extra
        await send({"type": "http.response.start", "status": status, "headers": headers})

    async def _rewrite(
        self,
        send: Any,
        resp: OriginResponse,
        status: int,
        headers: list[tuple[bytes, bytes]],
        facts: dict[bytes, bytes],
        head: RequestHead,
        begin: _Identification,
        cache_key: str | None = None,
    ) -> None:
        limit = self.settings.max_rewrite_bytes
        try:
            # A known length is within the limit (checked in _may_rewrite): one read.
            raw = await (resp.read() if b"content-length" in facts else resp.read_upto(limit))
        except OriginError as exc:  # the page broke off before anything was sent
            await _send_origin_error(send, exc)
            return
        if len(raw) > limit:
            # Too big to buffer: send what we hold and stream the rest untouched.
            await self._send_start(send, status, headers, begin)
            await send({"type": "http.response.body", "body": raw, "more_body": True})
            await _stream(send, resp)
            return
        self._store(cache_key, head, status, headers, facts, raw)
        await self._finish_rewrite(send, raw, status, headers, facts, head, begin)

    def _store(
        self,
        key: str | None,
        head: RequestHead,
        status: int,
        headers: list[tuple[bytes, bytes]],
        facts: dict[bytes, bytes],
        body: bytes,
    ) -> None:
        # Only a response that says something of caching may be stored (cache.http.freshness):
        # most pages do not, and cost no more than this.
        if key is not None and self.cache is not None and (
            b"cache-control" in facts or b"expires" in facts
        ):
            self.cache.store(key, head.headers, status, headers, body)

    async def _refresh(self, target: str, headers: list[tuple[str, str]], key: str,
                       request_headers: Any) -> None:
        """Fetch a stale cached page again, off any response path."""
        try:
            resp = await self.client.request("GET", target, headers)
            async with resp:
                out, facts = hdr.response_headers(
                    resp.raw_headers, origin=self.origin, edge_base=None
                )
                if self._may_rewrite("GET", resp.status, facts) and self.cache is not None:
                    body = await resp.read_upto(self.settings.max_rewrite_bytes)
                    if len(body) <= self.settings.max_rewrite_bytes:
                        self.cache.store(key, request_headers, resp.status, out, body)
        except Exception as exc:
            log.warning("refreshing cached %s failed: %r", key, exc)

    def _spawn(self, coro: Any) -> None:
        self._track(asyncio.ensure_future(coro))

    def _track(self, task: asyncio.Future[Any]) -> None:
        # Background work is referenced until done, so it is never collected mid-flight.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish_rewrite(
        self,
        send: Any,
        raw: bytes,
        status: int,
        headers: list[tuple[bytes, bytes]],
        facts: dict[bytes, bytes],
        head: RequestHead,
        begin: _Identification,
    ) -> None:
        begin.stop_ahead()  # the page is here: a fill made from now on would not be ahead
        session = await begin.session()
        body = await self._personalize(raw, facts, head, status, session, begin)
        if body is raw:
            out = headers
        else:
            out = _personalized_headers(headers, len(body))
        if session is not None:
            extra = session.response_headers()
            if extra:
                out = out + extra
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    async def _personalize(
        self,
        raw: bytes,
        facts: dict[bytes, bytes],
        head: RequestHead,
        status: int,
        session: Session | None,
        begin: _Identification | None = None,
    ) -> bytes:
        """Return the body to send: ``raw`` itself unless something was filled. A fill made
        ahead (``begin``) is used when the page has the shape it assumed."""
        page: Page | None = None
        try:
            coding = facts.get(b"content-encoding")
            encoding = enc.normalise(coding.decode("latin-1")) if coding else "identity"
            body = enc.decode(raw, encoding, self.settings.max_rewrite_bytes)
            if self.settings.inject_script and session is not None:
                plan = self.planner.plan(body)
            else:
                marked = self.planner.plan_if_marked(body)
                if marked is None:
                    return raw
                plan = marked
            if not plan.slots and plan.body_end is None:
                return raw
            ctype = facts.get(b"content-type", b"").decode("latin-1")
            charset = enc.usable_charset(enc.charset_from_content_type(ctype) or plan.charset)
            page = Page(
                request=head,
                status=status,
                slots=plan.slots,
                facts=plan.facts,
                title=plan.title,
                charset=charset or "",
            )
            if session is None:
                return raw
            shape = page.shape
            fills = begin.ahead_for(shape) if begin is not None else None
            if fills is None:
                fills = await bounded(
                    session.fill(page), time.monotonic() + self.settings.personalize_timeout
                )
            fills.commit()  # a fill made ahead writes its decision now that it is used
            self._remember(head, shape)
            if not fills:
                return raw
            new = render(
                body,
                plan,
                fills.slots,
                fills.body_end if plan.body_end is not None else "",
                charset,
            )
            if new is body:
                return raw
            return enc.encode(new, encoding)
        except (RewriteError, TimeoutError) as exc:
            log.warning("page %s left unchanged: %s", head.path, exc)
            return raw
        except Exception:
            log.exception("personalizing %s failed; page left unchanged", head.path)
            return raw
        finally:
            if session is not None:
                try:
                    session.finish(page, status)
                except Exception:
                    log.exception("recording the page view failed")


class _Identification:
    """Who the visitor is, found alongside the origin's answer.

    It starts at once for requests that look like page loads (GET accepting text/html, or
    saying nothing of what they accept), so the profile loads while the origin answers. Images,
    scripts and API calls do not start it: a new visitor's first page pulls dozens of them in
    parallel, before any cookie is set, and each would otherwise mint a visitor. If a response
    turns out to be a page anyway, identification starts then. A started identification is
    never cancelled: abandoning a Redis call mid-flight costs the connection.
    """

    def __init__(self, proxy: Proxy, head: RequestHead):
        self._proxy = proxy
        self._head = head
        self._started = False
        self._ahead: tuple[Shape, Fills] | None = None  # a fill made ahead, and its shape
        self._late = False  # the page has arrived: no fill ahead any more
        # Either the session, when identification finished without waiting, or its task.
        self._session: Session | None = None
        self._task: asyncio.Future[Session | None] | None = None
        accept = head.headers.get("accept", "")
        if head.method == "GET" and (not accept or "text/html" in accept):
            self._start()

    def _start(self) -> None:
        self._started = True
        self._session, self._task = start(self._proxy._begin(self._head))
        if self._task is not None:
            self._proxy._track(self._task)
            self._task.add_done_callback(self._when_identified)
        elif self._session is not None:
            # Identified without waiting, before the request went to the origin: fill ahead
            # on the loop's next turn, once the request is on its way.
            asyncio.get_running_loop().call_soon(self._fill_ahead, self._session)

    def _when_identified(self, task: asyncio.Future[Session | None]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._fill_ahead(task.result())

    def _fill_ahead(self, session: Session | None) -> None:
        """Identification is done and the page is not here yet: fill the page now, from the
        shape it had last time, so the fill's CPU time overlaps the origin's answer. Only a
        fill that finishes without waiting is made; it writes nothing until it is used, and
        it is used only if the page comes with the same shape (``ahead_for``)."""
        if self._late or session is None or not getattr(session, "speculative", False):
            return
        head = self._head
        shape = self._proxy._shapes.get((head.path, head.query))
        if shape is None:
            return
        slots, facts, title, charset = shape
        page = Page(request=head, status=200, slots=slots, facts=dict(facts), title=title,
                    charset=charset)
        fill = session.fill(page, defer=True)  # type: ignore[call-arg]
        try:
            fill.send(None)
        except StopIteration as done:
            self._ahead = (shape, done.value)
            return
        except Exception:
            log.debug("filling %s ahead failed; it is filled when the page is here", head.path,
                      exc_info=True)
            return
        fill.close()  # it would wait (its profile is still loading): nothing gained ahead

    def stop_ahead(self) -> None:
        self._late = True

    def ahead_for(self, shape: Shape) -> Fills | None:
        """The fill made ahead, if it assumed this shape (and is not used yet)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == shape:
            return ahead[1]
        return None

    def ready(self) -> Session | None:
        """The session if identification has already finished, else None."""
        task = self._task
        if task is None:
            return self._session
        if not task.done() or task.cancelled() or task.exception():
            return None
        return task.result()

    async def session(self) -> Session | None:
        """The session, waiting at most until ``personalize_timeout`` after the request
        arrived; None (an unpersonalized page) past that."""
        if not self._started:
            self._start()
        task = self._task
        if task is not None and not task.done():
            timeout = self._proxy.settings.personalize_timeout
            remaining = self._head.started + timeout - time.monotonic()
            if remaining > 0:
                await wait_done(task, remaining)
            if not task.done():
                log.warning("identifying the visitor took too long; serving unpersonalized")
                return None
        return self.ready()


MAX_SHAPES = 4096  # pages remembered; the table is emptied when full


# What a personalized body no longer shares with the origin's (validators, length, ranges,
# shared caching); the edge sets its own length, Cache-Control and Vary.
_NOT_FOR_PERSONALIZED = frozenset(
    {b"content-length", b"etag", b"last-modified", b"cache-control", b"accept-ranges", b"vary"}
)


def _personalized_headers(
    headers: list[tuple[bytes, bytes]], length: int
) -> list[tuple[bytes, bytes]]:
    """The origin's response headers, fitted to a body the edge personalized."""
    out = []
    vary = []
    for k, v in headers:
        if k not in _NOT_FOR_PERSONALIZED:
            out.append((k, v))
        elif k == b"vary":
            vary.append(v)
    out.append((b"content-length", str(length).encode()))
    out.append((b"cache-control", b"private, no-cache"))
    value = b", ".join(vary)
    if b"cookie" not in value.lower():
        value = value + b", Cookie" if value else b"Cookie"
    out.append((b"vary", value))
    return out


async def _request_body(receive: Any) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # Not an end of the body: a chunked upload would otherwise be closed off as if
            # complete, and the origin act on half of it.
            raise ClientGone("the client went away during its request body")
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


async def _stream(send: Any, resp: OriginResponse) -> None:
    try:
        async for chunk in resp.iter_chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except OriginError as exc:
        # Headers are gone already: all we can do is end the response early.
        log.warning("origin stream broke off: %s", exc)
        raise
    await send({"type": "http.response.body", "body": b""})


async def _send_origin_error(send: Any, exc: OriginError) -> None:
    if isinstance(exc, OriginTimeout):
        page = error_page(
            504, "Gateway Timeout", "The shop did not answer in time. Please try again."
        )
        await _send_simple(send, 504, page)
        return
    log.warning("origin unavailable: %s", exc)
    page = error_page(
        502, "Bad Gateway", "The shop cannot be reached right now. Please try again shortly."
    )
    await _send_simple(send, 502, page)


async def _send_simple(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


__all__ = ["Proxy", "make_origin_client", "error_page"]
