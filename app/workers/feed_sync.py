"""The feed loop: in every replica, reads how current the feed is (for /metrics and /readyz);
when a sync interval is set, also runs a sync round (one replica leads, see feed_schedule)."""

from __future__ import annotations

import asyncio
import logging
import random

from app.services.feed_schedule import ScheduledFeedSync
from app.services.feed_status import FeedStatus
from app.workers.rescan import poll_period_s
from app.workers.rounds import logged_round
from storage.errors import StorageError

logger = logging.getLogger(__name__)

STATUS_PERIOD_S = 30.0  # how often the feed's state is read again
_FIRST_JITTER_S = 1.0
_JITTER = 0.2


async def run_feed_loop(
    status: FeedStatus, scheduled: ScheduledFeedSync | None, *, interval_s: float
) -> None:
    """Forever: a round (if scheduled), then the status read again; errors are logged and the
    loop goes on. Cancel to stop."""
    period = STATUS_PERIOD_S
    if scheduled is not None:
        period = min(period, poll_period_s(interval_s))
        # replicas started together must not poll in lockstep
        await asyncio.sleep(random.uniform(0, min(period, _FIRST_JITTER_S)))  # noqa: S311
    while True:
        if scheduled is not None:
            await logged_round(scheduled.run_round, "feed sync round", logger)
        try:
            await status.refresh()
        except StorageError as exc:
            logger.warning("feed status not read: %s", exc)
        await asyncio.sleep(period * random.uniform(1 - _JITTER, 1 + _JITTER))  # noqa: S311
