"""Whole-collection work of a feed import: content hashes, upserts of what changed, deletion of
what a complete feed no longer holds, the version digest, and copying a generation."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from pymongo import ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from storage.mongo import deadline_after, delete_by_ids, guarded, translated_errors

Doc = dict[str, Any]

BATCH = 500  # documents per bulk write, ids per `$in`
# Imports scan and write the whole collection; a lookup's limit would be too tight for that.
IMPORT_TIME_MS = 600_000
_MASK = (1 << 256) - 1


def content_hash(doc: Mapping[str, Any]) -> str:
    """A digest of an advisory's content (its id and hash fields aside)."""
    body = {k: v for k, v in doc.items() if k not in ("_id", "hash")}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def write_changed(
    collection: AsyncCollection[Doc], batch: dict[str, Doc]
) -> tuple[int, int, int]:
    """Upsert the documents whose hash changed; returns (inserted, updated, unchanged)."""
    if not batch:
        return 0, 0, 0
    ids = list(batch)

    async def current() -> dict[str, str]:
        cursor = collection.find({"_id": {"$in": ids}}, {"hash": 1}, max_time_ms=IMPORT_TIME_MS)
        return {doc["_id"]: doc.get("hash", "") async for doc in cursor}

    hashes = await guarded(current, timeout_ms=IMPORT_TIME_MS)
    changed = [doc for i, doc in batch.items() if hashes.get(i) != doc["hash"]]
    if changed:
        ops = [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in changed]
        await guarded(
            lambda: collection.bulk_write(ops, ordered=False),
            timeout_ms=IMPORT_TIME_MS,
            write=True,
        )
    inserted = sum(1 for doc in changed if doc["_id"] not in hashes)
    return inserted, len(changed) - inserted, len(batch) - len(changed)


async def delete_unseen(
    collection: AsyncCollection[Doc],
    flt: Doc,
    seen: set[str],
    *,
    also: Callable[[Doc], bool] = lambda _: True,
) -> int:
    """Delete the documents matching `flt` (and `also`, given `_id` and `ecosystems`) whose id
    is not in `seen`."""

    async def stale() -> list[str]:
        cursor = collection.find(flt, {"ecosystems": 1}, max_time_ms=IMPORT_TIME_MS)
        return [doc["_id"] async for doc in cursor if doc["_id"] not in seen and also(doc)]

    ids = await guarded(stale, timeout_ms=IMPORT_TIME_MS)
    return await delete_by_ids(collection, ids, batch=BATCH, timeout_ms=IMPORT_TIME_MS)


async def summarize(
    vulns: AsyncCollection[Doc], scores: AsyncCollection[Doc]
) -> tuple[str, dict[str, int]]:
    """The feed version and per-ecosystem counts, from one pass over the advisories and one
    over the score rows.

    The version sums a digest per (id, hash) pair: the order documents come in does not
    matter, and nothing is sorted or held in memory.
    """
    total = 0
    counts: dict[str, int] = {}
    for collection in (vulns, scores):
        cursor = collection.find(
            {}, {"hash": 1, "ecosystem": 1}, batch_size=2000, max_time_ms=IMPORT_TIME_MS
        )
        try:
            async with translated_errors(
                until=deadline_after(IMPORT_TIME_MS), timeout_ms=IMPORT_TIME_MS
            ):
                async for doc in cursor:
                    pair = f"{doc['_id']}\0{doc.get('hash', '')}".encode()
                    total = (total + int.from_bytes(hashlib.sha256(pair).digest())) & _MASK
                    if collection is vulns:
                        counts[doc["ecosystem"]] = counts.get(doc["ecosystem"], 0) + 1
        finally:
            await cursor.close()
    return f"{total:064x}", counts


async def copy_collection(source: AsyncCollection[Doc], target: AsyncCollection[Doc]) -> None:
    """Every document of `source` inserted into `target`, a batch at a time."""
    cursor = source.find({}, batch_size=2000, max_time_ms=IMPORT_TIME_MS)
    batch: list[Doc] = []
    try:
        async with translated_errors(
            until=deadline_after(IMPORT_TIME_MS), timeout_ms=IMPORT_TIME_MS
        ):
            async for doc in cursor:
                batch.append(doc)
                if len(batch) >= BATCH:
                    await target.insert_many(batch, ordered=False)
                    batch = []
            if batch:
                await target.insert_many(batch, ordered=False)
    finally:
        await cursor.close()
