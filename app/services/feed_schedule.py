"""The periodic feed sync: one replica at a time (a lease in MongoDB, renewed while it works)
runs a sync when the interval has passed since the last one began, whichever replica ran it,
then re-matches the stored images if the feed changed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from app.services.feed_sync import FeedSync, SyncReport
from app.services.lease_holding import LostLease, holding_lease
from storage.errors import StorageError
from storage.feed_syncs import FAILED, FeedSyncRepository
from storage.leases import LeaseRepository

logger = logging.getLogger(__name__)

LEASE = "vulndb-sync"


class ScheduledFeedSync:
    def __init__(
        self,
        *,
        sync: FeedSync,
        syncs: FeedSyncRepository,
        leases: LeaseRepository,
        rematch: Callable[[], Awaitable[int]],
        owner: str,
        interval: timedelta,
        lease_ttl: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sync = sync
        self._syncs = syncs
        self._leases = leases
        self._rematch = rematch
        self.owner = owner
        self._interval = interval
        self._lease_ttl = lease_ttl
        self._clock = clock

    async def run_round(self) -> SyncReport | None:
        """The sync's report when this replica leads and a sync was due; None otherwise.

        Raises:
            StorageError: the database failed.
        """
        now = self._clock()
        if not await self._leases.acquire(LEASE, self.owner, ttl=self._lease_ttl, now=now):
            return None
        last = await self._syncs.last_round()
        if last is not None and now - last.started_at < self._interval:
            return None
        with contextlib.suppress(LostLease):
            async with holding_lease(
                self._leases, LEASE, self.owner, ttl=self._lease_ttl, clock=self._clock
            ):
                report = await self._sync.sync()
                rematched = await self._rematch() if report.changed else 0
                _log(report, rematched)
                return report
        return None

    async def release(self) -> None:
        """Give leadership up (shutdown), so another replica need not wait for expiry."""
        with contextlib.suppress(StorageError):
            await self._leases.release(LEASE, self.owner)


def _log(report: SyncReport, rematched: int) -> None:
    for result in report.results:
        if result.outcome == FAILED:
            logger.warning("feed sync: %s failed: %s", result.ecosystem, result.detail)
    outcomes = ", ".join(f"{r.ecosystem} {r.outcome}" for r in report.results)
    state = "changed" if report.changed else "unchanged"
    logger.info(
        "feed sync: %s; feed %s (%s), %d images re-matched",
        outcomes,
        report.feed_version or "(none)",
        state,
        rematched,
    )
