"""RSS growth of one export-shaped cursor: whole batches decoded (default) vs raw, per document."""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from typing import Any

import bson
import orjson
import psutil
from bson import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient

from bench.common import EXPORT_SORT, INTERNAL_PROJECTION


class _Peak:
    """This process's RSS, polled every 20 ms in a thread."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.baseline = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def run(uri: str, database: str, mode: str, batch_size: int) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        await client[database].command("ping")
        images: Any = client[database]["images"]
        if mode == "raw":  # the batch stays bytes; one document at a time becomes objects
            images = images.with_options(codec_options=CodecOptions(document_class=RawBSONDocument))
        count = 0
        started = time.perf_counter()
        with _Peak() as peak:
            cursor = images.find({}, INTERNAL_PROJECTION, sort=EXPORT_SORT, batch_size=batch_size)
            async for doc in cursor:
                image = bson.decode(doc.raw) if mode == "raw" else doc
                orjson.dumps(image, option=orjson.OPT_NAIVE_UTC)
                count += 1
        seconds = time.perf_counter() - started
    finally:
        await client.close()
    return {
        "mode": mode,
        "batch_size": batch_size,
        "images": count,
        "growth_mb": (peak.peak - peak.baseline) / (1024 * 1024),
        "images_per_s": count / seconds if seconds else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--mode", choices=["decoded", "raw"], required=True)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.uri, args.db, args.mode, args.batch_size))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
