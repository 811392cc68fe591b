"""Image use cases: count, list, get, delete, export and upsert."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.errors import InvalidArgument, NotFound
from app.services import image_views, page_cursors
from app.services.ranking import RiskRanker
from app.services.risk import score_image
from storage.images import LIST_FIELDS, SUMMARY_FIELDS, ImageRepository, Page, UpsertResult
from storage.query import InvalidQuery, QueryContext, SortPlan, parse, sort_plan, to_filter

Doc = dict[str, Any]

MAX_LIST_LIMIT = 1000
# What a query that must match everything is spelled as (an empty query is refused for deletes).
MATCH_ALL_HINT = "Image:*"


@dataclass(frozen=True, slots=True)
class Pagination:
    limit: int = 0
    offset: int = 0
    sort_field: str | None = None
    sort_reversed: bool = False
    aggr_func: str = "UNSET"
    aggr_distinct: bool = False
    cursor: str | None = None  # a keyset cursor (ListImages), instead of an offset


@dataclass(frozen=True, slots=True)
class ImagePage:
    images: list[Doc]
    next_cursor: str | None  # set when the page is full: there may be more


@dataclass(frozen=True, slots=True)
class DeleteResult:
    num_deleted: int
    dry_run: bool


class ImageService:
    """The rules of the image endpoints; storage does the reading and writing."""

    def __init__(
        self,
        *,
        repo: ImageRepository,
        ranker: RiskRanker,
        regex_max_length: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._ranker = ranker
        self._regex_max_length = regex_max_length
        self._clock = clock

    async def _filter(self, text: str) -> dict[str, Any]:
        try:
            query = parse(text, regex_max_length=self._regex_max_length)
            scores: Sequence[float] = ()
            if query.uses_priority:
                scores = await self._ranker.scores_desc()
            return to_filter(query, QueryContext(now=self._clock(), risk_scores_desc=scores))
        except InvalidQuery as exc:
            raise InvalidArgument(f"error parsing query: {exc.message}") from exc

    @staticmethod
    def _plan(pagination: Pagination) -> SortPlan:
        try:
            return sort_plan(
                pagination.sort_field or None,
                pagination.sort_reversed,
                pagination.aggr_func,
                pagination.aggr_distinct,
            )
        except InvalidQuery as exc:
            raise InvalidArgument(f"invalid sort option: {exc.message}") from exc

    async def ready(self) -> None:
        """Raises StoreUnavailable unless the database answers."""
        await self._repo.ping()

    async def count(self, query: str) -> int:
        return await self._repo.count(await self._filter(query))

    async def list(
        self, query: str, pagination: Pagination, *, scan_summary: bool = False
    ) -> ImagePage:
        """ListImage summaries; limit 0, negative or above 1000 means 1000. With `scan_summary`
        each also has its OS, scan time, top CVSS and CVE counts by severity (an extension).

        A page starts at the offset, or right after the row a cursor names; a full page comes
        with the cursor of the next one.

        Raises:
            InvalidArgument: a bad query or sort; a cursor with an offset, malformed, or made
                for another query or sort.
        """
        signature = page_cursors.SortSignature(
            field=pagination.sort_field or "",
            reversed=pagination.sort_reversed,
            aggregation=pagination.aggr_func,
            distinct=pagination.aggr_distinct,
            query=query,
        )
        after = None
        if pagination.cursor is not None:
            if pagination.offset:
                raise InvalidArgument(
                    "pagination.cursor and pagination.offset exclude each other: "
                    "a cursor already says where the page starts"
                )
            after = page_cursors.decode(pagination.cursor, signature)
        flt = await self._filter(query)
        plan = self._plan(pagination)
        limit = pagination.limit
        if limit <= 0 or limit > MAX_LIST_LIMIT:
            limit = MAX_LIST_LIMIT
        page = Page(skip=max(pagination.offset, 0), limit=limit)
        try:
            fields = SUMMARY_FIELDS if scan_summary else LIST_FIELDS
            found = await self._repo.find_page(flt, plan, page, fields=fields, after=after)
        except ValueError as exc:
            raise InvalidArgument(f"pagination.cursor does not fit the sort: {exc}") from exc
        priority = await self._ranker.ranker()
        images = [image_views.list_image(row, priority) for row in found.rows]
        next_cursor = None
        if found.last is not None and len(found.rows) == limit:
            next_cursor = page_cursors.encode(signature, found.last)
        return ImagePage(images, next_cursor)

    async def get(
        self, image_id: str, *, include_snoozed: bool = False, strip_description: bool = False
    ) -> Doc:
        """One full image by digest (a bare hex id gets `sha256:`).

        Raises:
            NotFound: no image has that id.
        """
        if not image_id:
            raise InvalidArgument("id must be specified")
        digest = image_id if ":" in image_id else f"sha256:{image_id}"
        doc = await self._repo.get(digest)
        if doc is None:
            raise NotFound(f'image with id "{image_id}" does not exist')
        image = image_views.finish(doc, await self._ranker.ranker())
        if not include_snoozed:
            image_views.drop_snoozed(image)
        if strip_description:
            image_views.strip_descriptions(image)
        return image

    async def delete(
        self, query: str | None, *, confirm: bool, pagination: Pagination
    ) -> DeleteResult:
        """Delete (or, without `confirm`, count) the images a query selects.

        Raises:
            InvalidArgument: no query at all, or an empty one with `confirm`.
        """
        if query is None:
            raise InvalidArgument("a scoping query is required")
        if confirm and not query.strip():
            raise InvalidArgument(
                "refusing to delete every image with an empty query; "
                f"send query.query={MATCH_ALL_HINT} to mean it"
            )
        flt = await self._filter(query)
        # The order only matters when a page is cut out of the matches.
        paged = pagination.limit > 0 or pagination.offset > 0
        if not paged:
            if not confirm:
                return DeleteResult(await self._repo.count(flt), dry_run=True)
            deleted = await self._repo.delete_matching(flt)
        else:
            page = Page(skip=max(pagination.offset, 0), limit=max(pagination.limit, 0))
            ids = await self._repo.ids(flt, self._plan(pagination), page)
            if not confirm:
                return DeleteResult(len(ids), dry_run=True)
            deleted = await self._repo.delete_ids(ids)
        self._ranker.invalidate()
        return DeleteResult(deleted, dry_run=False)

    async def export(
        self, query: str, *, batch_size: int, max_time_ms: int
    ) -> AsyncGenerator[Doc, None]:
        """Every matching full image, oldest update first, snoozed vulnerabilities kept.

        The query is checked when iteration starts, before anything is produced.
        """
        flt = await self._filter(query)
        priority = await self._ranker.ranker()
        stream = self._repo.stream(flt, batch_size=batch_size, max_time_ms=max_time_ms)
        try:
            async for doc in stream:
                yield image_views.finish(doc, priority)
        finally:
            await stream.aclose()

    async def upsert(
        self, images: Sequence[Doc], *, keep_last_updated: bool = False
    ) -> UpsertResult:
        """Store canonical images, scoring their risk first."""
        now = self._clock()
        for image in images:
            image_views.blank_datasources(image)
            score_image(image, now=now)
        result = await self._repo.upsert_many(images, now=now, keep_last_updated=keep_last_updated)
        self._ranker.add(float(image.get("riskScore") or 0.0) for image in images)
        if result.updated:  # a merge may have kept an older score: recount soon
            self._ranker.invalidate()
        return result
