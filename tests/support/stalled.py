"""A database whose reads of `images` never answer (a store stuck on a query), or end at once
in the server's own time-limit error, at the driver's level, on any store the tests run on."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, NoReturn

from pymongo.errors import ExecutionTimeout

from storage.mongo import IMAGES


class StalledDatabase:
    """Wraps a database (pymongo's or the mongomock double): the `count` command on `images`
    and `find` cursors on `images` wait forever once `stalled` is set, or raise the driver's
    ExecutionTimeout (MongoDB's maxTimeMS expired, code 50) when `expired` is set too;
    everything else passes through. `reached` is set when a call starts waiting."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.stalled = False
        self.expired = False
        self.reached = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def __getitem__(self, name: str) -> Any:
        collection = self._db[name]
        return _StalledImages(collection, self) if name == IMAGES else collection

    async def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        if self.stalled and isinstance(command, Mapping) and command.get("count") == IMAGES:
            await self.wait_forever()
        return await self._db.command(command, *args, **kwargs)

    async def wait_forever(self) -> NoReturn:
        if self.expired:
            raise ExecutionTimeout("operation exceeded time limit", 50)
        self.reached.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")  # pragma: no cover


class _StalledImages:
    def __init__(self, collection: Any, db: StalledDatabase) -> None:
        self._collection = collection
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def find(self, *args: Any, **kwargs: Any) -> Any:
        cursor = self._collection.find(*args, **kwargs)
        return _StalledCursor(cursor, self._db) if self._db.stalled else cursor


class _StalledCursor:
    def __init__(self, cursor: Any, db: StalledDatabase) -> None:
        self._cursor = cursor
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __aiter__(self) -> _StalledCursor:
        return self

    async def __anext__(self) -> Any:
        await self._db.wait_forever()

    async def to_list(self, length: int | None = None) -> list[Any]:
        await self._db.wait_forever()

    async def close(self) -> None:
        await self._cursor.close()
