"""What the feed syncs did, in `vulndb_state` beside the feed record: per ecosystem, the last
attempt's outcome and the archive last imported (its validators and checksum); and the last
round as a whole (when it ran, and the feed version it left)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage.mongo import VULNDB_STATE, guarded

Doc = dict[str, Any]

OK = "ok"  # downloaded and imported
NOT_MODIFIED = "not-modified"  # the server said the archive last imported is current
FAILED = "failed"
OUTCOMES = (OK, NOT_MODIFIED, FAILED)

_ECOSYSTEM_PREFIX = "sync|"
_ROUND_ID = "sync-round"


@dataclass(frozen=True, slots=True)
class ImportedArchive:
    """The archive of an ecosystem last imported: what a conditional request sends back, and
    what was read."""

    etag: str | None
    last_modified: str | None
    sha256: str
    size: int
    imported_at: datetime


@dataclass(frozen=True, slots=True)
class EcosystemSync:
    ecosystem: str
    outcome: str  # one of OUTCOMES
    attempted_at: datetime
    error: str = ""
    archive: ImportedArchive | None = None  # kept through not-modified and failed attempts


@dataclass(frozen=True, slots=True)
class SyncRound:
    started_at: datetime
    finished_at: datetime
    # the feed in force when the round ended: the validators above describe it only while it is
    feed_version: str


class FeedSyncRepository:
    def __init__(self, db: AsyncDatabase[Doc], *, max_time_ms: int) -> None:
        self._state: AsyncCollection[Doc] = db[VULNDB_STATE]
        self._max_time_ms = max_time_ms

    async def ecosystems(self) -> dict[str, EcosystemSync]:
        """The last sync of every ecosystem ever synced, by name."""

        async def read() -> list[Doc]:
            flt = {"_id": {"$regex": f"^{_ECOSYSTEM_PREFIX.replace('|', '[|]')}"}}
            cursor = self._state.find(flt, max_time_ms=self._max_time_ms)
            return [doc async for doc in cursor]

        docs = await guarded(read, timeout_ms=self._max_time_ms)
        syncs = (_ecosystem_sync(doc) for doc in docs)
        return {sync.ecosystem: sync for sync in syncs}

    async def record(self, sync: EcosystemSync) -> None:
        doc: Doc = {
            "_id": _ECOSYSTEM_PREFIX + sync.ecosystem,
            "ecosystem": sync.ecosystem,
            "outcome": sync.outcome,
            "attemptedAt": sync.attempted_at,
            "error": sync.error,
        }
        if sync.archive is not None:
            archive = sync.archive
            doc["archive"] = {
                "etag": archive.etag,
                "lastModified": archive.last_modified,
                "sha256": archive.sha256,
                "size": archive.size,
                "importedAt": archive.imported_at,
            }
        await self._replace(doc)

    async def last_round(self) -> SyncRound | None:
        doc = await guarded(
            lambda: self._state.find_one({"_id": _ROUND_ID}, max_time_ms=self._max_time_ms),
            timeout_ms=self._max_time_ms,
        )
        if doc is None:
            return None
        return SyncRound(
            started_at=_utc(doc["startedAt"]),
            finished_at=_utc(doc["finishedAt"]),
            feed_version=doc.get("feedVersion") or "",
        )

    async def record_round(self, done: SyncRound) -> None:
        await self._replace(
            {
                "_id": _ROUND_ID,
                "startedAt": done.started_at,
                "finishedAt": done.finished_at,
                "feedVersion": done.feed_version,
            }
        )

    async def _replace(self, doc: Doc) -> None:
        # nx-27017: whole documents, since a top-level date given to `$set` becomes a string
        await guarded(
            lambda: self._state.replace_one({"_id": doc["_id"]}, doc, upsert=True),
            timeout_ms=self._max_time_ms,
            write=True,
        )


def _ecosystem_sync(doc: Doc) -> EcosystemSync:
    archive = doc.get("archive")
    return EcosystemSync(
        ecosystem=doc["ecosystem"],
        outcome=doc["outcome"],
        attempted_at=_utc(doc["attemptedAt"]),
        error=doc.get("error") or "",
        archive=None
        if not archive
        else ImportedArchive(
            etag=archive.get("etag"),
            last_modified=archive.get("lastModified"),
            sha256=archive["sha256"],
            size=int(archive["size"]),
            imported_at=_utc(archive["importedAt"]),
        ),
    )


def _utc(stamp: datetime) -> datetime:
    # the service's client decodes naive UTC datetimes
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
