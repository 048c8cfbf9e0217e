"""Write-behind for the writes the edge makes for itself: the page views, control-arm exposures
and experiment assignments of the pages it serves.

A page queues its writes and goes out. One background task sends what is queued, for many
visitors at once, in one pipelined round trip: a non-transactional pipeline of one APPLY call
per visitor (each call touches one visitor's keys, so it works on Redis Cluster too). A
visitor's writes that follow each other closely (a page's impressions and its page view) become
one APPLY call, and a visitor's writes are applied in the order they were queued.

Not for the events API, whose answer waits until its batch is durably applied.

- A page view of a visitor minted on its request (``fresh``), alone in its call, is sent as
  ``FIRST_VIEW``, which takes Redis about a third of APPLY's time; if the profile turns out to
  exist, the script writes nothing and the page view is sent again as APPLY in the same flush.
- Only events whose compilation reads nothing (``events.needs_context``): no read round trip.
- Redis unreachable (no connection could be made): nothing was sent; the writes go back to the
  front of the queue and are retried with back-off. The queue is bounded: when it is full the
  oldest page views are dropped first, and the log says so.
- A failure after a batch was sent (a timeout, a dropped connection) leaves its outcome
  unknown: it is logged and not sent again, so nothing is counted twice.
- One visitor's failing call is logged; the pipeline's other calls apply all the same.
- ``aclose`` writes everything accepted before it returns (within its timeout).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from redis.exceptions import NoScriptError, RedisError

from edge.store import keys, rawcall
from edge.store.event_models import impression, page_view
from edge.store.events import BatchContext, EventWriter, Plan, compile_batch, needs_context

__all__ = ["WriteBehind", "first_view", "plan_calls"]

log = logging.getLogger("edge.store.writeback")

MAX_QUEUE = 20_000  # writes waiting; past it the oldest page views go first
MAX_BATCH = 500  # writes per round trip
MAX_CALL_EVENTS = 200  # events in one APPLY call
# A woken writer waits this long for more writes to share the round trip. Each round trip
# costs the edge's process about as much CPU as a dozen writes' commands, so under load the
# wait pays: with the slot page at ~2,500 pages/s, waits of 8 and 20 ms took 5% and 8% off the
# edge's CPU per page against 2 ms (interleaved runs, the edge alone on a core). A page's
# writes reach Redis that much later, long before the visitor's next page; ``flush`` does not
# wait for it.
LINGER_S = 0.010
COALESCE_MS = 1_000  # one visitor's writes this close in time share one APPLY call
RETRY_S = (0.05, 2.0)  # back-off while Redis is unreachable: first and longest wait
REPORT_EVERY_S = 10.0  # dropped writes are reported at most this often


@dataclass(slots=True)
class Write:
    seq: int
    pid: str
    now_ms: int
    events: list[Any] | None = None  # an APPLY batch; None for an assignment
    assign: tuple[str, str] | None = None  # (experiment, variant)
    page_view: bool = False  # the first to go when the queue is full
    fresh: bool = False  # a page view of a visitor minted on its request: FIRST_VIEW may do


@dataclass(slots=True)
class Call:
    """One command of a flush: an APPLY of some of a visitor's events, or an assignment."""

    pid: str
    writes: list[Write] = field(default_factory=list)
    events: list[Any] | None = None
    now_ms: int = 0
    first_ms: int = 0
    fresh: bool = False  # one fresh page view alone: sent as FIRST_VIEW (``WriteBehind._command``)


# FIRST_VIEW's keys, in its order
FIRST_VIEW_PARTS = ("p", "views", "exp", "inbox")
_VIEWS = keys.PROFILE_PARTS.index("views") + 1  # the Lua index of a view's list in APPLY's keys
_COUNTS = [["hincr", 1, "pv_visit", 1], ["hincr", 1, "pv_total", 1]]


