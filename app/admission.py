"""Admission control: a bounded number of store-heavy requests in flight per replica, a short
queue with a bounded wait, and beyond it 429 with `Retry-After` instead of everyone timing out.

Each route declares in the route table which budget it draws on (`Cost`): store reads and
deletes share one budget, exports (which hold a cursor for a long time) have a smaller one of
their own, and everything else (probes, metrics, tokens and roles, scans with their own slots)
is not admitted at all. A request holds its slot until its handler returns, for an export until
the end of the stream.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from app.error_rendering import describe, export_error_line
from app.errors import ResourceExhausted
from app.keys import CLIENT_GONE

# What a refused client is told to wait before trying again.
RETRY_AFTER_S = 1.0
# Adaptive budgets: never fewer slots than this, and at most this many waiters per slot.
MIN_SLOTS = 2
QUEUE_PER_SLOT = 2


class Cost(enum.Enum):
    """The budget a route's requests draw on (a column of the route table)."""

    STORE = "store"
    EXPORT = "export"


class Overloaded(ResourceExhausted):
    """No slot and no room to wait for one, or no slot within the wait: 429."""


class Budget:
    """A bounded number of slots, with a bounded first-come-first-served queue for them.

    A free slot is taken without awaiting anything; a released slot goes straight to the
    oldest waiter, so a newcomer never overtakes the queue.

    With a `target_s`, the number of slots adapts to the store between MIN_SLOTS and `limit`
    (additive increase, multiplicative decrease): a request that held its slot longer than the
    target cuts it, at most once per target period and by at most half; requests within the
    target while the slots are in use let it grow by about one slot per full round. A store that
    answers slowly (a busy or serial one, an expensive mix) gets fewer requests at once, so those
    it gets finish in bounded time and the rest are refused quickly; a fast one gets `limit`.
    The queue holds at most QUEUE_PER_SLOT waiters per current slot (and `queue` in all).
    """

    def __init__(
        self,
        name: str,
        *,
        limit: int,
        queue: int,
        wait_s: float,
        target_s: float = 0.0,
        streams: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name  # what is counted, plural: "requests", "exports"
        # its routes answer NDJSON streams: a refusal is the stream's one error line
        self.streams = streams
        self.max_limit = limit
        self.min_limit = min(limit, MIN_SLOTS)
        self.limit = float(limit)  # the current number of slots (fractional while adapting)
        self.queue = queue
        self.wait_s = wait_s
        self.target_s = target_s
        self._clock = clock
        self._no_cut_before = 0.0
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        # when a request of this budget last got an answer that is not a 5xx (time.monotonic):
        # the store answers, however busy (app/readiness.py)
        self.answered_at = 0.0
        # since start, for /metrics
        self.admitted = 0
        self.waited = 0
        self.refused_full = 0
        self.refused_timeout = 0

    def last_answer(self) -> float:
        return self.answered_at

    @property
    def queued(self) -> int:
        return len(self._waiters)

    @property
    def slots(self) -> int:
        return math.ceil(self.limit)

    @property
    def queue_room(self) -> int:
        return min(self.queue, QUEUE_PER_SLOT * self.slots)

    def try_acquire(self) -> bool:
        """Take a free slot if there is one and nobody is waiting for it."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            self.admitted += 1
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting up to `wait_s` in the queue.

        Raises:
            Overloaded: the queue is full, or no slot came free in time.
        """
        if self.try_acquire():
            return
        room = self.queue_room
        if len(self._waiters) >= room:
            self.refused_full += 1
            raise Overloaded(
                f"the service is busy: {self.slots} {self.name} in flight and {room} "
                "waiting; retry later",
                retry_after=RETRY_AFTER_S,
            )
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        self.waited += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await turn
        except BaseException as exc:
            if turn.done() and not turn.cancelled():
                # handed a slot just as the wait ended: use it, unless the request was cancelled
                if isinstance(exc, TimeoutError):
                    self.admitted += 1
                    return
                self.release()
                raise
            if turn in self._waiters:  # unless release() already dropped it
                self._waiters.remove(turn)
            if isinstance(exc, TimeoutError):
                self.refused_timeout += 1
                raise Overloaded(
                    f"the service is busy: no slot among {self.slots} {self.name} came free "
                    f"within {self.wait_s:g}s; retry later",
                    retry_after=RETRY_AFTER_S,
                ) from None
            raise
        self.admitted += 1

    def release(self, held_s: float | None = None) -> None:
        """Give the slot back, or straight to the oldest waiter still waiting (unless the
        slots were cut meanwhile); `held_s`, how long the slot was held, adapts the slots."""
        if held_s is not None and self.target_s:
            self._adapt(held_s)
        waiters = self._waiters
        while waiters and self.in_flight - 1 < self.limit:
            turn = waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot changes hands: in_flight stays
                return
        self.in_flight -= 1

    def _adapt(self, held_s: float) -> None:
        if held_s > self.target_s:
            now = self._clock()
            if now >= self._no_cut_before:
                cut = max(0.5, self.target_s / held_s)
                self.limit = max(float(self.min_limit), self.limit * cut)
                self._no_cut_before = now + self.target_s
        elif self._waiters or self.in_flight >= self.limit:
            self.limit = min(float(self.max_limit), self.limit + 1 / self.limit)


async def wait_for_slot(request: web.Request, budget: Budget) -> web.StreamResponse | None:
    """Queue for a slot of `budget` (when `try_acquire` found none): None once the request holds
    one, else the answer it gets instead (an export's refusal line, or nothing for a client that
    hung up while it waited).

    Raises:
        Overloaded: no slot and no room to wait, or none within the wait (429).
    """
    try:
        await budget.acquire()
    except Overloaded as exc:
        if budget.streams:
            return _stream_refusal(request, exc)
        raise
    if request.transport is None or request.transport.is_closing():
        # the client hung up while it waited: its slot goes to the next one
        budget.release()
        request[CLIENT_GONE] = True
        return web.Response(status=499)
    return None


def _stream_refusal(request: web.Request, exc: Overloaded) -> web.Response:
    """429 framed as an export's error before its first line: one `{"error":{…}}` line."""
    error = describe(exc, request)
    response = web.Response(
        body=export_error_line(error), status=error.status, content_type="application/json"
    )
    response.headers["Retry-After"] = str(max(1, round(RETRY_AFTER_S)))
    return response


class AdmissionCollector:
    """/metrics: slots in use, requests waiting, and admissions and refusals per budget."""

    def __init__(self, budgets: Mapping[Cost, Budget]) -> None:
        self._budgets = budgets

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        prefix = "image_service_admission"
        in_flight = GaugeMetricFamily(
            f"{prefix}_in_flight", "requests holding a slot", labels=["budget"]
        )
        queued = GaugeMetricFamily(
            f"{prefix}_queued", "requests waiting for a slot", labels=["budget"]
        )
        limit = GaugeMetricFamily(
            f"{prefix}_limit", "slots now (adapting to the store)", labels=["budget"]
        )
        max_limit = GaugeMetricFamily(f"{prefix}_max_limit", "most slots", labels=["budget"])
        admitted = CounterMetricFamily(
            f"{prefix}_admitted", "requests given a slot", labels=["budget"]
        )
        waited = CounterMetricFamily(
            f"{prefix}_waited", "requests that queued for a slot", labels=["budget"]
        )
        refused = CounterMetricFamily(
            f"{prefix}_refused", "requests answered 429", labels=["budget", "why"]
        )
        for cost, budget in self._budgets.items():
            name = cost.value
            in_flight.add_metric([name], budget.in_flight)
            queued.add_metric([name], budget.queued)
            limit.add_metric([name], budget.limit)
            max_limit.add_metric([name], budget.max_limit)
            admitted.add_metric([name], budget.admitted)
            waited.add_metric([name], budget.waited)
            refused.add_metric([name, "queue_full"], budget.refused_full)
            refused.add_metric([name, "wait_timeout"], budget.refused_timeout)
        yield from (in_flight, queued, limit, max_limit, admitted, waited, refused)

    def describe(self) -> list[GaugeMetricFamily]:
        return []
