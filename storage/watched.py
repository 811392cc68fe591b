"""The `watched_images` collection: names kept fresh by rescans."""

from __future__ import annotations

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


class WatchedImageRepository:
    """Watched names, keyed by the normalized full name."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_time_ms: int) -> None:
        self._watched: AsyncCollection[dict[str, Any]] = db[WATCHED_IMAGES]
        self._max_time_ms = max_time_ms

    async def list(self) -> list[WatchedImage]:
        async def run() -> list[WatchedImage]:
            cursor = self._watched.find({}, sort=[("_id", 1)], max_time_ms=self._max_time_ms)
            return [_record(doc) async for doc in cursor]

        return await guarded(run)

    async def add(self, name: str, *, digest: str = "", checked: datetime | None = None) -> None:
        """Record a watched name; idempotent."""
        fields: dict[str, Any] = {"digest": digest, "lastChecked": checked, "error": ""}
        await guarded(
            lambda: self._watched.update_one({"_id": name}, {"$set": fields}, upsert=True)
        )

    async def remove(self, name: str) -> None:
        """Forget a watched name (exact match); removing an unknown name is not an error."""
        await guarded(lambda: self._watched.delete_one({"_id": name}))


def _record(doc: dict[str, Any]) -> WatchedImage:
    return WatchedImage(
        name=doc["_id"],
        last_checked=doc.get("lastChecked"),
        digest=doc.get("digest") or "",
        error=doc.get("error") or "",
    )
