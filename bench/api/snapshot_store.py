"""A read-only in-process store double: documents kept as BSON bytes, decoded on every read.

mongomock deep-copies and re-walks every document on every read, which costs more than our
own code does. This double does what the driver does with a server reply (one C-level BSON
decode) and nothing else, so a GET benchmark on it shows the servers' own overhead.
Only what GET /v1/images/{id} needs (find_one by id, the risk ranker's distinct scores) is
served from the snapshot; anything else goes to `fallback` (the mongomock collection the data
was loaded into), when there is one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import bson
from bson import CodecOptions

Doc = dict[str, Any]
_RISK_GROUP = [{"$group": {"_id": "$riskScore"}}]


class _Rows:
    """An already-computed aggregate result, iterable like an async cursor."""

    def __init__(self, rows: list[Doc]) -> None:
        self._rows = rows

    def __await__(self) -> Any:
        async def ready() -> _Rows:
            return self

        return ready().__await__()

    async def __aiter__(self) -> AsyncIterator[Doc]:
        for row in self._rows:
            yield row

    async def to_list(self, length: int | None = None) -> list[Doc]:
        return self._rows if length is None else self._rows[:length]

    async def close(self) -> None:
        return None


class SnapshotCollection:
    """find_one({"_id": …}, exclusion projection) from BSON bytes; other calls to `fallback`."""

    def __init__(self, codec_options: CodecOptions[Doc], fallback: Any = None) -> None:
        self._codec = codec_options
        self._fallback = fallback
        self._raw: dict[str, bytes] | None = None
        self._projected: dict[tuple[str, ...], dict[str, bytes]] = {}
        self._risk_rows: list[Doc] = []

    def freeze(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Take the snapshot; reads are served from it from now on."""
        raw: dict[str, bytes] = {}
        scores: set[float] = set()
        for doc in docs:
            raw[doc["_id"]] = bson.encode(doc)
            scores.add(doc.get("riskScore"))  # type: ignore[arg-type]
        self._raw = raw
        self._projected = {(): raw}
        self._risk_rows = [{"_id": score} for score in scores]
        return len(raw)

    def _view(self, projection: Mapping[str, Any] | None) -> dict[str, bytes]:
        assert self._raw is not None
        excluded = tuple(sorted(k for k, v in (projection or {}).items() if not v))
        if len(excluded) != len(projection or {}):
            raise NotImplementedError("only exclusion projections are supported")
        view = self._projected.get(excluded)
        if view is None:  # what a server would send for this projection, computed once
            view = {}
            for key, raw in self._raw.items():
                doc = bson.decode(raw)
                for name in excluded:
                    doc.pop(name, None)
                view[key] = bson.encode(doc)
            self._projected[excluded] = view
        return view

    async def find_one(
        self, flt: Mapping[str, Any], projection: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Doc | None:
        if self._raw is None or set(flt) != {"_id"} or not isinstance(flt["_id"], str):
            return await self._fallback.find_one(flt, projection, **kwargs)
        raw = self._view(projection).get(flt["_id"])
        return None if raw is None else bson.decode(raw, self._codec)

    async def distinct(self, key: str, *args: Any, **kwargs: Any) -> list[Any]:
        """The risk ranker's query, answered from the snapshot; anything else to `fallback`."""
        if self._raw is not None and key == "riskScore" and not args:
            return [row["_id"] for row in self._risk_rows]
        return await self._fallback.distinct(key, *args, **kwargs)  # type: ignore[no-any-return]

    def aggregate(self, pipeline: list[Doc], **kwargs: Any) -> Any:
        if self._raw is not None and pipeline == _RISK_GROUP:
            return _Rows(list(self._risk_rows))
        return self._fallback.aggregate(pipeline, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if self._fallback is None:
            raise AttributeError(name)
        return getattr(self._fallback, name)


class SnapshotDatabase:
    """Wraps a database double; its `images` collection can be frozen into a snapshot."""

    def __init__(self, inner: Any, codec_options: CodecOptions[Doc]) -> None:
        self._inner = inner
        self.name = inner.name
        self.images = SnapshotCollection(codec_options, fallback=inner["images"])

    def __getitem__(self, name: str) -> Any:
        return self.images if name == "images" else self._inner[name]

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        return await self._inner.command(*args, **kwargs)

    async def freeze(self) -> int:
        """Snapshot the images, then empty the double's own copy.

        A real server holds no documents between requests; millions of live objects left in
        the double would make every full garbage collection pause the loop for seconds.
        """
        docs = [doc async for doc in self._inner["images"].find({})]
        count = self.images.freeze(docs)
        await self._inner["images"].delete_many({})
        return count
