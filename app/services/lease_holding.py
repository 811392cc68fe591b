"""Holding a lease while work runs: renewed every third of its time to live; when another
replica has taken it over, the work is cancelled and leaves as LostLease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from storage.errors import StorageError
from storage.leases import LeaseRepository

logger = logging.getLogger(__name__)


class LostLease(Exception):
    """Another replica took the lease over; this one stopped its work."""


@contextlib.asynccontextmanager
async def holding_lease(
    leases: LeaseRepository,
    job: str,
    owner: str,
    *,
    ttl: timedelta,
    clock: Callable[[], datetime],
) -> AsyncIterator[None]:
    """Around work done under a lease already acquired: renews it until the work ends.

    Raises:
        LostLease: the lease went to another owner; the work was cancelled.
    """
    work = asyncio.current_task()
    assert work is not None

    async def renew() -> None:
        while True:
            await asyncio.sleep(ttl.total_seconds() / 3)
            try:
                held = await leases.acquire(job, owner, ttl=ttl, now=clock())
            except StorageError as exc:
                logger.warning("lease %s not renewed: %s", job, exc)  # try again next time
                continue
            if not held:
                logger.warning("lease %s lost to another replica; stopping its work", job)
                work.cancel()
                return

    renewer = asyncio.create_task(renew())
    try:
        yield
    except asyncio.CancelledError:
        if renewer.done() and not renewer.cancelled():
            work.uncancel()
            raise LostLease() from None
        raise
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError, StorageError):
            await renewer
