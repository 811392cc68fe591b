"""Admission budgets: free slots taken at once, a first-come-first-served queue, refusals."""

from __future__ import annotations

import asyncio

import pytest

from app.admission import RETRY_AFTER_S, Budget, Overloaded


async def _waiting(budget: Budget) -> asyncio.Task[None]:
    """A task queued for a slot (the loop ran until it is in the queue)."""
    before = budget.queued
    task = asyncio.create_task(budget.acquire())
    await asyncio.sleep(0)  # the task runs until it waits for its turn
    assert budget.queued == before + 1
    return task


async def test_free_slots_are_taken_without_waiting() -> None:
    budget = Budget("requests", limit=2, queue=1, wait_s=10)
    assert budget.try_acquire()
    assert budget.try_acquire()
    assert not budget.try_acquire()
    assert (budget.in_flight, budget.admitted) == (2, 2)


async def test_a_full_queue_refuses_at_once_with_retry_after() -> None:
    budget = Budget("requests", limit=1, queue=1, wait_s=10)
    await budget.acquire()
    queued = await _waiting(budget)
    with pytest.raises(Overloaded) as refused:
        await budget.acquire()
    assert refused.value.retry_after == RETRY_AFTER_S
    assert "1 requests in flight and 1 waiting" in refused.value.message
    assert budget.refused_full == 1
    budget.release()
    await queued
    assert (budget.in_flight, budget.queued) == (1, 0)


async def test_a_released_slot_goes_to_the_oldest_waiter_not_a_newcomer() -> None:
    budget = Budget("requests", limit=1, queue=3, wait_s=10)
    await budget.acquire()
    first = await _waiting(budget)
    second = await _waiting(budget)
    budget.release()
    # the slot is handed over: a newcomer finds none free though the first has not run yet
    assert not budget.try_acquire()
    await first
    assert not second.done()
    budget.release()
    await second
    budget.release()
    assert (budget.in_flight, budget.queued) == (0, 0)


async def test_a_waiter_gets_429_when_no_slot_comes_free_in_time() -> None:
    budget = Budget("exports", limit=1, queue=1, wait_s=0.05)
    await budget.acquire()
    with pytest.raises(Overloaded) as refused:
        await budget.acquire()
    assert "within 0.05s" in refused.value.message
    assert (budget.queued, budget.refused_timeout, budget.in_flight) == (0, 1, 1)


async def test_a_cancelled_waiter_leaves_the_queue_and_takes_no_slot() -> None:
    budget = Budget("requests", limit=1, queue=1, wait_s=10)
    await budget.acquire()
    waiter = await _waiting(budget)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert budget.queued == 0
    budget.release()
    assert budget.in_flight == 0


async def test_a_waiter_cancelled_after_the_handover_gives_the_slot_back() -> None:
    budget = Budget("requests", limit=1, queue=2, wait_s=10)
    await budget.acquire()
    first = await _waiting(budget)
    second = await _waiting(budget)
    budget.release()  # handed to `first`, which has not resumed yet
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await second  # the slot `first` could not use went on to `second`
    assert (budget.in_flight, budget.queued) == (1, 0)
