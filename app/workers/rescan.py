"""The rescan loop: wakes up now and then (jittered) and runs a round if due."""

from __future__ import annotations

import asyncio
import logging
import random

from app.services.rescan import RescanService
from app.workers.rounds import logged_round

logger = logging.getLogger(__name__)

_MIN_POLL_S = 0.05
_MAX_POLL_S = 60.0
_JITTER = 0.2


def poll_period_s(interval_s: float) -> float:
    """How often to look for due names: a quarter of the interval, within bounds."""
    return min(_MAX_POLL_S, max(_MIN_POLL_S, interval_s / 4))


async def run_rescans(service: RescanService, *, interval_s: float) -> None:
    """Run rounds forever; errors are logged and the loop goes on. Cancel to stop."""
    period = poll_period_s(interval_s)
    # replicas started together must not poll in lockstep
    await asyncio.sleep(random.uniform(0, period))  # noqa: S311
    while True:
        await logged_round(service.run_round, "rescan round", logger)
        await asyncio.sleep(period * random.uniform(1 - _JITTER, 1 + _JITTER))  # noqa: S311
