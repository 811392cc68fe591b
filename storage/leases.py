"""The `leases` collection: which replica runs a background job, until when."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from storage.mongo import LEASES, guarded

# A lease operation answers within this or fails: far below any lease's time to live.
_TIME_MS = 10_000


class LeaseRepository:
    """One document per job: `owner` holds it until `term.expiresAt`; then it is free."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._leases: AsyncCollection[dict[str, Any]] = db[LEASES]

    async def acquire(self, job: str, owner: str, *, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease; False while another owner holds an unexpired one."""
        free_or_ours = {"_id": job, "$or": [{"owner": owner}, {"term.expiresAt": {"$lte": now}}]}
        # nx-27017: a top-level date `$set` is stored as a string, dates in a sub-document keep
        # their type; MongoDB would take top-level `expiresAt`/`renewedAt`.
        update = {"$set": {"owner": owner, "term": {"expiresAt": now + ttl, "renewedAt": now}}}

        async def take() -> dict[str, Any] | None:
            try:
                return await self._leases.find_one_and_update(
                    free_or_ours, update, upsert=True, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                return None  # the upsert met another owner's live lease: the usual answer

        doc = await guarded(take, timeout_ms=_TIME_MS, write=True)
        return doc is not None and doc.get("owner") == owner

    async def release(self, job: str, owner: str) -> None:
        """Give the lease up at once, if we still hold it."""
        await guarded(
            lambda: self._leases.delete_one({"_id": job, "owner": owner}),
            timeout_ms=_TIME_MS,
            write=True,
        )
