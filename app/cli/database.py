"""The database a command works on: MONGODB_URI's, with its indexes, closed when done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings
from storage.mongo import ensure_indexes, open_client


@asynccontextmanager
async def command_database(settings: Settings) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """The configured database with its indexes ensured; the client is closed on the way out.

    Raises the driver's or storage's errors, from ensuring the indexes or from the body.
    """
    client = open_client(settings.mongodb_uri, timeout_ms=settings.mongo_connect_timeout_ms)
    try:
        db = client[settings.database]
        await ensure_indexes(db)
        yield db
    finally:
        await client.close()