def first_view(plan: Plan) -> bytes | None:
    """The packed page view, when ``plan`` is one page view's operations, exactly what
    ``FIRST_VIEW`` writes: push the view, count it in the visit and in all. Pure."""
    if plan.shared or len(plan.ops) != 3 or plan.ops[1:] != _COUNTS:
        return None
    push = plan.ops[0]
    return push[2] if push[0] == "lpush" and push[1] == _VIEWS else None


def plan_calls(batch: Iterable[Write]) -> list[Call]:
    """Group writes into commands, keeping each visitor's order: a visitor's event writes close
    in time share one APPLY call (at the place of the first), unless one of the visitor's
    assignments comes between them. The call is stamped with its latest write's time, and is
    ``fresh`` when it is one fresh page view alone. Pure."""
    calls: list[Call] = []
    open_calls: dict[str, tuple[Call, list[Any]]] = {}
    for write in batch:
        if write.events is None:
            open_calls.pop(write.pid, None)
            calls.append(Call(write.pid, [write]))
            continue
        call, events = open_calls.get(write.pid) or (None, [])
        if (call is None or abs(write.now_ms - call.first_ms) > COALESCE_MS
                or len(events) + len(write.events) > MAX_CALL_EVENTS):
            events = []
            call = Call(write.pid, events=events, first_ms=write.now_ms)
            open_calls[write.pid] = (call, events)
            calls.append(call)
        call.writes.append(write)
        events.extend(write.events)
        call.now_ms = max(call.now_ms, write.now_ms)
        call.fresh = write.fresh and len(call.writes) == 1
    return calls


