"""The `watched_images` collection: names kept fresh by rescans."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage.mongo import WATCHED_IMAGES, guarded


@dataclass(frozen=True, slots=True)
class WatchedImage:
    name: str
    last_checked: datetime | None = None
    digest: str = ""
    error: str = ""


def _due(now: datetime) -> dict[str, Any]:
    return {"$or": [{"schedule.next": {"$exists": False}}, {"schedule.next": {"$lte": now}}]}


def _check(checked: datetime | None, digest: str, error: str) -> dict[str, Any]:
    return {"check": {"at": checked, "digest": digest, "error": error}}


class WatchedImageRepository:
    """Watched names, keyed by the normalized full name.

    `schedule.next` is when a rescan is due; claiming a name moves it forward atomically, so
    one name is rescanned by one process per interval however many are running. The last
    check's time, digest and error are `check.*`. Times are written as whole sub-documents
    (`$set` of `schedule`, `check`).
    nx-27017: a top-level date `$set` on an existing document is stored as a string, while dates
    inside a sub-document keep their type; MongoDB would take top-level dates set one by one.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_time_ms: int) -> None:
        self._watched: AsyncCollection[dict[str, Any]] = db[WATCHED_IMAGES]
        self._max_time_ms = max_time_ms

    async def list(self) -> list[WatchedImage]:
        async def run() -> list[WatchedImage]:
            cursor = self._watched.find({}, sort=[("_id", 1)], max_time_ms=self._max_time_ms)
            return [_record(doc) async for doc in cursor]

        return await guarded(run, timeout_ms=self._max_time_ms)

    async def get(self, name: str) -> WatchedImage | None:
        doc = await guarded(
            lambda: self._watched.find_one({"_id": name}, max_time_ms=self._max_time_ms),
            timeout_ms=self._max_time_ms,
        )
        return None if doc is None else _record(doc)

    async def add(
        self,
        name: str,
        *,
        digest: str = "",
        checked: datetime | None = None,
        next_check: datetime | None = None,
    ) -> None:
        """Record a watched name; idempotent."""
        schedule = {} if next_check is None else {"next": next_check}
        fields: dict[str, Any] = {**_check(checked, digest, ""), "schedule": schedule}
        await guarded(
            lambda: self._watched.update_one({"_id": name}, {"$set": fields}, upsert=True),
            timeout_ms=self._max_time_ms,
            write=True,
        )

    async def remove(self, name: str) -> None:
        """Forget a watched name (exact match); removing an unknown name is not an error."""
        await guarded(
            lambda: self._watched.delete_one({"_id": name}),
            timeout_ms=self._max_time_ms,
            write=True,
        )

    async def due(self, now: datetime, *, limit: int) -> builtins.list[WatchedImage]:
        """Names whose rescan is due, longest waiting first."""

        async def run() -> builtins.list[WatchedImage]:
            cursor = self._watched.find(
                _due(now), sort=[("check.at", 1)], limit=limit, max_time_ms=self._max_time_ms
            )
            return [_record(doc) async for doc in cursor]

        return await guarded(run, timeout_ms=self._max_time_ms)

    async def claim(self, name: str, *, now: datetime, until: datetime) -> bool:
        """Move a due name's next check to `until`; False if it was not due (claimed already)."""
        flt = {"_id": name, **_due(now)}
        result = await guarded(
            lambda: self._watched.update_one(flt, {"$set": {"schedule": {"next": until}}}),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        return result.modified_count == 1

    async def postpone(self, name: str, *, until: datetime) -> None:
        """Bring a claimed name's next check back to `until` (its check could not run)."""
        await guarded(
            lambda: self._watched.update_one(
                {"_id": name}, {"$set": {"schedule": {"next": until}}}
            ),
            timeout_ms=self._max_time_ms,
            write=True,
        )

    async def record_check(self, name: str, *, checked: datetime, digest: str, error: str) -> None:
        """Store a check's outcome; a name unwatched meanwhile stays unwatched."""
        fields = _check(checked, digest, error)
        await guarded(
            lambda: self._watched.update_one({"_id": name}, {"$set": fields}),
            timeout_ms=self._max_time_ms,
            write=True,
        )


def _record(doc: dict[str, Any]) -> WatchedImage:
    check = doc.get("check") or {}
    return WatchedImage(
        name=doc["_id"],
        last_checked=check.get("at"),
        digest=check.get("digest") or "",
        error=check.get("error") or "",
    )
