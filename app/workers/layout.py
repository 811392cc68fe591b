"""The layout rebuild at start-up: images stored in an older layout get their copies rebuilt.

One replica rebuilds (it holds a lease, renewed after each batch); the others wait until no
document is left in an older layout. Every replica calls `done` then, once: readiness waits for
it, since queries and sorts read the copies a stale document lacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage.errors import StorageError
from storage.layout import LayoutRebuild
from storage.leases import LeaseRepository

logger = logging.getLogger(__name__)

JOB = "layout-rebuild"
LEASE_TTL = timedelta(seconds=60)
POLL_S = 2.0


async def run_layout_rebuild(
    rebuild: LayoutRebuild,
    leases: LeaseRepository,
    *,
    owner: str,
    done: Callable[[], None],
    poll_s: float = POLL_S,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Rebuild (or wait for another replica to rebuild) until no document is stale, then call
    `done`. Store errors are logged and retried; cancel to stop."""
    while True:
        try:
            if await rebuild.current():
                break
            if await leases.acquire(JOB, owner, ttl=LEASE_TTL, now=clock()):
                await _rebuild_while_leading(rebuild, leases, owner, clock)
                continue
        except StorageError as exc:
            logger.warning("layout rebuild paused: %s", exc)
        await asyncio.sleep(poll_s)
    done()
    try:
        await leases.release(JOB, owner)
    except StorageError as exc:
        logger.warning("layout rebuild lease not released (it expires): %s", exc)


async def _rebuild_while_leading(
    rebuild: LayoutRebuild, leases: LeaseRepository, owner: str, clock: Callable[[], datetime]
) -> None:
    stale = await rebuild.stale()
    logger.info("rebuilding %d images stored in an older layout", stale)
    await rebuild.drop_obsolete_indexes()
    rebuilt = 0
    while count := await rebuild.rebuild_batch():
        rebuilt += count
        if not await leases.acquire(JOB, owner, ttl=LEASE_TTL, now=clock()):
            logger.info("layout rebuild taken over by another replica after %d images", rebuilt)
            return
    logger.info("layout rebuild done: %d images rebuilt", rebuilt)
