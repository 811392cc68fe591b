"""The seeded databases the API benchmarks read, and the files made from them (ids, stored BSON,
our export as NDJSON), made once and reused by later runs."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from bench.api.timing import log
from bench.children import Child, child, free_port, module, run_json, wait_http_ok
from bench.common import IMAGE_SERVICE, LOOPBACK, WORK, git_commit, machine
from bench.tokens import cli_token


@dataclass(frozen=True)
class Dataset:
    """One seeded database: `count` images of a profile, from a fixed generator seed."""

    profile: str
    count: int
    seed: int

    @property
    def db(self) -> str:
        return f"bench_{self.profile}_{self.count}_s{self.seed}"

    def file(self, suffix: str) -> Path:
        return WORK / f"{self.db}.{suffix}"


@dataclass
class Store:
    uri: str
    pid: int


def ensure_dataset(store: Store, ds: Dataset, workers: int) -> dict[str, Any]:
    """Seed the dataset through `image-service seed` unless the store already holds it."""
    client: MongoClient[dict[str, Any]] = MongoClient(store.uri)
    try:
        have = client[ds.db]["images"].estimated_document_count()
        if have == ds.count:
            log(f"{ds.db}: {have} images already seeded, reused")
            return {"db": ds.db, "count": have, "seeded": False}
        log(f"{ds.db}: has {have}, seeding {ds.count} {ds.profile} images ({workers} workers)")
        client.drop_database(ds.db)
        _database_token.cache_clear()  # its tokens went with the database
        for suffix in ("ids", "bson", "ndjson"):
            ds.file(suffix).unlink(missing_ok=True)
    finally:
        client.close()
    workers = max(1, min(workers, ds.count // 1000 or 1))
    shares = [ds.count // workers + (1 if i < ds.count % workers else 0) for i in range(workers)]
    env = {"MONGODB_URI": store.uri + ds.db, "IMAGE_SERVICE_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        seeders = [
            stack.enter_context(
                child(
                    f"seed-{ds.db}-{i}",
                    [
                        IMAGE_SERVICE,
                        "seed",
                        "--count",
                        str(share),
                        "--seed",
                        str(ds.seed * 1000 + i),
                        "--profile",
                        ds.profile,
                    ],  # fmt: skip
                    env=env,
                )
            )
            for i, share in enumerate(shares)
        ]
        for seeder in seeders:
            if seeder.process.wait() != 0:
                raise RuntimeError(f"seeding {ds.db} failed:\n{seeder.log_tail()}")
    seconds = time.perf_counter() - started
    client = MongoClient(store.uri)
    try:
        have = client[ds.db]["images"].estimated_document_count()
    finally:
        client.close()
    if have != ds.count:
        raise RuntimeError(f"{ds.db}: seeded {have} images, expected {ds.count}")
    log(f"{ds.db}: seeded {have} in {seconds:.0f}s ({have / seconds:.0f} images/s)")
    return {
        "db": ds.db,
        "count": have,
        "seeded": True,
        "seconds": seconds,
        "images_per_s": have / seconds,
        "workers": workers,
    }


def ids_file(store: Store, ds: Dataset) -> Path:
    path = ds.file("ids")
    if not path.exists():
        client: MongoClient[dict[str, Any]] = MongoClient(store.uri)
        try:
            ids = [doc["_id"] for doc in client[ds.db]["images"].find({}, {"_id": 1})]
        finally:
            client.close()
        path.write_text("\n".join(ids) + "\n")
    return path


def bson_file(store: Store, ds: Dataset) -> Path:
    """The stored documents as they are in the store (with `_search`), for the bare double."""
    path = ds.file("bson")
    if not path.exists():
        client: MongoClient[RawBSONDocument] = MongoClient(
            store.uri, document_class=RawBSONDocument
        )
        partial = path.with_suffix(".bson.part")
        try:
            with open(partial, "wb") as out:
                for doc in client[ds.db]["images"].find({}, batch_size=256):
                    out.write(doc.raw)
        finally:
            client.close()
        partial.rename(path)
    return path


def nx_token(store: Store, ds: Dataset) -> Path:
    """An Admin token on the dataset's database (once a run), for `image-service serve` on it."""
    return _database_token(store.uri, ds)


@functools.cache
def _database_token(uri: str, ds: Dataset) -> Path:
    return cli_token(uri + ds.db, ds.db)


def serve_nx(
    store: Store, ds: Dataset, port: int, name: str
) -> contextlib.AbstractContextManager[Child]:
    command = [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port)]
    return child(name, command, env={"MONGODB_URI": store.uri + ds.db})


def ensure_ndjson(store: Store, ds: Dataset) -> Path:
    """The export file, made by our server on the store if it is not there yet."""
    if ds.file("ndjson").exists():
        return ds.file("ndjson")
    port = free_port()
    with serve_nx(store, ds, port, f"ndjson-{ds.db}") as ours:
        wait_http_ok(ours, f"http://{LOOPBACK}:{port}/livez", timeout_s=120)
        return ndjson_file(ds, f"http://{LOOPBACK}:{port}", nx_token(store, ds))


def ndjson_file(ds: Dataset, base: str, token_file: Path) -> Path:
    """Our export of the dataset (wire shape), for our server on the in-memory double."""
    path = ds.file("ndjson")
    if not path.exists():
        partial = path.with_suffix(".ndjson.part")
        result = run_json(
            [
                *module("bench.api.export_client"),
                "--base",
                base,
                "--out",
                str(partial),
                "--token-file",
                str(token_file),
            ],  # fmt: skip
            timeout_s=1800,
        )
        if result["images"] != ds.count or result["error_line"]:
            raise RuntimeError(f"export of {ds.db} for the in-memory run failed: {result}")
        partial.rename(path)
    return path


def measure_on_bench_store(
    args: Any,
    results: Path,
    out: dict[str, Any],
    measure: Callable[[Store], dict[str, Any]],
    write_section: Callable[[Path, dict[str, Any]], None],
) -> int:
    """A benchmark that keeps its own RESULTS.md section (bench.common.add_section_arguments):
    rewrite the section from the last run with `--render-only`; else start nx-27017 on the
    bench store, add what `measure` returns to `out` (with the date, machine, load, commit),
    keep it in `results` and write the section."""
    from app.cli.local_store import start_local_store

    if args.render_only:
        write_section(args.results, json.loads(results.read_text()))
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    out = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), **out}
    local = start_local_store(args.store_dir)
    try:
        out["load_before"] = os.getloadavg()
        out.update(measure(Store(uri=local.uri, pid=local.process.pid)))
        out["load_after"] = os.getloadavg()
    finally:
        local.stop()
    out["git"] = git_commit()
    results.write_text(json.dumps(out, indent=1))
    write_section(args.results, out)
    return 0
