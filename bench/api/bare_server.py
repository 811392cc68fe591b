"""Bare aiohttp baseline: GET /v1/images/{id} is one find_one, returned as orjson, nothing else."""

from __future__ import annotations

import argparse
import base64
import logging
import sys
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from bson import CodecOptions, ObjectId, decode_file_iter
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient

from bench.api.snapshot_store import SnapshotCollection
from bench.common import INTERNAL_PROJECTION

COLLECTION = web.AppKey("bare.collection", object)
logger = logging.getLogger("bare_server")


def _bson_default(value: Any) -> Any:
    """Only the BSON types orjson cannot encode by itself."""
    if isinstance(value, ObjectId | Decimal128):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def _build(projection: dict[str, Any] | None) -> Any:
    async def get_image(request: web.Request) -> web.Response:
        collection: Any = request.app[COLLECTION]
        doc = await collection.find_one({"_id": request.match_info["id"]}, projection)
        if doc is None:
            return web.Response(status=404, body=b'{"message":"not found"}')
        body = orjson.dumps(doc, option=orjson.OPT_NAIVE_UTC, default=_bson_default)
        return web.Response(body=body, content_type="application/json")

    return get_image


async def _ready(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def _driver_ctx(uri: str, database: str) -> Any:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        await client[database].command("ping")
        app[COLLECTION] = client[database]["images"]
        yield
        await client.close()

    return ctx


def _snapshot_ctx(bson_file: Path) -> Any:
    # Decoded on each read as our bare AsyncMongoClient would (default codec: naive UTC).
    collection = SnapshotCollection(CodecOptions())
    with open(bson_file, "rb") as handle:
        count = collection.freeze(decode_file_iter(handle))
    logger.warning("snapshot of %d documents taken", count)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        app[COLLECTION] = collection
        yield

    return ctx


def _mongomock_ctx(bson_file: Path, database: str) -> Any:
    options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)
    with open(bson_file, "rb") as handle:
        docs = list(decode_file_iter(handle, codec_options=options))

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        from tests.support.stores import MongomockDatabase

        collection = MongomockDatabase(database)["images"]  # tz-aware, as the shim opens it
        if docs:
            await collection.insert_many(docs)
        logger.warning("loaded %d documents into mongomock", len(docs))
        app[COLLECTION] = collection
        yield

    return ctx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="database name")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--uri", help="MongoDB URI of the store (no database path)")
    source.add_argument("--bson", type=Path, help="load these stored documents in memory instead")
    parser.add_argument(
        "--store",
        choices=["mongomock", "snapshot"],
        default="mongomock",
        help="with --bson: the in-process double that serves the documents",
    )
    parser.add_argument(
        "--projection",
        choices=["internal", "none"],
        default="internal",
        help="internal: leave out _search/_rev as our repository does; none: whole document",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    projection = INTERNAL_PROJECTION if args.projection == "internal" else None
    app = web.Application()
    if args.uri:
        app.cleanup_ctx.append(_driver_ctx(args.uri, args.db))
    elif args.store == "snapshot":
        app.cleanup_ctx.append(_snapshot_ctx(args.bson))
    else:
        app.cleanup_ctx.append(_mongomock_ctx(args.bson, args.db))
    app.router.add_get("/v1/images/{id}", _build(projection))
    app.router.add_get("/ready", _ready)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
