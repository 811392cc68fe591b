"""Upserts of image documents by id, merged by upstream's rules, safe against concurrent
writers: each write carries a fresh revision token and only replaces the revision it read."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import bson
from pymongo import InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from storage import documents
from storage.errors import ConcurrentUpdate, DocumentTooLarge
from storage.mongo import guarded

Doc = dict[str, Any]
Write = InsertOne[Doc] | ReplaceOne[Doc]

# Each round one writer of a contended document wins; the rest merge again after a jittered pause.
_MAX_RETRIES = 16
# MongoDB's document limit; checked here so that every store refuses the same images.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_RETRY_PAUSE_S = 0.005
# An upsert gets one deadline per this much BSON written: a request body's worth gets one, an
# import's large batch proportionally more instead of being cut off like a stuck request.
_BYTES_PER_DEADLINE = 1 << 20


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int


async def upsert_images(
    collection: AsyncCollection[Doc],
    images: Sequence[Doc],
    *,
    now: datetime,
    keep_last_updated: bool = False,
    timeout_ms: int,
) -> UpsertResult:
    """Insert or merge canonical images by id, following upstream's merge rules.

    `lastUpdated` becomes `now`, unless `keep_last_updated` and the image carries one (an
    import restores recorded state). Concurrent writers are detected by a revision number and
    retried. Each store operation runs under `timeout_ms` per MiB written.

    Raises:
        DocumentTooLarge: an image is over MongoDB's document limit; nothing is written.
        ConcurrentUpdate: when an image kept changing over several retries.
    """
    pending: dict[str, Doc] = {}
    for image in images:
        stamp = image.get("lastUpdated") if keep_last_updated else None
        doc = documents.to_stored(image, last_updated=stamp or now)
        earlier = pending.get(doc["_id"])
        pending[doc["_id"]] = documents.merge(doc, earlier) if earlier else doc
    size = 0
    for digest, doc in pending.items():  # checked before anything of the batch is written
        doc_bytes = len(bson.encode(doc))
        if doc_bytes > MAX_DOCUMENT_BYTES:
            raise DocumentTooLarge(
                f"image {digest} is too large to store (over 16 MiB with its search copies)"
            )
        size += doc_bytes
    timeout_ms *= 1 + size // _BYTES_PER_DEADLINE
    inserted = updated = 0
    for attempt in range(_MAX_RETRIES):
        if not pending:
            break
        if attempt:
            await asyncio.sleep(random.uniform(0, _RETRY_PAUSE_S * attempt))  # noqa: S311
        ins, upd, pending = await _write_round(collection, pending, timeout_ms)
        inserted += ins
        updated += upd
    if pending:
        raise ConcurrentUpdate(f"{len(pending)} images kept changing during the upsert")
    return UpsertResult(inserted, updated)


async def _write_round(
    collection: AsyncCollection[Doc], pending: dict[str, Doc], timeout_ms: int
) -> tuple[int, int, dict[str, Doc]]:
    """One optimistic write of every pending document; returns what must be retried."""
    stored = await _current(collection, list(pending), {"_search": 0, "_sort": 0}, timeout_ms)
    ops: list[Write] = []
    # A fresh token per write: after the bulk write, a document that does not carry our token
    # was written by someone else in between, and is merged again.
    written: dict[str, str] = {}
    for digest, doc in pending.items():
        token = written[digest] = secrets.token_hex(8)
        old = stored.get(digest)
        if old is None:
            ops.append(InsertOne({**doc, "_rev": token}))
            continue
        merged = documents.merge(doc, old)
        merged["_rev"] = token
        ops.append(ReplaceOne({"_id": digest, "_rev": old.get("_rev")}, merged))
    if await _bulk(collection, ops, timeout_ms):
        # every write took effect as we sent it: nothing to read back
        inserts = sum(isinstance(op, InsertOne) for op in ops)
        return inserts, len(ops) - inserts, {}
    after = await _current(collection, list(pending), {"_rev": 1}, timeout_ms)
    retry = {d: pending[d] for d, rev in written.items() if after.get(d, {}).get("_rev") != rev}
    inserted = sum(1 for d in written if d not in stored and d not in retry)
    updated = sum(1 for d in written if d in stored and d not in retry)
    return inserted, updated, retry


async def _bulk(collection: AsyncCollection[Doc], ops: Sequence[Write], timeout_ms: int) -> bool:
    """Write `ops`; True when each insert inserted and each replace matched its revision, i.e.
    every document now holds what we sent."""
    try:
        result = await guarded(
            lambda: collection.bulk_write(list(ops), ordered=False),
            timeout_ms=timeout_ms,
            write=True,
        )
    except Exception as exc:
        cause = exc.__cause__
        # A duplicate key means another writer inserted first: the revision check retries it.
        if not (isinstance(cause, BulkWriteError) and _only_duplicates(cause)):
            raise
        return False
    inserts = sum(isinstance(op, InsertOne) for op in ops)
    return result.inserted_count == inserts and result.matched_count == len(ops) - inserts


async def _current(
    collection: AsyncCollection[Doc], ids: list[str], projection: Mapping[str, int], timeout_ms: int
) -> dict[str, Doc]:
    if not ids:
        return {}

    async def run() -> dict[str, Doc]:
        cursor = collection.find({"_id": {"$in": ids}}, dict(projection), max_time_ms=timeout_ms)
        return {doc["_id"]: doc async for doc in cursor}

    return await guarded(run, timeout_ms=timeout_ms)


def _only_duplicates(error: BulkWriteError) -> bool:
    return all(e.get("code") == 11000 for e in error.details.get("writeErrors", []))
