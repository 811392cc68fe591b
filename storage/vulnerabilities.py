"""The vulnerability feed as stored: advisories by ecosystem and package (`vulnerabilities`),
CVSS vectors by CVE from every record that has them (`cve_scores`), the feed state, and when
each CVE was first seen in any image (`cve_first_seen`)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage.mongo import (
    CVE_FIRST_SEEN,
    CVE_SCORES,
    VULNDB_STATE,
    VULNERABILITIES,
    deadline_after,
    delete_by_ids,
    guarded,
    translated_errors,
)

Doc = dict[str, Any]

FEED_ID = "feed"
_BATCH = 500  # documents per bulk write, ids per `$in`
# Imports scan and write the whole collection; a lookup's limit would be too tight for that.
_IMPORT_TIME_MS = 600_000
_MASK = (1 << 256) - 1


@dataclass(frozen=True, slots=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int
    deleted: int


@dataclass(frozen=True, slots=True)
class FeedState:
    """What was imported last: `version` changes exactly when the stored advisories do."""

    version: str
    imported_at: datetime
    ecosystems: dict[str, int]  # advisories stored per ecosystem


def advisory_id(doc: Mapping[str, Any]) -> str:
    return f"{doc['ecosystem']}|{doc['package']}|{doc['osv_id']}"


def score_id(doc: Mapping[str, Any]) -> str:
    return f"{doc['cve']}|{doc['osv_id']}"


# A score row of a record that names no ecosystem (only repositories) is covered by an import
# holding any such record.
NO_ECOSYSTEM = ""


def content_hash(doc: Mapping[str, Any]) -> str:
    """A digest of an advisory's content (its id and hash fields aside)."""
    body = {k: v for k, v in doc.items() if k not in ("_id", "hash")}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class VulnerabilityRepository:
    """Advisories keyed by (ecosystem, package, OSV id), each with a content hash."""

    def __init__(self, db: AsyncDatabase[Doc], *, max_time_ms: int) -> None:
        self._vulns: AsyncCollection[Doc] = db[VULNERABILITIES]
        self._scores: AsyncCollection[Doc] = db[CVE_SCORES]
        self._first_seen: AsyncCollection[Doc] = db[CVE_FIRST_SEEN]
        self._state: AsyncCollection[Doc] = db[VULNDB_STATE]
        self._max_time_ms = max_time_ms

    async def find_for(self, ecosystems: list[str], packages: list[str]) -> list[Doc]:
        """Every advisory filed under one of the ecosystems for one of the package names."""
        if not ecosystems or not packages:
            return []
        found: list[Doc] = []
        names = sorted(set(packages))
        for start in range(0, len(names), _BATCH):
            chunk = names[start : start + _BATCH]
            flt = {"ecosystem": {"$in": list(ecosystems)}, "package": {"$in": chunk}}

            async def run(flt: Doc = flt) -> list[Doc]:
                cursor = self._vulns.find(flt, {"hash": 0}, max_time_ms=self._max_time_ms)
                return [doc async for doc in cursor]

            found += await guarded(run, timeout_ms=self._max_time_ms)
        return found

    async def scores_for(self, cves: Iterable[str]) -> dict[str, Doc]:
        """The preferred score row of each CVE that has one: the CVE's own record first,
        then a GHSA, then any other; among equals, the lowest OSV id (stable)."""
        best: dict[str, Doc] = {}
        wanted = sorted(set(cves))
        for start in range(0, len(wanted), _BATCH):
            flt = {"cve": {"$in": wanted[start : start + _BATCH]}}

            async def run(flt: Doc = flt) -> list[Doc]:
                cursor = self._scores.find(flt, {"hash": 0}, max_time_ms=self._max_time_ms)
                return [doc async for doc in cursor]

            for row in await guarded(run, timeout_ms=self._max_time_ms):
                kept = best.get(row["cve"])
                if kept is None or (row["rank"], row["osv_id"]) < (kept["rank"], kept["osv_id"]):
                    best[row["cve"]] = row
        return best

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

    async def apply_scores(
        self, rows: Iterable[Mapping[str, Any]], ecosystems: Iterable[str]
    ) -> ImportCounts:
        """Store the score rows of a complete feed, as apply_import stores advisories: rows of
        records the feed no longer holds are deleted when every ecosystem of their record is
        among `ecosystems` (NO_ECOSYSTEM for records naming none), read after `rows`."""
        seen: set[str] = set()
        totals = [0, 0, 0]
        batch: dict[str, Doc] = {}
        for row in [*rows, None]:
            if row is not None:
                stored = {**row, "_id": score_id(row)}
                stored["hash"] = content_hash(stored)
                batch[stored["_id"]] = stored
            if batch and (row is None or len(batch) >= _BATCH):
                counts = await self._write(self._scores, batch)
                totals = [t + c for t, c in zip(totals, counts, strict=True)]
                seen.update(batch)
                batch = {}
        covered = set(ecosystems)

        def gone(doc: Doc) -> bool:
            return set(doc.get("ecosystems") or [NO_ECOSYSTEM]) <= covered

        deleted = await self._delete_unseen(self._scores, {}, seen, also=gone)
        return ImportCounts(totals[0], totals[1], totals[2], deleted)

    async def apply_import(
        self, docs: Iterable[Mapping[str, Any]], ecosystems: Iterable[str] = ()
    ) -> ImportCounts:
        """Store a complete feed: write changed and new advisories, then delete the stored
        advisories of every covered ecosystem that the feed no longer holds.

        Covered ecosystems are those of `docs` plus `ecosystems`, which is read only after
        `docs` is exhausted (a generator may add to it as it goes). Ecosystems absent from
        both are left alone. A document that appears twice: the last one wins.
        """
        seen: set[str] = set()
        covered: set[str] = set()
        inserted = updated = unchanged = 0
        batch: dict[str, Doc] = {}
        for doc in docs:
            stored = {**doc, "_id": advisory_id(doc)}
            stored["hash"] = content_hash(stored)
            batch[stored["_id"]] = stored
            covered.add(stored["ecosystem"])
            if len(batch) >= _BATCH:
                ins, upd, same = await self._write(self._vulns, batch)
                inserted, updated, unchanged = inserted + ins, updated + upd, unchanged + same
                seen.update(batch)
                batch = {}
        ins, upd, same = await self._write(self._vulns, batch)
        inserted, updated, unchanged = inserted + ins, updated + upd, unchanged + same
        seen.update(batch)
        covered.update(ecosystems)
        deleted = await self._delete_missing(covered, seen)
        return ImportCounts(inserted, updated, unchanged, deleted)

    async def get_feed(self) -> FeedState | None:
        doc = await guarded(
            lambda: self._state.find_one({"_id": FEED_ID}, max_time_ms=self._max_time_ms),
            timeout_ms=self._max_time_ms,
        )
        if doc is None:
            return None
        counts = {row["name"]: int(row["count"]) for row in doc.get("ecosystems") or []}
        stamp: datetime = doc["importedAt"]
        # the service's client decodes naive UTC datetimes
        imported_at = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
        return FeedState(version=doc["version"], imported_at=imported_at, ecosystems=counts)

    async def begin_import(self, *, started_at: datetime) -> Doc | None:
        """Mark the feed as changing before any advisory is written; returns the old record.

        An import that stops half-way then leaves a version no stored scan carries, so
        those scans are matched again (the service's leader does it) instead of being
        reused against a half-replaced feed under the old version.
        """
        old = await guarded(
            lambda: self._state.find_one({"_id": FEED_ID}), timeout_ms=self._max_time_ms
        )
        marker = {
            "_id": FEED_ID,
            "version": f"importing:{secrets.token_hex(8)}",
            "importedAt": started_at,
            "ecosystems": (old or {}).get("ecosystems") or [],
        }
        await guarded(
            lambda: self._state.replace_one({"_id": FEED_ID}, marker, upsert=True),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        return old

    async def abort_import(self, old: Doc | None) -> None:
        """Nothing was written after all: put the old record back."""
        if old is None:
            await guarded(
                lambda: self._state.delete_one({"_id": FEED_ID}),
                timeout_ms=self._max_time_ms,
                write=True,
            )
        else:
            await guarded(
                lambda: self._state.replace_one({"_id": FEED_ID}, old, upsert=True),
                timeout_ms=self._max_time_ms,
                write=True,
            )

    async def set_feed(self, *, imported_at: datetime) -> FeedState:
        """Record the feed as now stored: its version and per-ecosystem counts."""
        version, counts = await self._summarize()
        state = FeedState(version=version, imported_at=imported_at, ecosystems=counts)
        doc = {
            "_id": FEED_ID,
            "version": version,
            "importedAt": imported_at,
            # a list, not a map: ecosystem names hold dots ("Ubuntu:22.04")
            "ecosystems": [{"name": n, "count": c} for n, c in sorted(counts.items())],
        }
        await guarded(
            lambda: self._state.replace_one({"_id": FEED_ID}, doc, upsert=True),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        return state

    async def _write(
        self, collection: AsyncCollection[Doc], batch: dict[str, Doc]
    ) -> tuple[int, int, int]:
        """Upsert the documents whose hash changed; returns (inserted, updated, unchanged)."""
        if not batch:
            return 0, 0, 0
        ids = list(batch)

        async def current() -> dict[str, str]:
            cursor = collection.find(
                {"_id": {"$in": ids}}, {"hash": 1}, max_time_ms=_IMPORT_TIME_MS
            )
            return {doc["_id"]: doc.get("hash", "") async for doc in cursor}

        hashes = await guarded(current, timeout_ms=_IMPORT_TIME_MS)
        changed = [doc for i, doc in batch.items() if hashes.get(i) != doc["hash"]]
        if changed:
            ops = [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in changed]
            await guarded(
                lambda: collection.bulk_write(ops, ordered=False),
                timeout_ms=_IMPORT_TIME_MS,
                write=True,
            )
        inserted = sum(1 for doc in changed if doc["_id"] not in hashes)
        return inserted, len(changed) - inserted, len(batch) - len(changed)

    async def _delete_missing(self, covered: set[str], seen: set[str]) -> int:
        if not covered:
            return 0
        return await self._delete_unseen(self._vulns, {"ecosystem": {"$in": sorted(covered)}}, seen)

    async def _delete_unseen(
        self,
        collection: AsyncCollection[Doc],
        flt: Doc,
        seen: set[str],
        *,
        also: Callable[[Doc], bool] = lambda _: True,
    ) -> int:
        """Delete the documents matching `flt` (and `also`, given `_id` and `ecosystems`)
        whose id is not in `seen`."""

        async def stale() -> list[str]:
            cursor = collection.find(flt, {"ecosystems": 1}, max_time_ms=_IMPORT_TIME_MS)
            return [doc["_id"] async for doc in cursor if doc["_id"] not in seen and also(doc)]

        ids = await guarded(stale, timeout_ms=_IMPORT_TIME_MS)
        return await delete_by_ids(collection, ids, batch=_BATCH, timeout_ms=_IMPORT_TIME_MS)

    async def _summarize(self) -> tuple[str, dict[str, int]]:
        """The feed version and per-ecosystem counts, from one pass over the advisories and
        one over the score rows.

        The version sums a digest per (id, hash) pair: the order documents come in does not
        matter, and nothing is sorted or held in memory.
        """
        total = 0
        counts: dict[str, int] = {}
        for collection in (self._vulns, self._scores):
            cursor = collection.find(
                {}, {"hash": 1, "ecosystem": 1}, batch_size=2000, max_time_ms=_IMPORT_TIME_MS
            )
            try:
                async with translated_errors(
                    until=deadline_after(_IMPORT_TIME_MS), timeout_ms=_IMPORT_TIME_MS
                ):
                    async for doc in cursor:
                        pair = f"{doc['_id']}\0{doc.get('hash', '')}".encode()
                        total = (total + int.from_bytes(hashlib.sha256(pair).digest())) & _MASK
                        if collection is self._vulns:
                            counts[doc["ecosystem"]] = counts.get(doc["ecosystem"], 0) + 1
            finally:
                await cursor.close()
        return f"{total:064x}", counts
