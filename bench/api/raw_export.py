"""Raw driver baseline of the export: one async cursor, each document orjson-encoded and dropped."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from typing import Any

import orjson
from bson import ObjectId
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient

from bench.common import EXPORT_SORT, INTERNAL_PROJECTION

_CHUNK_BYTES = 64 * 1024


def _bson_default(value: Any) -> Any:
    if isinstance(value, ObjectId | Decimal128):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


async def run(uri: str, database: str, projection: str, batch_size: int, limit: int) -> dict:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        await client[database].command("ping")  # connect before the clock starts
        images = written = 0
        buffer = bytearray()
        cpu = time.process_time()
        started = time.perf_counter()
        cursor = client[database]["images"].find(
            {},
            INTERNAL_PROJECTION if projection == "internal" else None,
            sort=EXPORT_SORT,
            batch_size=batch_size,
        )
        async for doc in cursor:
            buffer += orjson.dumps(doc, option=orjson.OPT_NAIVE_UTC, default=_bson_default)
            buffer += b"\n"
            images += 1
            if len(buffer) >= _CHUNK_BYTES:  # discarded, as a socket write would drop it
                written += len(buffer)
                buffer.clear()
            if limit and images >= limit:
                break
        await cursor.close()
        written += len(buffer)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await client.close()
    return {
        "images": images,
        "bytes": written,
        "seconds": seconds,
        "images_per_s": images / seconds if seconds else 0.0,
        "mb_per_s": written / seconds / 1e6 if seconds else 0.0,
        "cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uri", required=True, help="MongoDB URI of the store (no database)")
    parser.add_argument("--db", required=True)
    parser.add_argument(
        "--projection",
        choices=["internal", "none"],
        default="internal",
        help="internal: leave out _search/_rev as our repository does; none: whole document",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0, help="stop after this many (warm-up)")
    args = parser.parse_args()
    result = asyncio.run(run(args.uri, args.db, args.projection, args.batch_size, args.limit))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
