"""The vulnerability feed as stored: advisories by ecosystem and package (`vulnerabilities`),
CVSS vectors by CVE from every record that has them (`cve_scores`), and the feed state.

The advisories and score rows live in one generation of their two collections at a time: the
one the feed record names. An import (begin_import … set_feed) fills a new generation, a copy
of the one in force changed by the import's writes, and puts it in force with the single write
that records the new version. Readers see the old feed or the new one, never a mix; an import
that stops half-way (killed, failed) leaves the old one in force, and its generation is dropped
by a later import. Generation 0 is the plain collection names (a database from before this).

nx-27017: a pointer in the feed record, since its renameCollection is a silent no-op (on MongoDB
a new collection renamed over the old one, dropTarget, would do).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from storage.errors import StorageError
from storage.feed_collections import (
    BATCH,
    IMPORT_TIME_MS,
    Rows,
    copy_collection,
    delete_unseen,
    summarize,
    write_rows,
)
from storage.mongo import (
    ADVISORY_INDEXES,
    CVE_SCORES,
    SCORE_INDEXES,
    VULNDB_STATE,
    VULNERABILITIES,
    guarded,
)

Doc = dict[str, Any]

FEED_ID = "feed"
# In VULNDB_STATE beside the feed record: the last generation number handed out (`last`) and
# the generations that may still have collections (`live`).
GENERATIONS_ID = "generations"


@dataclass(frozen=True, slots=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int
    deleted: int


class FeedChanged(StorageError):
    """Another import put its feed in force while this one ran; nothing of this one is kept."""


@dataclass(frozen=True, slots=True)
class FeedState:
    """What was imported last: `version` changes exactly when the stored advisories do."""

    version: str
    imported_at: datetime
    ecosystems: dict[str, int]  # advisories stored per ecosystem


@dataclass(frozen=True, slots=True)
class _Staging:
    """An import under way: the generation it fills, and the feed record it started from."""

    generation: int
    base: Doc | None


def generation_names(generation: int) -> tuple[str, str]:
    """The advisory and score collections of a generation."""
    if generation == 0:
        return VULNERABILITIES, CVE_SCORES
    return f"{VULNERABILITIES}_{generation}", f"{CVE_SCORES}_{generation}"


def _generation_of(feed: Mapping[str, Any] | None) -> int:
    return int((feed or {}).get("generation") or 0)


def advisory_id(doc: Mapping[str, Any]) -> str:
    return f"{doc['ecosystem']}|{doc['package']}|{doc['osv_id']}"


def score_id(doc: Mapping[str, Any]) -> str:
    return f"{doc['cve']}|{doc['osv_id']}"


# A score row of a record that names no ecosystem (only repositories) is covered by an import
# holding any such record.
NO_ECOSYSTEM = ""


class VulnerabilityRepository:
    """Advisories keyed by (ecosystem, package, OSV id), each with a content hash."""

    def __init__(self, db: AsyncDatabase[Doc], *, max_time_ms: int) -> None:
        self._db = db
        self._state: AsyncCollection[Doc] = db[VULNDB_STATE]
        self._max_time_ms = max_time_ms
        self._staging: _Staging | None = None

    def _collections(self, generation: int) -> tuple[AsyncCollection[Doc], AsyncCollection[Doc]]:
        vulns, scores = generation_names(generation)
        return self._db[vulns], self._db[scores]

    async def _in_force(self) -> int:
        """The generation the feed record names (0 before any import)."""
        doc = await guarded(
            lambda: self._state.find_one(
                {"_id": FEED_ID}, {"generation": 1}, max_time_ms=self._max_time_ms
            ),
            timeout_ms=self._max_time_ms,
        )
        return _generation_of(doc)

    async def _target(self) -> tuple[AsyncCollection[Doc], AsyncCollection[Doc]]:
        """Where imports write: the generation begin_import started, else the one in force."""
        if self._staging is not None:
            return self._collections(self._staging.generation)
        return self._collections(await self._in_force())

    async def find_for(self, ecosystems: list[str], packages: list[str]) -> list[Doc]:
        """Every advisory filed under one of the ecosystems for one of the package names."""
        if not ecosystems or not packages:
            return []
        found: list[Doc] = []
        names = sorted(set(packages))
        vulns, _ = self._collections(await self._in_force())
        for start in range(0, len(names), BATCH):
            chunk = names[start : start + BATCH]
            flt = {"ecosystem": {"$in": list(ecosystems)}, "package": {"$in": chunk}}

            async def run(flt: Doc = flt) -> list[Doc]:
                cursor = vulns.find(flt, {"hash": 0}, max_time_ms=self._max_time_ms)
                return [doc async for doc in cursor]

            found += await guarded(run, timeout_ms=self._max_time_ms)
        return found

    async def scores_for(self, cves: Iterable[str]) -> dict[str, Doc]:
        """The preferred score row of each CVE that has one: the CVE's own record first,
        then a GHSA, then any other; among equals, the lowest OSV id (stable)."""
        best: dict[str, Doc] = {}
        wanted = sorted(set(cves))
        _, scores = self._collections(await self._in_force())
        for start in range(0, len(wanted), BATCH):
            flt = {"cve": {"$in": wanted[start : start + BATCH]}}

            async def run(flt: Doc = flt) -> list[Doc]:
                cursor = scores.find(flt, {"hash": 0}, max_time_ms=self._max_time_ms)
                return [doc async for doc in cursor]

            for row in await guarded(run, timeout_ms=self._max_time_ms):
                kept = best.get(row["cve"])
                if kept is None or (row["rank"], row["osv_id"]) < (kept["rank"], kept["osv_id"]):
                    best[row["cve"]] = row
        return best

    async def apply_scores(self, rows: Rows, ecosystems: Iterable[str]) -> ImportCounts:
        """Store the score rows of a complete feed, as apply_import stores advisories: rows of
        records the feed no longer holds are deleted when every ecosystem of their record is
        among `ecosystems` (NO_ECOSYSTEM for records naming none), read after `rows`."""
        _, target = await self._target()
        counts, seen = await write_rows(target, rows, score_id)
        covered = set(ecosystems)

        def gone(doc: Doc) -> bool:
            return set(doc.get("ecosystems") or [NO_ECOSYSTEM]) <= covered

        deleted = await delete_unseen(target, {}, seen, also=gone)
        return ImportCounts(*counts, deleted)

    async def apply_import(self, docs: Rows, ecosystems: Iterable[str] = ()) -> ImportCounts:
        """Store a complete feed: write changed and new advisories, then delete the stored
        advisories of every covered ecosystem that the feed no longer holds.

        Covered ecosystems are those of `docs` plus `ecosystems`, which is read only after
        `docs` is exhausted (a generator may add to it as it goes). Ecosystems absent from
        both are left alone. A document that appears twice: the last one wins.
        """
        target, _ = await self._target()
        covered: set[str] = set()
        counts, seen = await write_rows(
            target, docs, advisory_id, also=lambda doc: covered.add(doc["ecosystem"])
        )
        covered.update(ecosystems)
        deleted = await self._delete_missing(target, covered, seen)
        return ImportCounts(*counts, deleted)

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

    async def begin_import(self) -> None:
        """Start an import in a new generation: a copy of the one in force, which apply_import
        and apply_scores then change and set_feed puts in force. Until then nothing a reader
        sees changes."""
        base = await guarded(
            lambda: self._state.find_one({"_id": FEED_ID}), timeout_ms=self._max_time_ms
        )
        generation = await self._new_generation(_generation_of(base))
        targets = self._collections(generation)
        sources = self._collections(_generation_of(base))
        for source, target, indexes in zip(
            sources, targets, (ADVISORY_INDEXES, SCORE_INDEXES), strict=True
        ):
            # empty unless a crashed import left it behind under a lost counter
            await guarded(target.drop, timeout_ms=IMPORT_TIME_MS, write=True)
            create = functools.partial(target.create_indexes, indexes)
            await guarded(create, timeout_ms=IMPORT_TIME_MS, write=True)
            await copy_collection(source, target)
        self._staging = _Staging(generation, base)

    async def abort_import(self) -> None:
        """Drop what the import begun wrote; the feed in force never changed."""
        staging, self._staging = self._staging, None
        if staging is not None:
            await self._drop_generations({staging.generation})

    async def set_feed(self, *, imported_at: datetime) -> FeedState:
        """Record the feed as now stored: its version and per-ecosystem counts.

        After begin_import, this puts the import's generation in force.

        Raises:
            FeedChanged: another import did that since this one began (its base is gone).
        """
        staging, self._staging = self._staging, None
        generation = staging.generation if staging else await self._in_force()
        version, counts = await summarize(*self._collections(generation))
        state = FeedState(version=version, imported_at=imported_at, ecosystems=counts)
        doc = {
            "_id": FEED_ID,
            "version": version,
            "importedAt": imported_at,
            # a list, not a map: ecosystem names hold dots ("Ubuntu:22.04")
            "ecosystems": [{"name": n, "count": c} for n, c in sorted(counts.items())],
            "generation": generation,
        }
        if staging is None:
            await guarded(
                lambda: self._state.replace_one({"_id": FEED_ID}, doc, upsert=True),
                timeout_ms=self._max_time_ms,
                write=True,
            )
            return state
        if not await self._swap(staging.base, doc):
            await self._drop_generations({staging.generation})
            raise FeedChanged("another import changed the feed meanwhile; run this one again")
        # The generation just replaced stays until the next swap: a lookup that read the feed
        # record a moment before this one may still be reading it.
        base = _generation_of(staging.base)
        await self._drop_generations(lambda g: g < generation and g != base)
        return state

    async def _swap(self, base: Doc | None, doc: Doc) -> bool:
        """Replace the feed record with `doc` if it is still `base` (by generation)."""
        if base is None:

            async def insert() -> bool:
                try:
                    await self._state.insert_one(doc)
                except DuplicateKeyError:
                    return False  # another import recorded a first feed meanwhile
                return True

            return await guarded(insert, timeout_ms=self._max_time_ms, write=True)
        same = base.get("generation", {"$exists": False})
        result = await guarded(
            lambda: self._state.replace_one({"_id": FEED_ID, "generation": same}, doc),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        return result.matched_count == 1

    async def _new_generation(self, base: int) -> int:
        """A generation number never handed out before, recorded as live (with generation 0
        while that is the base, so that a database from before generations has its plain
        collections dropped in time)."""
        # above `base` even if the counter was lost: the new generation is never the one in force
        await guarded(
            lambda: self._state.update_one(
                {"_id": GENERATIONS_ID}, {"$max": {"last": base}}, upsert=True
            ),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        doc = await guarded(
            lambda: self._state.find_one_and_update(
                {"_id": GENERATIONS_ID},
                {"$inc": {"last": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            ),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        generation = int((doc or {})["last"])  # upserted: there is one
        # nx-27017: `$push`, since it ignores `$addToSet` (MongoDB would keep `live` a set)
        live = [generation] if base else [0, generation]
        await guarded(
            lambda: self._state.update_one(
                {"_id": GENERATIONS_ID}, {"$push": {"live": {"$each": live}}}
            ),
            timeout_ms=self._max_time_ms,
            write=True,
        )
        return generation

    async def _drop_generations(self, which: set[int] | Callable[[int], bool]) -> None:
        """Drop the collections of the live generations chosen (a set, or a test of each)."""
        doc = await guarded(
            lambda: self._state.find_one({"_id": GENERATIONS_ID}), timeout_ms=self._max_time_ms
        )
        live = sorted({int(g) for g in (doc or {}).get("live") or []})
        chosen = [g for g in live if (g in which if isinstance(which, set) else which(g))]
        for generation in chosen:
            for collection in self._collections(generation):
                await guarded(collection.drop, timeout_ms=IMPORT_TIME_MS, write=True)
        if chosen:
            await guarded(
                lambda: self._state.update_one(
                    {"_id": GENERATIONS_ID}, {"$pull": {"live": {"$in": chosen}}}
                ),
                timeout_ms=self._max_time_ms,
                write=True,
            )

    async def _delete_missing(
        self, vulns: AsyncCollection[Doc], covered: set[str], seen: set[str]
    ) -> int:
        if not covered:
            return 0
        return await delete_unseen(vulns, {"ecosystem": {"$in": sorted(covered)}}, seen)
