"""Admission budgets: free slots taken at once, a first-come-first-served queue, refusals."""

from __future__ import annotations

import asyncio

import pytest

from app.admission import MIN_SLOTS, RETRY_AFTER_S, Budget, Overloaded


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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def adaptive(limit: int = 32, queue: int = 64) -> tuple[Budget, Clock]:
    clock = Clock()
    return Budget("requests", limit=limit, queue=queue, wait_s=10, target_s=1.0, clock=clock), clock


async def test_a_slot_held_beyond_the_target_cuts_the_slots_once_per_target_period() -> None:
    budget, clock = adaptive()
    for _ in range(3):
        budget.try_acquire()
    budget.release(held_s=1.5)
    assert budget.limit == pytest.approx(32 / 1.5)
    budget.release(held_s=9.0)  # the same congestion, reported again: no second cut
    assert budget.limit == pytest.approx(32 / 1.5)
    clock.now += 1.0
    budget.release(held_s=9.0)  # by at most half
    assert budget.limit == pytest.approx(16 / 1.5)
    for _ in range(10):
        clock.now += 1.0
        budget.try_acquire()
        budget.release(held_s=9.0)
    assert budget.limit == MIN_SLOTS
    assert (budget.slots, budget.queue_room) == (2, 2 * MIN_SLOTS)


async def test_slots_grow_back_while_in_use_and_within_the_target_up_to_the_limit() -> None:
    budget, clock = adaptive(limit=4)
    budget.try_acquire()
    budget.release(held_s=5.0)
    assert budget.limit == 2
    for _ in range(4):  # one slot in use of two: not saturated, no growth
        assert budget.try_acquire()
        budget.release(held_s=0.1)
    assert budget.limit == 2
    for _ in range(20):  # every slot in use
        held = 0
        while budget.try_acquire():
            held += 1
        assert held == budget.slots
        for _ in range(held):
            budget.release(held_s=0.1)
    assert budget.limit == 4


async def test_after_a_cut_a_released_slot_goes_to_a_waiter_only_within_the_slots() -> None:
    budget, clock = adaptive(limit=4)
    for _ in range(4):
        assert budget.try_acquire()
    waiter = await _waiting(budget)
    budget.release(held_s=2.0)  # cut to 2 slots: 3 still in flight, the waiter keeps waiting
    assert (budget.slots, budget.in_flight, waiter.done()) == (2, 3, False)
    budget.release()
    assert (budget.in_flight, waiter.done()) == (2, False)
    budget.release()  # now there is room: the slot goes to the waiter
    await waiter
    assert (budget.in_flight, budget.queued) == (2, 0)
