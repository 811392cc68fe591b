"""The `images` collection: counts, pages, lookups, streams, deletes; upserts are in
storage.image_upserts."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from storage import documents
from storage.image_upserts import UpsertResult, upsert_images
from storage.mongo import (
    IMAGES,
    deadline_after,
    delete_by_ids,
    guarded,
    store_call,
    translated_errors,
)
from storage.query import DEFAULT_SORT, SortPlan
from storage.query.keyset import pick, position_of, ranges_after, with_range

logger = logging.getLogger(__name__)

Doc = dict[str, Any]
Filter = Mapping[str, Any]

# Fields a ListImage needs, nothing from the scan: name in a row → stored path.
LIST_FIELDS: Mapping[str, str] = {
    "fullName": "name.fullName",
    "created": "metadata.v1.created",
    "components": "components",
    "cves": "cves",
    "fixableCves": "fixableCves",
    "lastUpdated": "lastUpdated",
    "riskScore": "riskScore",
}
# What a ListImage with its scan summary (an extension) adds.
SUMMARY_FIELDS: Mapping[str, str] = {
    **LIST_FIELDS,
    "operatingSystem": "scan.operatingSystem",
    "scanTime": "scan.scanTime",
    "topCvss": "topCvss",
    "severities": documents.SEVERITIES,
}
# Internal fields a wire-shaped read leaves on the server.
_HIDDEN = {"_search": 0, "_sort": 0, "_layout": 0, "_rev": 0, "_scanner": 0, "_severities": 0}
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class ScannerState:
    """What our scanner recorded on a stored image, to reuse or re-match its scan."""

    image_id: str
    feed: str
    packages: list[dict[str, Any]]
    names: list[str]
    last_updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    skip: int
    limit: int  # 0 = no limit


@dataclass(frozen=True, slots=True)
class Found:
    """One page of rows, and where the last one is in the sort (for a keyset cursor)."""

    rows: list[Doc]
    last: tuple[Any, ...] | None


class ImageRepository:
    """Reads and writes image documents.

    Every operation runs under the service's deadline of `max_time_ms` (QueryTimeout, or
    WriteTimeout for a write the server may still apply); reads also send it as `maxTimeMS`.
    """

    def __init__(self, db: AsyncDatabase[Doc], *, max_time_ms: int) -> None:
        self._db = db
        self._images: AsyncCollection[Doc] = db[IMAGES]
        self._max_time_ms = max_time_ms

    async def count(self, flt: Filter) -> int:
        # The count command: one round trip, index-covered where it can be.
        # nx-27017: count_documents runs `$match`+`$group` in Python (slow) and `$match`+`$count`
        # misreads date filters; MongoDB would take count_documents(flt, maxTimeMS=…).
        command = {"count": IMAGES, "query": dict(flt), "maxTimeMS": self._max_time_ms}
        reply = await guarded(lambda: self._db.command(command), timeout_ms=self._max_time_ms)
        return int(reply["n"])

    async def get(self, digest: str) -> Doc | None:
        """The wire-shaped image (`id`, no internal fields), or None."""
        with store_call(self._max_time_ms):  # not guarded(): the hottest read, one coroutine less
            doc = await self._images.find_one(
                {"_id": digest}, dict(_HIDDEN), max_time_ms=self._max_time_ms
            )
        return None if doc is None else documents.to_wire(doc)

    async def scanner_state(self, digest: str) -> ScannerState | None:
        """Our scanner's record of a stored image; None if absent or not scanned by us."""
        doc = await guarded(
            lambda: self._images.find_one(
                {"_id": digest},
                {"_scanner": 1, "names": 1, "lastUpdated": 1},
                max_time_ms=self._max_time_ms,
            ),
            timeout_ms=self._max_time_ms,
        )
        return None if doc is None else _scanner_state(doc)

    async def get_for_rematch(self, digests: Sequence[str]) -> list[tuple[Doc, ScannerState]]:
        """The wire-shaped images with our scanner's record; others are left out."""

        async def run() -> list[tuple[Doc, ScannerState]]:
            cursor = self._images.find(
                {"_id": {"$in": list(digests)}},
                {"_search": 0, "_sort": 0, "_rev": 0},
                max_time_ms=self._max_time_ms,
            )
            found = []
            async for doc in cursor:
                state = _scanner_state(doc)
                if state is not None:
                    found.append((documents.to_wire(doc), state))
            return found

        return await guarded(run, timeout_ms=self._max_time_ms)

    async def ids_scanned_with_other_feed(
        self, feed: str, *, after: str = "", limit: int
    ) -> list[str]:
        """Images our scanner matched against a feed other than `feed`, by id after `after`.

        Paging by id visits each image once however the ones before it were updated.
        """

        async def run() -> list[str]:
            cursor = self._images.find(
                {"_scanner.feed": {"$exists": True, "$ne": feed}, "_id": {"$gt": after}},
                {"_id": 1},
                sort=[("_id", 1)],
                limit=limit,
                max_time_ms=self._max_time_ms,
            )
            return [doc["_id"] async for doc in cursor]

        return await guarded(run, timeout_ms=self._max_time_ms)

    async def find_page(
        self,
        flt: Filter,
        plan: SortPlan,
        page: Page,
        *,
        fields: Mapping[str, str],
        after: Sequence[Any] | None = None,
    ) -> Found:
        """One page of rows in the plan's order: `_id` and each of `fields` (a row name → its
        stored path) that the document has, under its row name.

        `after` (the position of a previous page's last row) starts the page right after that
        row instead of skipping `page.skip` rows; see `storage.query.keyset`.

        Raises:
            ValueError: `after` does not fit the plan.
        """
        projection = dict.fromkeys([*fields.values(), *plan.paths], 1)
        if after is None:
            docs = await self._sorted(flt, projection, plan, skip=page.skip, limit=page.limit)
        else:
            docs = []
            for cond in ranges_after(plan, after):
                left = page.limit - len(docs) if page.limit else 0
                if page.limit and left <= 0:
                    break
                docs += await self._sorted(with_range(flt, cond), projection, plan, limit=left)
        rows = []
        for doc in docs:
            row = {"_id": doc["_id"]}
            for name, path in fields.items():
                if (value := pick(doc, path, _ABSENT)) is not _ABSENT:
                    row[name] = value
            rows.append(row)
        return Found(rows, position_of(docs[-1], plan) if docs else None)

    async def _sorted(
        self, flt: Filter, projection: Doc, plan: SortPlan, *, skip: int = 0, limit: int
    ) -> list[Doc]:
        # A plain find: the plan sorts on stored paths only, so a store can walk an index.
        async def run() -> list[Doc]:
            cursor = self._images.find(
                dict(flt),
                projection,
                sort=plan.sort,
                skip=skip,
                limit=limit,
                max_time_ms=self._max_time_ms,
            )
            return await cursor.to_list(None)

        return await guarded(run, timeout_ms=self._max_time_ms)

    async def ids(self, flt: Filter, plan: SortPlan, page: Page) -> list[str]:
        found = await self.find_page(flt, plan, page, fields={})
        return [row["_id"] for row in found.rows]

    async def delete_ids(self, ids: Sequence[str]) -> int:
        return await delete_by_ids(self._images, ids, batch=1000, timeout_ms=self._max_time_ms)

    async def delete_matching(self, flt: Filter) -> int:
        result = await guarded(
            lambda: self._images.delete_many(dict(flt)), timeout_ms=self._max_time_ms, write=True
        )
        return int(result.deleted_count)

    async def stream(
        self, flt: Filter, *, batch_size: int, max_time_ms: int
    ) -> AsyncGenerator[Doc, None]:
        """Every matching image (wire-shaped), oldest update first, from one cursor.

        The cursor is closed when the consumer stops early (client gone, timeout). Reading it
        ends in QueryTimeout once `max_time_ms` have passed since the first read; the time
        between batches, when the consumer writes, counts too.
        """
        cursor = self._images.find(
            dict(flt),
            dict(_HIDDEN),
            sort=DEFAULT_SORT,
            batch_size=batch_size,
            max_time_ms=max_time_ms,
        )
        until = deadline_after(max_time_ms)
        try:
            while True:
                # the deadline around each batch read, never around a yield to the consumer
                async with translated_errors(until=until, timeout_ms=max_time_ms):
                    batch = await cursor.to_list(batch_size)
                if not batch:
                    return
                for doc in batch:
                    yield documents.to_wire(doc)
        finally:
            await cursor.close()

    async def ping(self) -> None:
        """Raises StoreUnavailable when the server does not answer.

        On the admin database, as drivers do: it tells whether the server answers, not
        whether this database is idle. nx-27017: a command on a database waits for that
        database's lock on one of a few server threads, so pings on a database busy with a
        long read pile up there until new connections cannot be opened and the driver drops
        every connection, the long read's too.
        """
        admin = self._db.client.admin
        await guarded(lambda: admin.command("ping"), timeout_ms=self._max_time_ms)

    async def distinct_risk_scores(self) -> list[float]:
        # distinct on the indexed field: a scan of index keys, not of documents
        values = await guarded(
            lambda: self._images.distinct("riskScore", maxTimeMS=self._max_time_ms),
            timeout_ms=self._max_time_ms,
        )
        return [float(v or 0.0) for v in values]

    async def upsert_many(
        self, images: Sequence[Doc], *, now: datetime, keep_last_updated: bool = False
    ) -> UpsertResult:
        """Insert or merge canonical images by id (see storage.image_upserts)."""
        return await upsert_images(
            self._images,
            images,
            now=now,
            keep_last_updated=keep_last_updated,
            timeout_ms=self._max_time_ms,
        )


def _scanner_state(doc: Doc) -> ScannerState | None:
    record = doc.get("_scanner")
    if not isinstance(record, dict):
        return None
    return ScannerState(
        image_id=doc["_id"],
        feed=str(record.get("feed") or ""),
        packages=list(record.get("packages") or []),
        names=[n.get("fullName", "") for n in doc.get("names") or [] if isinstance(n, dict)],
        last_updated=doc.get("lastUpdated"),
    )
