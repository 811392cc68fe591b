"""How current the feed is, as every replica reports it: when the feed in force was imported
and each ecosystem's last sync, read from the database now and then (by the sync loop) so that
/metrics and /readyz answer from memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.feed_syncs import EcosystemSync, FeedSyncRepository
from storage.vulnerabilities import VulnerabilityRepository


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    imported_at: datetime | None  # None: no feed imported yet
    syncs: dict[str, EcosystemSync]  # by ecosystem


class FeedStatus:
    def __init__(
        self,
        *,
        feeds: VulnerabilityRepository,
        syncs: FeedSyncRepository,
        max_age_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._feeds = feeds
        self._syncs = syncs
        self._max_age_s = max_age_s
        self._clock = clock
        self.snapshot: FeedSnapshot | None = None  # None until read once

    async def refresh(self) -> None:
        """Read the feed record and the syncs again.

        Raises:
            StorageError: the database did not answer (the last snapshot stays).
        """
        feed = await self._feeds.get_feed()
        syncs = await self._syncs.ecosystems()
        self.snapshot = FeedSnapshot(None if feed is None else feed.imported_at, syncs)

    def age_s(self) -> float | None:
        """Seconds since the feed in force was imported; None when unknown or never."""
        if self.snapshot is None or self.snapshot.imported_at is None:
            return None
        return max(0.0, (self._clock() - self.snapshot.imported_at).total_seconds())

    def warnings(self) -> list[str]:
        """What /readyz says about the feed: older than the maximum age (when one is set)."""
        if self._max_age_s <= 0 or self.snapshot is None:
            return []
        age = self.age_s()
        limit = _duration(self._max_age_s)
        if age is None:
            return [f"no vulnerability feed has been imported (maximum age {limit})"]
        if age > self._max_age_s:
            return [f"the vulnerability feed was imported {_duration(age)} ago, over {limit}"]
        return []


_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _duration(seconds: float) -> str:
    """`2d 3h`, `5h`, `12m 30s`, `40s`: the largest unit, and the next one unless it is 0."""
    whole = int(seconds)
    index = next((i for i, (_, size) in enumerate(_UNITS) if whole >= size), len(_UNITS) - 1)
    unit, size = _UNITS[index]
    text = f"{whole // size}{unit}"
    if index + 1 < len(_UNITS):
        next_unit, next_size = _UNITS[index + 1]
        if rest := whole % size // next_size:
            text += f" {rest}{next_unit}"
    return text
