"""Long-lived resources opened at start-up and closed at shutdown (cleanup contexts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from app.config import Settings
from app.keys import DB, IMAGES, METADATA_CACHE, SETTINGS, WATCHES
from app.services.images import ImageService
from app.services.metadata_cache import MetadataCache
from app.services.ranking import RiskRanker
from app.services.watched import WatchService
from storage.images import ImageRepository
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
        if not await _try_indexes(app[DB]):
            # Serve anyway (readiness reports the database); indexes follow when it answers.
            retry = asyncio.create_task(_retry_indexes(app[DB]))
        yield
        if retry is not None:
            retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retry
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


async def _retry_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # polling an external server until it answers; nothing in-process could signal it
    while not await _try_indexes(db):  # noqa: ASYNC110
        await asyncio.sleep(INDEX_RETRY_S)


def build_image_service(db: AsyncDatabase[dict[str, Any]], settings: Settings) -> ImageService:
    repo = ImageRepository(db, max_time_ms=settings.query_timeout_ms)
    return ImageService(
        repo=repo,
        ranker=RiskRanker(repo.distinct_risk_scores),
        regex_max_length=settings.regex_max_length,
    )


async def services_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the services on top of the open database."""
    settings = app[SETTINGS]
    app[IMAGES] = build_image_service(app[DB], settings)
    watched = WatchedImageRepository(app[DB], max_time_ms=settings.query_timeout_ms)
    app[WATCHES] = WatchService(repo=watched)
    app[METADATA_CACHE] = MetadataCache()
    yield
