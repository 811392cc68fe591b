"""The stores API tests run against, and the small shim the in-process double needs."""

from __future__ import annotations

from typing import Any

from mongomock_motor import AsyncMongoMockClient
from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

MONGOMOCK = "mongomock"
NX = "nx-27017"
MONGODB = "mongodb"


class _Awaitable:
    """Makes `await collection.aggregate(...)` work as with pymongo's async API."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def __await__(self) -> Any:
        async def ready() -> Any:
            return _LimitedCursor(self._cursor)

        return ready().__await__()


class _LimitedCursor:
    """A cursor whose to_list(n) returns at most n documents and keeps the rest for the next
    call, as the real driver's does."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._rest: list[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __aiter__(self) -> Any:
        return self._cursor.__aiter__()

    async def to_list(self, length: int | None = None) -> list[Any]:
        if self._rest is None:
            self._rest = await self._cursor.to_list()
        cut = len(self._rest) if length is None else length
        rows, self._rest = self._rest[:cut], self._rest[cut:]
        return rows

    async def close(self) -> None:
        return None


class _BulkResult:
    """What the code reads of a BulkWriteResult."""

    def __init__(self) -> None:
        self.inserted_count = 0
        self.matched_count = 0


class _Collection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def aggregate(self, pipeline: list[Any], **kwargs: Any) -> _Awaitable:
        kwargs.pop("maxTimeMS", None)
        kwargs.pop("allowDiskUse", None)
        return _Awaitable(self._collection.aggregate(pipeline, **kwargs))

    def list_indexes(self, *args: Any, **kwargs: Any) -> _Awaitable:
        return _Awaitable(self._collection.list_indexes(*args, **kwargs))

    def find(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("max_time_ms", None)
        kwargs.pop("batch_size", None)
        return _LimitedCursor(self._collection.find(*args, **kwargs))

    async def bulk_write(self, requests: list[Any], ordered: bool = True) -> _BulkResult:
        # mongomock's bulk builder predates the `sort` option of ReplaceOne in pymongo 4.x.
        duplicates: list[dict[str, Any]] = []
        result = _BulkResult()
        for index, request in enumerate(requests):
            if isinstance(request, InsertOne):
                try:
                    await self._collection.insert_one(request._doc)
                    result.inserted_count += 1
                except DuplicateKeyError:
                    duplicates.append({"index": index, "code": 11000, "errmsg": "duplicate"})
            elif isinstance(request, ReplaceOne | UpdateOne):
                write = (
                    self._collection.replace_one
                    if isinstance(request, ReplaceOne)
                    else self._collection.update_one
                )
                done = await write(request._filter, request._doc, upsert=request._upsert)
                result.matched_count += done.matched_count
            else:
                raise NotImplementedError(type(request).__name__)
        if duplicates:  # as the driver reports them, after the other writes of an unordered bulk
            raise BulkWriteError({"writeErrors": duplicates, "nInserted": result.inserted_count})
        return result

    async def distinct(self, key: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("maxTimeMS", None)
        return await self._collection.distinct(key, *args, **kwargs)

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("max_time_ms", None)
        return await self._collection.find_one(*args, **kwargs)


class _Client:
    """The `client` of a MongomockDatabase: its other databases (`admin` for pings)."""

    def __init__(self, client: AsyncMongoMockClient) -> None:
        self._client = client

    @property
    def admin(self) -> MongomockDatabase:
        return MongomockDatabase("admin", self._client)


class MongomockDatabase:
    """An AsyncDatabase look-alike over mongomock-motor."""

    def __init__(self, name: str, client: AsyncMongoMockClient | None = None) -> None:
        self._client = client or AsyncMongoMockClient(tz_aware=True)
        self._db = self._client[name]
        self.name = name

    @property
    def client(self) -> _Client:
        return _Client(self._client)

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._db[name])

    async def command(self, command: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if command == "ping" or command == {"ping": 1}:
            return {"ok": 1.0}
        if isinstance(command, dict) and "count" in command:
            n = await self._db[command["count"]].count_documents(command.get("query") or {})
            return {"ok": 1.0, "n": n}
        return await self._db.command(command, *args, **kwargs)
