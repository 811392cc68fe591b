"""One round of the rescan loop: watched names whose tag moved, or whose feed changed.

One replica at a time leads (a lease in MongoDB, renewed while it works). Each name is
also claimed on its own by moving its next check forward atomically, so even a leader
change in the middle of a round never rescans a name twice in one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.errors import ResourceExhausted, ServiceError
from app.scanner.errors import ScanError
from app.scanner.reference import InvalidReference, parse_reference
from app.services.lease_holding import LostLease, holding_lease
from app.services.rematching import Rematcher
from app.services.scanning import ScanService
from storage.errors import StorageError
from storage.leases import LeaseRepository
from storage.watched import WatchedImage, WatchedImageRepository

logger = logging.getLogger(__name__)

LEASE = "rescan-watched-images"
_BATCH = 500


@dataclass(slots=True)
class RoundReport:
    led: bool = False
    checked: int = 0
    rescanned: int = 0
    failed: int = 0
    rematched: int = 0


class RescanService:
    def __init__(
        self,
        *,
        watched: WatchedImageRepository,
        leases: LeaseRepository,
        scans: ScanService,
        rematcher: Rematcher,
        owner: str,
        interval: timedelta,
        lease_ttl: timedelta,
        concurrency: int = 4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._watched = watched
        self._leases = leases
        self._scans = scans
        self._rematcher = rematcher
        self.owner = owner
        self._interval = interval
        self._lease_ttl = lease_ttl
        self._concurrency = concurrency
        self._clock = clock
        self.rescans = 0  # names rescanned by this process (tag moved or feed changed)

    async def run_round(self) -> RoundReport:
        report = RoundReport()
        if not await self._leases.acquire(
            LEASE, self.owner, ttl=self._lease_ttl, now=self._clock()
        ):
            return report
        report.led = True
        with contextlib.suppress(LostLease):
            async with holding_lease(
                self._leases, LEASE, self.owner, ttl=self._lease_ttl, clock=self._clock
            ):
                await self._check_due(report)
                # a feed import re-matches stored images itself; this catches any it missed
                # (an import stopped before it re-matched), so stored results never stay stale
                report.rematched = await self._rematcher.rematch_all()
        if report.checked or report.rematched:
            logger.info(
                "rescan round: %d checked, %d rescanned, %d failed, %d re-matched",
                report.checked,
                report.rescanned,
                report.failed,
                report.rematched,
            )
        return report

    async def release(self) -> None:
        """Give leadership up (shutdown), so another replica need not wait for expiry."""
        with contextlib.suppress(StorageError):
            await self._leases.release(LEASE, self.owner)

    async def _check_due(self, report: RoundReport) -> None:
        slots = asyncio.Semaphore(self._concurrency)
        now = self._clock()
        due = await self._watched.due(now, limit=_BATCH)

        async def check(entry: WatchedImage) -> None:
            async with slots:
                # jittered, so that names watched together drift apart
                until = now + self._interval * random.uniform(0.9, 1.1)  # noqa: S311
                if not await self._watched.claim(entry.name, now=now, until=until):
                    return  # another replica has it
                report.checked += 1
                try:
                    await self._check(entry, report)
                except StorageError as exc:  # one name's trouble must not end the round
                    report.failed += 1
                    logger.warning("rescan of %s failed: %s", entry.name, exc)
                    with contextlib.suppress(StorageError):
                        await self._watched.record_check(
                            entry.name, checked=self._clock(), digest=entry.digest, error=str(exc)
                        )

        await asyncio.gather(*(check(entry) for entry in due))

    async def _check(self, entry: WatchedImage, report: RoundReport) -> None:
        checked = self._clock()
        try:
            reference = parse_reference(entry.name)
            digest = await self._scans.current_digest(reference)
            moved = digest != entry.digest
            result = await self._scans.scan(
                reference, refresh_metadata=moved, expected_digest=digest
            )
        except ResourceExhausted as exc:
            # our own scan slots are busy with users: try again soon, not in an interval
            retry = timedelta(seconds=exc.retry_after or 5.0)
            await self._watched.postpone(entry.name, until=self._clock() + retry)
            return
        except (ServiceError, ScanError, InvalidReference) as exc:
            report.failed += 1
            message = str(exc)
            logger.warning("rescan of %s failed: %s", entry.name, message)
            await self._watched.record_check(
                entry.name, checked=checked, digest=entry.digest, error=message
            )
            return
        if result.how != "reused":
            report.rescanned += 1
            self.rescans += 1
        await self._watched.record_check(
            entry.name, checked=checked, digest=result.top_digest, error=""
        )
