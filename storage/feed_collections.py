"""Whole-collection work of a feed import: content hashes, upserts of what changed, deletion of
what a complete feed no longer holds, the version digest, and copying a generation."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
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


# What an import writes: documents one by one, from a plain or an asynchronous iterable (a
# caller that reads and parses a feed can do that off the event loop).
Rows = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]


async def _each(rows: Rows) -> AsyncIterator[Mapping[str, Any]]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


async def write_rows(
    collection: AsyncCollection[Doc],
    rows: Rows,
    id_of: Callable[[Mapping[str, Any]], str],
    *,
    also: Callable[[Doc], None] = lambda doc: None,
) -> tuple[tuple[int, int, int], set[str]]:
    """Every row stored under its id with its content hash, written in batches where it
    changed; `also` sees each stored row. Returns (inserted, updated, unchanged) and the ids
    written (a row that appears twice: the last one wins)."""
    seen: set[str] = set()
    totals = (0, 0, 0)
    batch: dict[str, Doc] = {}

    async def write() -> None:
        nonlocal totals
        counts = await write_changed(collection, batch)
        totals = (totals[0] + counts[0], totals[1] + counts[1], totals[2] + counts[2])
        seen.update(batch)
        batch.clear()

    async for row in _each(rows):
        stored = {**row, "_id": id_of(row)}
        stored["hash"] = content_hash(stored)
        batch[stored["_id"]] = stored
        also(stored)
        if len(batch) >= BATCH:
            await write()
    await write()
    return totals, seen


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
