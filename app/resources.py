"""Long-lived resources opened at start-up and closed at shutdown (cleanup contexts)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from app.auth.oidc import OidcVerifier
from app.composition import build_access, build_images, build_matcher, layer_analysis, scan_limits
from app.keys import ACCESS, DB, IMAGES, OIDC, RESCANS, SCANS, SETTINGS, WATCHES
from app.metrics import METRICS, register_counters
from app.readiness import INDEXES, READINESS, Readiness
from app.scanner.registry import RegistryClient
from app.services.caches import TtlCache
from app.services.rematching import Rematcher
from app.services.rescan import RescanService
from app.services.scanning import ScanService
from app.services.watched import WatchService
from app.workers.layout import run_layout_rebuild
from app.workers.rescan import run_rescans
from schemas.image import normalize_image
from storage.errors import StorageError
from storage.layout import LayoutRebuild
from storage.leases import LeaseRepository
from storage.mongo import ensure_indexes, open_client
from storage.watched import WatchedImageRepository

logger = logging.getLogger(__name__)


def mongo_ctx(db: AsyncDatabase[dict[str, Any]] | None = None) -> Any:
    """Open the MongoDB client from settings, or use the database given (tests)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        client = None
        if db is None:
            client = open_client(settings.mongodb_uri, timeout_ms=settings.mongo_connect_timeout_ms)
            app[DB] = client[settings.database]
        else:
            app[DB] = db
        retry = None
        readiness = app[READINESS]
        readiness.begin(INDEXES, "the indexes are not created yet")
        if await _try_indexes(app[DB]):
            readiness.end(INDEXES)
        else:
            # Serve anyway, not ready; indexes follow when the database answers.
            retry = asyncio.create_task(_retry_indexes(app[DB], readiness))
        layout = await _start_layout_rebuild(app[DB], readiness, ask_now=retry is None)
        yield
        for task in (retry, layout):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if client is not None:
            await client.close()

    return ctx


INDEX_RETRY_S = 10.0


async def _try_indexes(db: AsyncDatabase[dict[str, Any]]) -> bool:
    try:
        created = await ensure_indexes(db)
    except PyMongoError as exc:
        logger.warning("indexes not ensured, the database is not answering: %s", exc)
        return False
    logger.info("database %s ready (%d indexes ensured)", db.name, len(created))
    return True


async def _retry_indexes(db: AsyncDatabase[dict[str, Any]], readiness: Readiness) -> None:
    # polling an external server until it answers; nothing in-process could signal it
    while not await _try_indexes(db):  # noqa: ASYNC110
        await asyncio.sleep(INDEX_RETRY_S)
    readiness.end(INDEXES)


# Start-up work (see `Readiness.begin`): images stored in an older layout being rebuilt.
LAYOUT = "layout"


async def _start_layout_rebuild(
    db: AsyncDatabase[dict[str, Any]], readiness: Readiness, *, ask_now: bool
) -> asyncio.Task[None] | None:
    """Nothing when every image is in the current layout (asked at once while the database
    answers); otherwise the rebuild in the background, not ready until it ends."""
    rebuild = LayoutRebuild(db)
    try:
        if ask_now and await rebuild.current():
            return None
    except StorageError as exc:
        logger.warning("stored layout not checked, the database is not answering: %s", exc)
    readiness.begin(LAYOUT, "images stored by an earlier version are being rebuilt")
    return asyncio.create_task(
        run_layout_rebuild(
            rebuild, LeaseRepository(db), owner=owner_id(), done=lambda: readiness.end(LAYOUT)
        )
    )


def owner_id() -> str:
    """Who holds a lease: this host and process, unique across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def access_ctx(app: web.Application) -> AsyncIterator[None]:
    """Tokens and roles on the open database; the OIDC verifier when issuers are configured."""
    settings = app[SETTINGS]
    app[ACCESS] = build_access(app[DB], settings)
    verifier = None
    if settings.oidc_issuers:
        app[OIDC] = verifier = OidcVerifier(settings.oidc_issuers)
    yield
    if verifier is not None:
        await verifier.close()


async def services_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the services on top of the open database; run the rescan loop."""
    settings = app[SETTINGS]
    db = app[DB]
    images, repo = build_images(db, settings)
    app[IMAGES] = images
    interval = timedelta(seconds=settings.reprocess_interval_s or 4 * 3600.0)
    matcher = build_matcher(db, settings)
    rematcher = Rematcher(images=images, repo=repo, matcher=matcher, normalize=normalize_image)
    analysis = layer_analysis(settings)
    async with RegistryClient(settings.registry) as registry:
        scans = ScanService(
            images=images,
            repo=repo,
            registry=registry,
            matcher=matcher,
            metadata_cache=TtlCache(),
            rematcher=rematcher,
            normalize=normalize_image,
            limits=scan_limits(settings),
            analysis=analysis,
        )
        app[SCANS] = scans
        watched = WatchedImageRepository(db, max_time_ms=settings.query_timeout_ms)
        app[WATCHES] = WatchService(repo=watched, scans=scans, interval=interval)
        app[RESCANS] = rescans = RescanService(
            watched=watched,
            leases=LeaseRepository(db),
            scans=scans,
            rematcher=rematcher,
            owner=owner_id(),
            interval=interval,
            lease_ttl=timedelta(seconds=settings.lease_ttl_s),
        )
        register_counters(
            app[METRICS],
            "image_service_scanner",
            lambda: {
                **dataclasses.asdict(scans.stats),
                "watched_rescans": rescans.rescans,
                **analysis.counters(),
            },
        )
        loop = None
        if settings.reprocess_interval_s > 0:
            loop = asyncio.create_task(
                run_rescans(rescans, interval_s=settings.reprocess_interval_s)
            )
        try:
            yield
        finally:
            if loop is not None:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
                await rescans.release()
            await scans.close()
            await analysis.close()  # the scans are stopped: no worker is busy any more
