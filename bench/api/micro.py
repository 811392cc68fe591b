"""Micro-costs behind the GET/export numbers: metrics, BSON decode/encode, views, store queries."""

from __future__ import annotations

import argparse
import json
import time
import timeit
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bson
import orjson
from bson import CodecOptions
from multidict import MultiDict
from pymongo import MongoClient

from bench.common import INTERNAL_PROJECTION

_WIRE_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def _per_call_us(call: Callable[[], object], *, budget_s: float = 0.4) -> float:
    """Microseconds per call, best of 3 runs sized to take about `budget_s` each."""
    number = 1
    while True:
        elapsed = timeit.timeit(call, number=number)
        if elapsed > 0.05 or number >= 1_000_000:
            break
        number *= 4
    number = max(1, int(number * budget_s / max(elapsed, 1e-9)))
    best = min(timeit.repeat(call, number=number, repeat=3))
    return best / number * 1e6


def metrics_cost() -> dict[str, float]:
    """The per-request bookkeeping of the metrics middleware, through whatever API it has."""
    from app.metrics import Metrics

    metrics: Any = Metrics()
    if hasattr(metrics, "observe"):

        def observe() -> None:
            metrics.observe("GET", "/v1/images/{id}", "200", 0.01)

    else:

        def observe() -> None:
            metrics.requests.labels("GET", "/v1/images/{id}", "200").inc()
            metrics.latency.labels("GET", "/v1/images/{id}").observe(0.01)

    return {"metrics_observe_us": _per_call_us(observe)}


def params_cost() -> dict[str, float]:
    """Loading GET /v1/images/{id}'s query parameters when there are none (the common case)."""
    try:
        from app.handlers.images import GET_IMAGE_PARAMS as schema
    except ImportError:  # older handlers built a schema per request
        from schemas.requests import GetImageParams

        schema = GetImageParams()
    empty: MultiDict[str] = MultiDict()
    return {"get_params_empty_query_us": _per_call_us(lambda: schema.load(empty))}


def doc_costs(bson_file: Path) -> dict[str, Any]:
    """Per-document costs on the median-sized stored document of a dump (as our repo reads it)."""
    from app.services import image_views

    with open(bson_file, "rb") as handle:
        raws = [bson.encode(doc) for doc in bson.decode_file_iter(handle)]
    stored = sorted(raws, key=len)[len(raws) // 2]
    doc = bson.decode(stored)
    for key in INTERNAL_PROJECTION:
        doc.pop(key, None)
    projected = bson.encode(doc)
    naive, aware = CodecOptions(), CodecOptions(tz_aware=True)
    aware_doc, naive_doc = bson.decode(projected, aware), bson.decode(projected, naive)
    vulns = sum(len(c.get("vulns") or []) for c in (doc.get("scan") or {}).get("components") or [])

    def views() -> None:
        image = bson.decode(projected, naive)
        image_views.finish(image, lambda score: 1)
        image_views.drop_snoozed(image)

    def snooze_only() -> None:
        image_views.drop_snoozed(bson.decode(projected, naive))

    decode_naive = _per_call_us(lambda: bson.decode(projected, naive))
    tracemalloc.start()
    decoded = bson.decode(projected, naive)
    decoded_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del decoded
    return {
        "decoded_python_bytes": decoded_bytes,
        "stored_bytes": len(stored),
        "projected_bytes": len(projected),
        "vulns": vulns,
        "decode_naive_us": decode_naive,
        "decode_tz_aware_us": _per_call_us(lambda: bson.decode(projected, aware)),
        "orjson_naive_us": _per_call_us(lambda: orjson.dumps(naive_doc, option=_WIRE_OPTIONS)),
        "orjson_tz_aware_us": _per_call_us(lambda: orjson.dumps(aware_doc, option=_WIRE_OPTIONS)),
        "finish_and_drop_snoozed_us": _per_call_us(views) - decode_naive,
        "drop_snoozed_us": _per_call_us(snooze_only) - decode_naive,
    }


def store_costs(uri: str, database: str, ids: list[str]) -> dict[str, float]:
    """Store-side costs on nx-27017: risk-score queries ($group scan vs distinct), find_one."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        images = client[database]["images"]
        images.find_one({})

        def timed(call: Callable[[], object], repeat: int) -> float:
            started = time.perf_counter()
            for _ in range(repeat):
                call()
            return (time.perf_counter() - started) / repeat * 1000

        sample = ids[:20]

        def find(projection: dict[str, Any] | None) -> Callable[[], object]:
            return lambda: [images.find_one({"_id": i}, projection) for i in sample]

        find(None)()  # warm the store's page cache for both variants
        projected, whole = [], []
        for _ in range(3):  # alternate, keep the best of each
            projected.append(timed(find(INTERNAL_PROJECTION), 1) / len(sample))
            whole.append(timed(find(None), 1) / len(sample))
        return {
            "group_scan_ms": timed(
                lambda: list(images.aggregate([{"$group": {"_id": "$riskScore"}}])), 3
            ),
            "distinct_ms": timed(lambda: images.distinct("riskScore"), 3),
            "find_one_projected_ms": min(projected),
            "find_one_whole_ms": min(whole),
        }
    finally:
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--db", action="append", default=[], help="database[:bson file]")
    args = parser.parse_args()
    result: dict[str, Any] = {**metrics_cost(), **params_cost(), "datasets": {}}
    for spec in args.db:
        database, _, dump = spec.partition(":")
        client: MongoClient[dict[str, Any]] = MongoClient(args.uri)
        try:
            ids = [d["_id"] for d in client[database]["images"].find({}, {"_id": 1}).limit(20)]
        finally:
            client.close()
        entry: dict[str, Any] = store_costs(args.uri, database, ids)
        if dump:
            entry.update(doc_costs(Path(dump)))
        result["datasets"][database] = entry
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
