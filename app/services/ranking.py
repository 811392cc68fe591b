"""Live image priorities: the dense rank of each image's risk score among all images."""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Awaitable, Callable, Sequence


class RiskRanker:
    """Caches the distinct risk scores for a short time; priority is a binary search.

    One read of the distinct scores serves every request for `ttl_s` seconds, so a
    priority never costs a query per image. Writes in this process invalidate the cache;
    writes by other replicas show after at most `ttl_s`.
    """

    def __init__(
        self,
        load: Callable[[], Awaitable[list[float]]],
        *,
        ttl_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._clock = clock
        self._ascending: list[float] = []
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._loaded_at = None

    async def _scores(self) -> list[float]:
        if self._fresh():
            return self._ascending
        async with self._lock:
            if not self._fresh():
                self._ascending = sorted(set(await self._load()))
                self._loaded_at = self._clock()
        return self._ascending

    def _fresh(self) -> bool:
        return self._loaded_at is not None and self._clock() - self._loaded_at < self._ttl_s

    async def scores_desc(self) -> Sequence[float]:
        """Distinct risk scores, highest first."""
        return list(reversed(await self._scores()))

    async def ranker(self) -> Callable[[float], int]:
        """A function from a risk score to its priority (1 = riskiest)."""
        ascending = await self._scores()
        total = len(ascending)

        def priority(score: float) -> int:
            return total - bisect.bisect_right(ascending, score) + 1

        return priority
