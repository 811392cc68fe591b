"""The service's own deadline around driver calls (storage.mongo.guarded, translated_errors)."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import pytest
from pymongo.errors import ExecutionTimeout, OperationFailure, ServerSelectionTimeoutError

from storage.errors import QueryTimeout, StoreUnavailable, WriteTimeout
from storage.mongo import deadline_after, guarded, translated_errors


async def never_answers() -> NoReturn:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_a_call_past_its_deadline_is_a_query_timeout() -> None:
    with pytest.raises(QueryTimeout, match="did not answer within 20 ms") as caught:
        await guarded(never_answers, timeout_ms=20)
    assert not isinstance(caught.value, WriteTimeout)


async def test_a_write_past_its_deadline_says_it_may_still_be_applied() -> None:
    with pytest.raises(WriteTimeout, match="may still be applied"):
        await guarded(never_answers, timeout_ms=20, write=True)


@pytest.mark.parametrize(
    "error",
    [
        ExecutionTimeout("operation exceeded time limit", 50),
        OperationFailure("operation exceeded time limit", 50),
    ],
)
async def test_the_servers_time_limit_is_the_same_query_timeout(error: Exception) -> None:
    async def expires() -> None:
        raise error

    with pytest.raises(QueryTimeout):
        await guarded(expires, timeout_ms=10_000)


async def test_a_cancelled_caller_is_cancelled_not_timed_out() -> None:
    """A client that goes away cancels its handler: that is no deadline of ours."""
    task = asyncio.ensure_future(guarded(never_answers, timeout_ms=60_000))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_timeout_error_of_the_call_itself_is_not_our_deadline() -> None:
    async def fails() -> None:
        raise TimeoutError("from inside")

    with pytest.raises(TimeoutError, match="from inside"):
        await guarded(fails, timeout_ms=60_000)


async def test_other_driver_errors_are_translated_as_before() -> None:
    async def away() -> None:
        raise ServerSelectionTimeoutError("no servers")

    with pytest.raises(StoreUnavailable):
        await guarded(away, timeout_ms=None)


async def test_a_cursor_read_past_its_deadline_is_a_query_timeout() -> None:
    with pytest.raises(QueryTimeout, match="within 20 ms"):
        async with translated_errors(until=deadline_after(20), timeout_ms=20):
            await never_answers()


async def test_no_deadline_lets_a_slow_call_finish() -> None:
    async def slow() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert await guarded(slow, timeout_ms=None) == "done"
    async with translated_errors():
        assert await slow() == "done"


async def test_an_earlier_deadline_registered_later_still_fires_on_time() -> None:
    """The watch's one timer moves earlier for a shorter deadline."""
    slow = asyncio.ensure_future(guarded(never_answers, timeout_ms=60_000))
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    with pytest.raises(QueryTimeout):
        await guarded(never_answers, timeout_ms=30)
    assert asyncio.get_running_loop().time() - started < 1.0
    assert not slow.done()
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow


async def test_many_calls_each_end_at_their_own_deadline() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def timed(timeout_ms: int) -> float:
        with pytest.raises(QueryTimeout):
            await guarded(never_answers, timeout_ms=timeout_ms)
        return loop.time() - started

    ended = await asyncio.gather(*(timed(ms) for ms in (90, 30, 60, 30)))
    for took, timeout_ms in zip(ended, (90, 30, 60, 30), strict=True):
        assert timeout_ms / 1000 <= took < timeout_ms / 1000 + 0.5


async def test_a_finished_call_leaves_nothing_to_cancel_later() -> None:
    async def quick() -> str:
        return "done"

    for _ in range(3):
        assert await guarded(quick, timeout_ms=20) == "done"
    await asyncio.sleep(0.05)  # past every deadline: nothing may cancel this task now
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_an_inner_deadline_does_not_swallow_the_outer_one() -> None:
    async def nested() -> None:
        await guarded(never_answers, timeout_ms=60_000)

    with pytest.raises(QueryTimeout, match="within 20 ms"):
        await guarded(nested, timeout_ms=20)
