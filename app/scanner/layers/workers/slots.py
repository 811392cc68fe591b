"""Slots handed out by priority: the layers of the scan that started first go first."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class PrioritySlots:
    """`size` slots; a waiter with a lower priority number gets the next free slot before
    those with higher numbers, equal numbers in arrival order.

    Why not a plain semaphore: a scan asks for its layers a few at a time, so with several
    scans at once a FIFO queue interleaves them all, and every scan finishes its layers at about
    the same moment; then all of them wait on the store together while the workers idle.
    Serving the oldest scan first lets it go on to matching and storing while the next one's
    layers are read.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def acquire(self, priority: float) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # handed a slot just as the waiter went away: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, granted = heapq.heappop(self._waiters)
            if not granted.done():  # a cancelled waiter's future is done
                granted.set_result(None)
                return
        self._free += 1