class WriteBehind:
    """The edge's own writes, queued and sent in batches by one background task."""

    def __init__(self, redis: Any, writer: EventWriter, *, max_queue: int = MAX_QUEUE,
                 max_batch: int = MAX_BATCH, linger_s: float = LINGER_S,
                 retry_s: tuple[float, float] = RETRY_S):
        self.redis = redis
        self.writer = writer
        self.max_queue = max_queue
        self.max_batch = max_batch
        self.linger_s = linger_s
        self.retry_s = retry_s
        self._queue: deque[Write] = deque()
        self._inflight: list[Write] = []
        self._seq = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        # script call heads with the id left open, by packer, argument count and id length
        self._heads: dict[tuple[str, int, int], rawcall.OpenId] = {}
        self._closing = False
        self._closed = False
        self._down_since: float | None = None
        self._unreported_drops = 0
        self._reported_at = 0.0
        # what became of accepted writes (for the log and the tests)
        self.written = 0
        self.dropped = 0
        self.failed = 0

    # --- queueing (called on the response path: no I/O, no await) ----------------------------
    def page_view(self, pid: str, url: str, title: str = "", *, fresh: bool = False) -> None:
        """A page served; ``fresh``: to a visitor minted on that request, whose profile is most
        likely empty (sent as ``FIRST_VIEW`` then; the script checks)."""
        try:
            event = page_view(url, title)
        except ValidationError as exc:
            log.warning("page view not recorded for %s: %s", pid, exc)
            return
        self._put(Write(0, pid, _now_ms(), [event], page_view=True, fresh=fresh))

    def impressions(self, pid: str, shown: Iterable[tuple[str, str]]) -> None:
        """Control-arm exposures (placement, variant) of one page."""
        try:
            events = [impression(placement, variant) for placement, variant in shown]
        except ValidationError as exc:
            log.warning("impressions not recorded for %s: %s", pid, exc)
            return
        if events:
            self._put(Write(0, pid, _now_ms(), events))

    def events(self, pid: str, events: list[Any]) -> None:
        """Validated events that need nothing read before they are applied."""
        if needs_context(events):
            raise ValueError("these events need the context read: use EventWriter.apply")
        self._put(Write(0, pid, _now_ms(), list(events)))

    def assign(self, pid: str, experiment: str, variant: str) -> None:
        """Keep a visitor's experiment arm; the first assignment wins."""
        self._put(Write(0, pid, _now_ms(), assign=(experiment, variant)))

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._inflight)

    def _put(self, write: Write) -> None:
        if self._closed:
            self._drop(1, "the edge is stopping")
            return
        if len(self._queue) >= self.max_queue:
            self._shed(len(self._queue) - self.max_queue + 1)
        self._seq += 1
        write.seq = self._seq
        self._queue.append(write)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _shed(self, n: int) -> None:
        """Drop ``n`` queued writes, the oldest page views first."""
        queue = self._queue
        shed = 0
        while shed < n and queue:
            index = next((i for i, w in enumerate(queue) if w.page_view), 0)
            del queue[index]
            shed += 1
        self._drop(shed, f"the write queue is full ({self.max_queue} waiting: Redis is "
                         "unreachable or slow)")

    def _drop(self, n: int, why: str) -> None:
        self.dropped += n
        self._unreported_drops += n
        if time.monotonic() - self._reported_at >= REPORT_EVERY_S:
            self._report_drops(why)

    def _report_drops(self, why: str) -> None:
        if self._unreported_drops:
            log.warning("%s: dropped %d writes, the oldest page views first",
                        why, self._unreported_drops)
            self._unreported_drops = 0
            self._reported_at = time.monotonic()

    # --- waiting -----------------------------------------------------------------------------
    async def flush(self) -> None:
        """Wait until every write accepted so far is written (or given up)."""
        target = self._seq
        if self._pending_min() > target:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._wake.set()
        await future

    async def aclose(self, timeout: float = 10.0) -> None:
        """Write what is queued (waiting up to ``timeout`` s), then stop."""
        self._closing = True
        try:
            await asyncio.wait_for(self.flush(), timeout)
        except TimeoutError:
            pass
        self._closed = True
        left = self.pending
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if left:
            self._queue.clear()
            self._inflight = []
            self.dropped += left
            log.error("%d writes not written at shutdown: Redis did not answer in %g s",
                      left, timeout)
        self._report_drops("while Redis was unreachable or slow")
        self._settle()

    def _pending_min(self) -> float:
        if self._inflight:
            return self._inflight[0].seq
        return self._queue[0].seq if self._queue else float("inf")

    def _settle(self) -> None:
        if not self._waiters:
            return
        done = self._closed
        first = self._pending_min()
        keep = []
        for target, future in self._waiters:
            if future.done():
                continue
            if done or target < first:
                future.set_result(None)
            else:
                keep.append((target, future))
        self._waiters = keep

    # --- the writer task ---------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = self.retry_s[0]
        while True:
            if not self._queue:
                self._settle()
                self._wake.clear()
                await self._wake.wait()
                if (self.linger_s and not self._closing and not self._waiters
                        and len(self._queue) < self.max_batch):
                    await asyncio.sleep(self.linger_s)  # let more writes share the trip
                if not self._queue:
                    continue
            n = min(len(self._queue), self.max_batch)
            batch = self._inflight = [self._queue.popleft() for _ in range(n)]
            try:
                unsent = await self._send(batch)
            except Exception:  # a bug here must not stop the edge's writes
                log.exception("writing %d queued writes failed; they are dropped", n)
                self.failed += n
                unsent = []
            finally:
                self._inflight = []
            if unsent:
                self._queue.extendleft(reversed(sorted(unsent, key=lambda w: w.seq)))
                if len(self._queue) > self.max_queue:
                    self._shed(len(self._queue) - self.max_queue)
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    log.warning("Redis is unreachable: %d writes wait, retrying", self.pending)
                self._settle()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.retry_s[1])
                continue
            backoff = self.retry_s[0]
            if self._down_since is not None:
                log.warning("Redis is reachable again after %.1f s; writing %d waiting writes",
                            time.monotonic() - self._down_since, self.pending)
                self._down_since = None
                self._report_drops("while Redis was unreachable or slow")
            self._settle()

    async def _send(self, batch: list[Write]) -> list[Write]:
        """Send one batch; return the writes that could not be sent (Redis unreachable)."""
        pending = [(call, self._command(call)) for call in plan_calls(batch)]
        for attempt in (1, 2):
            try:
                commands = [command for _, command in pending]
                replies = await rawcall.exchange(self.redis, b"".join(commands), len(commands))
            except rawcall.NotSent:
                return [w for call, _ in pending for w in call.writes]
            except (RedisError, OSError) as exc:
                n = sum(len(call.writes) for call, _ in pending)
                self.failed += n
                log.warning("%d writes may be lost: Redis failed after they were sent: %r",
                            n, exc)
                return []
            again = []
            lost_scripts = False
            for (call, command), reply in zip(pending, replies, strict=True):
                lost = isinstance(reply, NoScriptError)
                lost_scripts = lost_scripts or lost
                if call.fresh and (reply == 0 or lost):
                    # FIRST_VIEW wrote nothing (the profile exists, or Redis lost the script):
                    # the page view goes again as APPLY.
                    call.fresh = False
                    again.append((call, self._command(call)))
                elif lost and attempt == 1:
                    again.append((call, command))  # the script did not run: safe to resend
                elif isinstance(reply, Exception):
                    self.failed += len(call.writes)
                    log.warning("write for %s failed: %r", call.pid, reply)
                else:
                    self.written += len(call.writes)
            if not again:
                break
            pending = again
            if lost_scripts:
                try:  # Redis lost its scripts (a restart): load them again and resend those calls
                    await self.redis.script_load(self.writer.script.script)
                    await self.redis.script_load(self.writer.first_view.script)
                except (RedisError, OSError):
                    return [w for call, _ in pending for w in call.writes]
        return []

    def _command(self, call: Call) -> bytes:
        """The call in the Redis protocol. A fresh call that is not one page view's operations
        after all stops being fresh."""
        if call.events is None:
            experiment, variant = call.writes[0].assign or ("", "")
            return rawcall.encode(
                ["HSETNX", keys.profile_key(call.pid, "exp"), experiment, variant])
        plan = compile_batch(call.events, BatchContext(now_ms=call.now_ms))
        if call.fresh:
            view = first_view(plan)
            if view is not None:
                return self._open(call.pid, self._pack_first, 4) + rawcall.encode(
                    [call.now_ms, self.writer.ttl, call.pid, view], count=False)
            call.fresh = False
        args = self.writer.script_args(call.pid, plan, call.now_ms)
        return self._open(call.pid, self._pack_head, len(args)) + rawcall.encode(
            args, count=False)

    def _open(self, pid: str, pack: Callable[[str, int], bytes], extra: int) -> bytes:
        """A script call's head as ``pack`` makes it (``EVALSHA sha n key...``) for a visitor's
        keys, followed by ``extra`` arguments. Packing some 25 keys costs more than the rest of
        a page view's write: the head is packed once per id length, with the id left open
        (``rawcall.OpenId``)."""
        pid_bytes = pid.encode()
        shape = (pack.__name__, extra, len(pid_bytes))
        head = self._heads.get(shape)
        if head is None:
            if len(self._heads) > 64:  # ids are of a few lengths; never let this grow
                self._heads.clear()
            head = self._heads[shape] = rawcall.OpenId.pack(
                lambda mark: pack(mark, extra), len(pid_bytes))
        return head.fill(pid_bytes)

    def _pack_first(self, pid: str, extra: int) -> bytes:
        script_keys = [keys.profile_key(pid, part) for part in FIRST_VIEW_PARTS]
        return rawcall.encode(
            ["EVALSHA", self.writer.first_view.sha, len(script_keys), *script_keys], extra=extra)

    def _pack_head(self, pid: str, extra: int) -> bytes:
        script_keys = keys.profile_keys(pid)
        return rawcall.encode(
            ["EVALSHA", self.writer.script.sha, len(script_keys), *script_keys], extra=extra)


def _now_ms() -> int:
    return int(time.time() * 1000)
