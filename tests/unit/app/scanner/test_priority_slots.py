"""Worker slots go to the layers of the scan that began first."""

from __future__ import annotations

import asyncio

from app.scanner.layers.workers.slots import PrioritySlots


async def test_a_freed_slot_goes_to_the_lowest_priority_number_then_first_come() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(5)
    served: list[str] = []

    async def wait(name: str, priority: float) -> None:
        await slots.acquire(priority)
        served.append(name)
        slots.release()

    waiters = [
        asyncio.create_task(wait(name, priority))
        for name, priority in [("late scan", 3), ("first scan", 1), ("first scan again", 1)]
    ]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*waiters)
    assert served == ["first scan", "first scan again", "late scan"]


async def test_a_cancelled_waiter_does_not_keep_a_slot() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(0)
    gone = asyncio.create_task(slots.acquire(0))
    staying = asyncio.create_task(slots.acquire(1))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    slots.release()
    await asyncio.wait_for(staying, timeout=1)
    slots.release()
    await asyncio.wait_for(slots.acquire(2), timeout=1)  # the slot came back: free again


async def test_a_waiter_cancelled_after_being_granted_passes_the_slot_on() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(0)
    granted_then_gone = asyncio.create_task(slots.acquire(0))
    next_in_line = asyncio.create_task(slots.acquire(1))
    await asyncio.sleep(0)
    slots.release()  # grants the first waiter, which is cancelled before it resumes
    granted_then_gone.cancel()
    await asyncio.wait_for(next_in_line, timeout=1)
    assert granted_then_gone.cancelled()
