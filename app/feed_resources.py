"""The feed loop as a cleanup context: status for /metrics and /readyz in every replica, and
the periodic sync when IMAGE_SERVICE_VULNDB_SYNC_INTERVAL is set."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from app.composition import rematch_stored_images
from app.feed_metrics import FeedStatusCollector
from app.keys import DB, SETTINGS
from app.metrics import METRICS
from app.osv_archives import OsvArchives
from app.readiness import READINESS
from app.resources import owner_id
from app.services.feed_schedule import ScheduledFeedSync
from app.services.feed_status import FeedStatus
from app.services.feed_sync import FeedSync
from app.workers.feed_sync import run_feed_loop
from storage.feed_syncs import FeedSyncRepository
from storage.leases import LeaseRepository
from storage.vulnerabilities import VulnerabilityRepository


async def feed_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, db = app[SETTINGS], app[DB]
    timeout = settings.query_timeout_ms
    syncs = FeedSyncRepository(db, max_time_ms=timeout)
    status = FeedStatus(
        feeds=VulnerabilityRepository(db, max_time_ms=timeout),
        syncs=syncs,
        max_age_s=settings.vulndb_max_age_s,
    )
    app[METRICS].registry.register(FeedStatusCollector(status))
    app[READINESS].add_warnings(status.warnings)
    source = scheduled = None
    if settings.vulndb_sync_interval_s > 0:
        source = OsvArchives.from_settings(settings)
        scheduled = ScheduledFeedSync(
            sync=FeedSync(
                db=db, source=source, ecosystems=settings.vulndb_ecosystems, max_time_ms=timeout
            ),
            syncs=syncs,
            leases=LeaseRepository(db),
            rematch=lambda: rematch_stored_images(db, settings),
            owner=owner_id(),
            interval=timedelta(seconds=settings.vulndb_sync_interval_s),
            lease_ttl=timedelta(seconds=settings.lease_ttl_s),
        )
    loop = asyncio.create_task(
        run_feed_loop(status, scheduled, interval_s=settings.vulndb_sync_interval_s)
    )
    try:
        yield
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        if scheduled is not None:
            await scheduled.release()
        if source is not None:
            await source.close()
