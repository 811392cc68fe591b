"""Readiness: what /readyz answers, kept current in the background so the probe never waits.

Two things make a replica not ready: start-up work not finished yet (the indexes; anything else
registered with `begin`/`end`), and a database that has answered neither a ping nor any request
within the last `STORE_GRACE_S`. A task pings the store every `PING_INTERVAL_S`, each ping
bounded by `PING_TIMEOUT_S`; /readyz only reads the result, so it answers at once whatever the
store does. Requests answered count as well as pings: under overload a ping can wait behind the
work in flight, and a busy replica (which refuses what it cannot take with 429) must not be taken
out of service as if its database were gone.

Warnings (an old vulnerability feed) go into a ready answer's body; they never make a replica
not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from app.keys import IMAGES

logger = logging.getLogger(__name__)

PING_INTERVAL_S = 1.0
PING_TIMEOUT_S = 1.0
# Not ready once the last answered ping is older than this: two pings in a row went unanswered.
STORE_GRACE_S = 3.0
# Start-up work, as named to `Readiness.begin`.
INDEXES = "indexes"


class Readiness:
    """The replica's health as the background checks last saw it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pending: dict[str, str] = {}
        self._answered_at: float | None = None
        self._answers: list[Callable[[], float]] = []
        self._problem = "not checked yet"
        self._reported: str | None = None
        self._warnings: list[Callable[[], list[str]]] = []

    def begin(self, work: str, why: str) -> None:
        """Start-up work that must finish before the replica is ready; `why` says what is
        missing meanwhile ("the indexes are not created yet")."""
        self._pending[work] = why

    def end(self, work: str) -> None:
        self._pending.pop(work, None)

    def count_answers_of(self, answered_at: Callable[[], float]) -> None:
        """Other evidence that the store answers: when the last request that needed it got
        an answer (on the same clock)."""
        self._answers.append(answered_at)

    def add_warnings(self, source: Callable[[], list[str]]) -> None:
        """Something a ready answer mentions (answered from memory, like the rest)."""
        self._warnings.append(source)

    def warnings(self) -> list[str]:
        return [warning for source in self._warnings for warning in source()]

    def store_answered(self) -> None:
        self._answered_at = self._clock()

    def store_failed(self, problem: str) -> None:
        self._problem = problem

    def problem(self) -> str | None:
        """Why the replica is not ready, or None when it is."""
        answered = max((last() for last in self._answers), default=-math.inf)
        if self._answered_at is not None:
            answered = max(answered, self._answered_at)
        if self._clock() - answered > STORE_GRACE_S:
            return f"the database is unavailable ({self._problem})"
        for why in self._pending.values():
            return why
        return None

    def log_change(self) -> None:
        """One log line when readiness changes, not one per check."""
        problem = self.problem()
        if problem == self._reported:
            return
        if problem is None:
            logger.info("ready")
        else:
            logger.warning("not ready: %s", problem)
        self._reported = problem


Ping = Callable[[], Awaitable[None]]


async def check_store(readiness: Readiness, ping: Ping, *, timeout_s: float) -> None:
    """One bounded ping; its outcome goes into `readiness`."""
    try:
        async with asyncio.timeout(timeout_s):
            await ping()
    except TimeoutError:
        readiness.store_failed(f"a ping got no answer within {timeout_s:g}s")
    except Exception as exc:  # whatever the store or the driver raise, it did not answer
        readiness.store_failed(f"a ping failed: {str(exc) or type(exc).__name__}")
    else:
        readiness.store_answered()
    readiness.log_change()


async def watch_store(readiness: Readiness, ping: Ping) -> None:
    """Ping the store every PING_INTERVAL_S, for as long as the application runs."""
    while True:
        await asyncio.sleep(PING_INTERVAL_S)
        await check_store(readiness, ping, timeout_s=PING_TIMEOUT_S)


READINESS = web.AppKey("image_service.readiness", Readiness)


async def readiness_ctx(app: web.Application) -> AsyncIterator[None]:
    """Checks the store once before serving (so the first /readyz is already truthful), then in
    the background until shutdown."""
    readiness = app[READINESS]
    ping = app[IMAGES].ready
    await check_store(readiness, ping, timeout_s=PING_TIMEOUT_S)
    watcher = asyncio.create_task(watch_store(readiness, ping))
    yield
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
