"""The `leases` collection: which replica runs a background job, until when."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from storage.mongo import LEASES, guarded


class LeaseRepository:
    """One document per job: `owner` holds it until `expiresAt`; an expired lease is free."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._leases: AsyncCollection[dict[str, Any]] = db[LEASES]

    async def acquire(self, job: str, owner: str, *, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease; False while another owner holds an unexpired one."""
        free_or_ours = {"_id": job, "$or": [{"owner": owner}, {"expiresAt": {"$lte": now}}]}
        update = {"$set": {"owner": owner, "expiresAt": now + ttl, "renewedAt": now}}
        try:
            doc = await guarded(
                lambda: self._leases.find_one_and_update(
                    free_or_ours, update, upsert=True, return_document=ReturnDocument.AFTER
                )
            )
        except Exception as exc:
            # The upsert collided with a live lease of another owner.
            if isinstance(exc.__cause__, DuplicateKeyError):
                return False
            raise
        return doc is not None and doc.get("owner") == owner

    async def release(self, job: str, owner: str) -> None:
        """Give the lease up at once, if we still hold it."""
        await guarded(lambda: self._leases.delete_one({"_id": job, "owner": owner}))

    async def holder(self, job: str) -> tuple[str, datetime] | None:
        doc = await guarded(lambda: self._leases.find_one({"_id": job}))
        return None if doc is None else (doc["owner"], doc["expiresAt"])
