"""Long-lived resources opened at start-up and closed at shutdown (cleanup contexts)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pymongo.asynchronous.database import AsyncDatabase

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
        created = await ensure_indexes(app[DB])
        logger.info("database %s ready (%d indexes ensured)", app[DB].name, len(created))
        yield
        if client is not None:
            await client.close()

    return ctx


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
