"""MongoDB client, collections and start-up index creation."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)
from pymongo.errors import (
    DocumentTooLarge as PyMongoDocumentTooLarge,
)

from storage.deadlines import Deadline
from storage.errors import (
    BadQuery,
    DocumentTooLarge,
    QueryTimeout,
    StorageError,
    StoreUnavailable,
    WriteTimeout,
)
from storage.query import index_models

logger = logging.getLogger(__name__)

IMAGES = "images"
WATCHED_IMAGES = "watched_images"
VULNERABILITIES = "vulnerabilities"
VULNDB_STATE = "vulndb_state"
CVE_SCORES = "cve_scores"
CVE_FIRST_SEEN = "cve_first_seen"
LEASES = "leases"
API_TOKENS = "api_tokens"
ROLES = "roles"
ROLE_NAMES = "role_names"

# The feed's indexes, on every generation of its collections (storage/vulnerabilities.py).
ADVISORY_INDEXES = [IndexModel([("ecosystem", 1), ("package", 1)], name="idx_ecosystem_package")]
SCORE_INDEXES = [IndexModel([("cve", 1)], name="idx_cve")]

T = TypeVar("T")
# BadValue and "regular expression is invalid": the query, not the server, is at fault.
_BAD_QUERY_CODES = frozenset({2, 51091})


def open_client(uri: str, *, timeout_ms: int) -> AsyncMongoClient[dict[str, Any]]:
    """A client that fails fast when the server is away instead of hanging requests."""
    return AsyncMongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        # Naive UTC datetimes: attaching a tzinfo to each decoded date costs ~70% more
        # decoding on large scans, and every date here is UTC (orjson renders it with Z).
        tz_aware=False,
        appname="image-service",
    )


async def delete_by_ids(
    collection: AsyncCollection[dict[str, Any]],
    ids: Sequence[str],
    *,
    batch: int,
    timeout_ms: int | None,
) -> int:
    """Delete documents by id, `batch` ids per `$in` (each under `timeout_ms`); returns how
    many were deleted."""
    deleted = 0
    for start in range(0, len(ids), batch):
        flt = {"_id": {"$in": list(ids[start : start + batch])}}
        delete = functools.partial(collection.delete_many, flt)
        result = await guarded(delete, timeout_ms=timeout_ms, write=True)
        deleted += result.deleted_count
    return deleted


class StoreCall(Deadline):
    """`with StoreCall(at, timeout_ms):` around awaiting a driver call: the service's own deadline
    at the loop time `at` (None: none), and driver exceptions raised as storage errors.

    The deadline holds whether or not the server honours maxTimeMS (nx-27017 ignores it): the
    call is cancelled and QueryTimeout raised; for a `write`, WriteTimeout, since the server
    may still apply it. A plain context manager rather than a coroutine wrapper, so the hottest
    reads pay no extra coroutine for it.
    """

    __slots__ = ("_timeout_ms", "_write")

    def __init__(self, at: float | None, timeout_ms: int | None, *, write: bool = False) -> None:
        super().__init__(at)
        self._timeout_ms = timeout_ms
        self._write = write

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, traceback)
        except TimeoutError as expired:
            raise _failure(expired, self, self._timeout_ms, write=self._write) from exc
        if exc is not None:
            failure = _failure(exc, self, self._timeout_ms, write=self._write)
            if failure is not exc:
                raise failure from exc


def store_call(timeout_ms: int | None, *, write: bool = False) -> StoreCall:
    """A StoreCall whose deadline is `timeout_ms` from now (None: none)."""
    if timeout_ms is None:
        return StoreCall(None, None, write=write)
    return StoreCall(asyncio.get_running_loop().time() + timeout_ms / 1000, timeout_ms, write=write)


async def guarded(
    call: Callable[[], Awaitable[T]], *, timeout_ms: int | None, write: bool = False
) -> T:
    """Run a driver call as a StoreCall: under a deadline of the service's own (None: none),
    driver exceptions turned into storage errors."""
    with store_call(timeout_ms, write=write):
        return await call()


def deadline_after(timeout_ms: int) -> float:
    """The event loop's time `timeout_ms` from now, for `translated_errors(until=…)`."""
    return asyncio.get_running_loop().time() + timeout_ms / 1000


def _failure(
    exc: BaseException, scope: Deadline, timeout_ms: int | None, *, write: bool
) -> BaseException:
    if scope.expired():  # whatever the driver made of the cancellation (e.g. _OperationCancelled)
        if write:
            return WriteTimeout(
                f"the database did not confirm the write within {timeout_ms} ms; "
                "it may still be applied"
            )
        return QueryTimeout(f"the database did not answer within {timeout_ms} ms")
    return translate_error(exc)


def translate_error(exc: BaseException) -> BaseException:
    """The storage error for a driver exception; anything else passes through."""
    if isinstance(exc, PyMongoDocumentTooLarge):
        return DocumentTooLarge("the image is too large to store (16 MiB with its search copies)")
    if isinstance(exc, ExecutionTimeout):
        return QueryTimeout("the query exceeded its time limit")
    if isinstance(exc, ServerSelectionTimeoutError | ConnectionFailure | AutoReconnect):
        return StoreUnavailable("the database is unavailable")
    if isinstance(exc, OperationFailure) and exc.code == 50:  # MaxTimeMSExpired
        return QueryTimeout("the query exceeded its time limit")
    if isinstance(exc, OperationFailure) and exc.code in _BAD_QUERY_CODES:
        return BadQuery("the database refused the query (check regular expressions)")
    if isinstance(exc, PyMongoError):
        # Driver text can carry the whole server reply; keep it in the log only.
        logger.error("database operation failed: %s", exc)
        return StorageError("database operation failed")
    return exc


@asynccontextmanager
async def translated_errors(
    *, until: float | None = None, timeout_ms: int | None = None
) -> AsyncIterator[None]:
    """Driver exceptions as storage errors, for code that reads a cursor itself; `until` (the
    loop's time, see `deadline_after`) is the deadline of the body, `timeout_ms` its length as
    the error message tells it."""
    with StoreCall(until, timeout_ms):
        yield


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> list[str]:
    """Create every index the search language needs; safe to run on every start.

    An index the server refuses (an older conflicting definition, or a local store
    that lacks the feature) is logged and skipped: queries stay correct without it.
    """
    created: list[str] = []
    models: dict[str, list[IndexModel]] = {
        # sparse: only images our scanner stored carry it; finds those left on an older feed
        IMAGES: [
            *index_models(),
            IndexModel([("_scanner.feed", 1)], name="idx_scanner_feed", sparse=True),
        ],
        WATCHED_IMAGES: [
            IndexModel([("check.at", 1)], name="idx_check_at"),
            IndexModel([("schedule.next", 1)], name="idx_schedule_next"),
        ],
        VULNERABILITIES: ADVISORY_INDEXES,
        CVE_SCORES: SCORE_INDEXES,
        # a token is found by the hash of its secret; listed by name and revocation
        API_TOKENS: [
            IndexModel([("hash", 1)], name="idx_hash", unique=True),
            IndexModel([("name", 1)], name="idx_name"),
        ],
    }
    for collection, indexes in models.items():
        for model in indexes:
            try:
                created += await db[collection].create_indexes([model])
            except OperationFailure as exc:
                logger.warning(
                    "index %s on %s not created: %s", model.document["name"], collection, exc
                )
    return created
