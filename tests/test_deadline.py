"""``bounded``: a deadline that costs nothing unless the coroutine waits."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge.deadline import bounded, eager, start, wait_done


def _deadline(seconds: float) -> float:
    return time.monotonic() + seconds


async def test_a_coroutine_that_never_waits_returns_its_value() -> None:
    async def compute() -> int:
        return 42

    assert await bounded(compute(), _deadline(1)) == 42


async def test_awaited_results_and_bare_yields_pass_through() -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[str] = loop.create_future()
    loop.call_later(0.01, fut.set_result, "loaded")

    async def work() -> str:
        await asyncio.sleep(0)
        value = await fut
        await asyncio.sleep(0.01)
        return value + "!"

    assert await bounded(work(), _deadline(2)) == "loaded!"


async def test_exceptions_of_the_coroutine_and_of_awaited_futures_propagate() -> None:
    async def fails() -> None:
        raise ValueError("broken fill")

    with pytest.raises(ValueError, match="broken fill"):
        await bounded(fails(), _deadline(1))

    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    fut.set_exception(KeyError("no profile"))

    async def awaits_failure() -> None:
        await fut

    with pytest.raises(KeyError):
        await bounded(awaits_failure(), _deadline(1))


async def test_past_the_deadline_the_coroutine_is_cancelled_and_cleans_up() -> None:
    cleaned = []
    cancelled = []

    async def slow() -> str:
        try:
            await asyncio.sleep(5)
            return "late"
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        finally:
            cleaned.append(True)

    with pytest.raises(TimeoutError):
        await bounded(slow(), _deadline(0.05))
    assert cancelled == [True]  # stopped at the deadline, not run to its end
    assert cleaned == [True]


async def test_a_deadline_already_passed_still_lets_a_ready_coroutine_finish() -> None:
    async def ready() -> str:
        return "done"

    assert await bounded(ready(), _deadline(-1)) == "done"


async def test_a_coroutine_that_swallows_cancellation_is_closed() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(5)

    with pytest.raises(TimeoutError):
        await bounded(stubborn(), _deadline(0.02))


async def test_eager_runs_a_coroutine_that_never_waits_without_a_task() -> None:
    ran = []

    async def quick() -> str:
        ran.append("now")
        return "session"

    fut = eager(quick())
    assert ran == ["now"]  # ran before eager returned
    assert fut.done() and fut.result() == "session"
    assert not isinstance(fut, asyncio.Task)


async def test_eager_runs_up_to_the_first_wait_then_finishes_in_a_task() -> None:
    steps = []
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()

    async def waits() -> int:
        steps.append("before")
        value = await fut
        steps.append("after")
        await asyncio.sleep(0)
        return value * 2

    started = eager(waits())
    assert steps == ["before"] and not started.done()
    loop.call_soon(fut.set_result, 21)
    assert await started == 42
    assert steps == ["before", "after"]


async def test_eager_keeps_exceptions_raised_before_and_after_waiting() -> None:
    async def early() -> None:
        raise ValueError("bad cookie")

    failed = eager(early())
    assert failed.done()
    with pytest.raises(ValueError, match="bad cookie"):
        failed.result()

    async def late() -> None:
        await asyncio.sleep(0.01)
        raise KeyError("redis")

    with pytest.raises(KeyError):
        await eager(late())


async def test_start_gives_a_value_without_a_future_or_a_task_that_finishes() -> None:
    async def quick() -> str:
        return "session"

    assert start(quick()) == ("session", None)

    async def waits() -> str:
        await asyncio.sleep(0.01)
        return "later"

    value, task = start(waits())
    assert value is None and task is not None and not task.done()
    assert await task == "later"

    async def early() -> None:
        raise ValueError("bad cookie")

    with pytest.raises(ValueError, match="bad cookie"):
        start(early())


@pytest.mark.parametrize("start", ["bounded", "eager"])
async def test_cancelling_the_caller_cancels_the_coroutine(start: str) -> None:
    cleaned = []

    async def slow() -> None:
        try:
            await asyncio.sleep(5)
        finally:
            cleaned.append(True)

    task = (asyncio.ensure_future(bounded(slow(), _deadline(10))) if start == "bounded"
            else eager(slow()))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


async def test_without_a_deadline_the_coroutine_handles_what_it_awaited_itself() -> None:
    loop = asyncio.get_running_loop()
    failing: asyncio.Future[str] = loop.create_future()
    loaded: asyncio.Future[str] = loop.create_future()

    async def waits() -> list[str]:
        seen = []
        try:
            await failing
        except KeyError as exc:  # a failed Redis call: the coroutine decides what it means
            seen.append(f"handled {exc.args[0]}")
        seen.append(await loaded)
        return seen

    value, task = start(waits())
    assert value is None and task is not None
    loop.call_soon(failing.set_exception, KeyError("redis"))
    loop.call_later(0.01, loaded.set_result, "profile")
    assert await task == ["handled redis", "profile"]


async def test_without_a_deadline_cancelling_reaches_a_coroutine_whose_wait_cannot_be_cancelled(
) -> None:
    loop = asyncio.get_running_loop()
    inner: asyncio.Future[str] = loop.create_future()
    cleaned = []

    async def waits() -> str:
        try:
            return await asyncio.shield(inner)  # cancelling the wait leaves ``inner`` running
        finally:
            cleaned.append(True)

    value, task = start(waits())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True] and not inner.cancelled()
    inner.set_result("late")  # nobody is left waiting: nothing breaks


async def test_wait_done_returns_once_the_future_is_done_and_leaves_no_callback() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    loop.call_later(0.01, future.set_result, "profile")
    await wait_done(future, 5)
    assert future.result() == "profile"
    assert not future._callbacks  # type: ignore[attr-defined]  # no callback left behind


async def test_wait_done_gives_up_after_its_timeout_without_touching_the_future() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    started = time.monotonic()
    await wait_done(future, 0.02)
    assert 0.015 <= time.monotonic() - started < 2
    assert not future.done()  # not cancelled: whoever else waits on it still gets it
    assert not future._callbacks  # type: ignore[attr-defined]
    future.set_result("late")


async def test_cancelling_wait_done_cancels_only_the_wait() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    waiting = asyncio.ensure_future(wait_done(future, 5))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not future.cancelled() and not future._callbacks  # type: ignore[attr-defined]
