"""Images stored in an older layout of their derived copies (`_search`, `_sort`), rebuilt.

Every write stores the current layout (`LAYOUT_VERSION` under `_layout`). A document written
before a layout change lacks what queries and sorts now read, so it is rebuilt once: read whole,
its copies derived again, written back only if nobody wrote it in between (its `_rev`). Safe to
run again at any time, and from several replicas at once (the worker holds a lease so that one
does the work); a document that a newer version wrote is left alone.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import bson
from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from storage import documents
from storage.mongo import IMAGES, translated_errors
from storage.query.indexes import OBSOLETE_INDEXES
from storage.query.search_keys import LAYOUT, LAYOUT_VERSION, SEARCH
from storage.query.sort_keys import SORT

logger = logging.getLogger(__name__)

Doc = dict[str, Any]
# Older layouts: never written (before the version was stored), or a lower version.
STALE: tuple[dict[str, Any], ...] = (
    {LAYOUT: {"$exists": False}},
    {LAYOUT: {"$lt": LAYOUT_VERSION}},
)
# Documents read per batch, and the bytes after which a batch stops reading.
BATCH = 200
BATCH_BYTES = 8 << 20
_MAX_BYTES = 16 * 1024 * 1024


class LayoutRebuild:
    """Finds and rebuilds the images of the `images` collection stored in an older layout."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db
        self._images: AsyncCollection[Doc] = db[IMAGES]
        self._current = False

    async def stale(self) -> int:
        """How many documents are in an older layout (two index-served counts)."""
        total = 0
        async with translated_errors():
            for flt in STALE:
                # nx-27017: the count command, as ImageRepository.count; MongoDB would take
                # count_documents.
                reply = await self._db.command({"count": IMAGES, "query": dict(flt)})
                total += int(reply["n"])
        return total

    async def current(self) -> bool:
        """Whether no document is in an older layout; once True, True without asking again
        (every later write is in the current layout)."""
        if not self._current:
            self._current = await self.stale() == 0
        return self._current

    async def rebuild_batch(self) -> int:
        """Rebuild one batch of documents in an older layout; 0 when none is left."""
        for flt in STALE:
            docs = await self._read(flt)
            if docs:
                return await self._write(docs)
        self._current = True
        return 0

    async def drop_obsolete_indexes(self) -> None:
        """Drop indexes an earlier version created that nothing reads any more."""
        async with translated_errors():
            cursor = await self._images.list_indexes()
            names = {index["name"] async for index in cursor}
            for name in set(OBSOLETE_INDEXES) & names:
                try:
                    await self._images.drop_index(name)
                    logger.info("dropped the obsolete index %s", name)
                except OperationFailure as exc:
                    logger.warning("obsolete index %s not dropped: %s", name, exc)

    async def _read(self, flt: dict[str, Any]) -> list[Doc]:
        docs: list[Doc] = []
        size = 0
        # the old copies are rebuilt from the rest: no need to read them
        cursor = self._images.find(flt, {SEARCH: 0, SORT: 0}, limit=BATCH)
        try:
            async with translated_errors():
                async for doc in cursor:
                    docs.append(doc)
                    size += len(bson.encode(doc))
                    if size > BATCH_BYTES:
                        break
        finally:
            await cursor.close()
        return docs

    async def _write(self, docs: list[Doc]) -> int:
        ops: list[ReplaceOne[Doc] | UpdateOne] = []
        for doc in docs:
            rev = doc.get("_rev")
            rebuilt = documents.derive(dict(doc))
            rebuilt["_rev"] = secrets.token_hex(8)
            if len(bson.encode(rebuilt)) > _MAX_BYTES:
                # It cannot hold the new copies; marked so that the rebuild goes on without it.
                logger.error("image %s is too large for the current layout; left as is", doc["_id"])
                ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {LAYOUT: LAYOUT_VERSION}}))
                continue
            # only if nobody wrote it since it was read; a writer stores the current layout
            ops.append(ReplaceOne({"_id": doc["_id"], "_rev": rev}, rebuilt))
        async with translated_errors():
            await self._images.bulk_write(ops, ordered=False)
        return len(docs)
