"""Live image priorities: the dense rank of each image's risk score among all images."""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

logger = logging.getLogger(__name__)


class RiskRanker:
    """Caches the distinct risk scores; a priority is a binary search, never a query.

    Stale-while-revalidate: only the first load is awaited. Afterwards, once the list is
    older than `ttl_s` (or marked stale by a write), requests keep using it while one
    background refresh runs, so no request waits on a scan of the scores. Scores written by
    this process are inserted at once; writes by other replicas show after at most `ttl_s`.
    """

    def __init__(
        self,
        load: Callable[[], Awaitable[list[float]]],
        *,
        ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._clock = clock
        self._ascending: list[float] = []
        self._loaded_at: float | None = None
        self._stale = False
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    def invalidate(self) -> None:
        """Refresh soon (after deletes, or merges that kept older scores)."""
        self._stale = True

    def add(self, scores: Iterable[float]) -> None:
        """Scores just written here count at once."""
        for score in scores:
            index = bisect.bisect_left(self._ascending, score)
            if index == len(self._ascending) or self._ascending[index] != score:
                self._ascending.insert(index, score)

    async def _refresh(self) -> None:
        scores = sorted(set(await self._load()))
        self._ascending, self._loaded_at, self._stale = scores, self._clock(), False

    async def _refresh_in_background(self) -> None:
        try:
            await self._refresh()
        except Exception:  # the next request tries again; the old list stays in use
            logger.warning("refreshing risk ranks failed", exc_info=True)
        finally:
            self._refreshing = None

    def _cached(self) -> list[float] | None:
        """The scores without awaiting (starting a background refresh when due); None before
        the first load."""
        if self._loaded_at is None:
            return None
        if (self._stale or self._clock() - self._loaded_at >= self._ttl_s) and (
            self._refreshing is None
        ):
            self._refreshing = asyncio.create_task(self._refresh_in_background())
        return self._ascending

    async def _scores(self) -> list[float]:
        cached = self._cached()
        if cached is not None:
            return cached
        async with self._lock:
            if self._loaded_at is None:
                await self._refresh()
        return self._ascending

    async def scores_desc(self) -> Sequence[float]:
        """Distinct risk scores, highest first."""
        return list(reversed(await self._scores()))

    async def ranker(self) -> Callable[[float], int]:
        """A function from a risk score to its priority (1 = riskiest)."""
        ascending = self._cached()
        if ascending is None:  # awaited once, for the first load
            ascending = await self._scores()
        total = len(ascending)

        def priority(score: float) -> int:
            return total - bisect.bisect_right(ascending, score) + 1

        return priority
