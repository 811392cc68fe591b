"""When each CVE was first seen in any image (`cve_first_seen`): upstream's
`firstSystemOccurrence`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage.mongo import CVE_FIRST_SEEN, guarded

Doc = dict[str, Any]
_BATCH = 500  # CVEs per bulk write and per `$in`


class CveSightingRepository:
    def __init__(self, db: AsyncDatabase[Doc], *, max_time_ms: int) -> None:
        self._first_seen: AsyncCollection[Doc] = db[CVE_FIRST_SEEN]
        self._max_time_ms = max_time_ms

    async def first_seen(self, cves: Iterable[str], *, now: datetime) -> dict[str, datetime]:
        """When each CVE was first seen in any image: recorded as `now` for those never seen."""
        wanted = sorted(set(cves))
        seen: dict[str, datetime] = {}
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            ops = [UpdateOne({"_id": c}, {"$setOnInsert": {"at": now}}, upsert=True) for c in chunk]
            await guarded(
                lambda ops=ops: self._first_seen.bulk_write(ops, ordered=False),  # type: ignore[misc]
                timeout_ms=self._max_time_ms,
                write=True,
            )

            async def run(chunk: list[str] = chunk) -> list[Doc]:
                cursor = self._first_seen.find(
                    {"_id": {"$in": chunk}}, max_time_ms=self._max_time_ms
                )
                return [doc async for doc in cursor]

            for doc in await guarded(run, timeout_ms=self._max_time_ms):
                stamp: datetime = doc["at"]
                seen[doc["_id"]] = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
        return seen
