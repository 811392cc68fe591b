"""Our app for benchmarks: on the in-process MongoDB double (loaded from NDJSON) and/or profiled.

`--token-file` makes an Admin API token at start-up (on the app's own database, through the
access service) and writes it there for the load generators. `--no-auth` is a harness-only
switch for the authentication cost benchmark: it takes every route's guard out of the request
pipeline's policies before the app starts; the service itself has no such setting.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import orjson
from aiohttp import web

logger = logging.getLogger("our_server")
_BATCH = 500


def _after_start(
    ndjson: list[bytes] | None,
    snapshot: Any,
    profiler: cProfile.Profile | None,
    token_file: Path | None,
) -> Any:
    """Loads the images (in-memory store), makes the token, then starts the profiler: only
    serving is profiled."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if ndjson is not None:
            await _load(app, ndjson)
        if token_file is not None:
            await _make_token(app, token_file)
        if snapshot is not None:
            logger.warning("snapshot of %d images taken", await snapshot.freeze())
        gc.collect()  # start serving from a clean heap, as a fresh server would
        if profiler is not None:
            profiler.enable()
        yield
        if profiler is not None:
            profiler.disable()

    return ctx


async def _load(app: web.Application, lines: list[bytes]) -> None:
    from app.keys import IMAGES
    from schemas.image import normalize_image

    service = app[IMAGES]
    batch: list[dict[str, Any]] = []
    loaded = 0
    for line in lines:
        if not line.strip():
            continue
        batch.append(normalize_image(orjson.loads(line)["result"]["image"]))
        if len(batch) == _BATCH:
            await service.upsert(batch, keep_last_updated=True)
            loaded += len(batch)
            batch = []
    lines.clear()
    if batch:
        await service.upsert(batch, keep_last_updated=True)
        loaded += len(batch)
    logger.warning("loaded %d images into the in-memory store", loaded)


async def _make_token(app: web.Application, path: Path) -> None:
    from app.keys import ACCESS
    from bench.tokens import TOKEN_NAME, TOKEN_ROLE, write_token

    access = app[ACCESS]
    secret, _ = await access.generate_token(
        name=TOKEN_NAME,
        roles=[TOKEN_ROLE],
        expiration=access.expiration_after(timedelta(hours=12)),
        issuer=None,
    )
    write_token(path, secret)


def _drop_auth(app: web.Application) -> None:
    """Take the guards off every route (harness only: the no-auth arm of the benchmark), so the
    request pipeline skips authentication; the service itself has no such setting."""
    import dataclasses

    from app.pipeline import ROUTE_POLICIES

    policies = app[ROUTE_POLICIES]
    for route, policy in policies.items():
        policies[route] = dataclasses.replace(policy, guard=None)


def _client_codec() -> Any:
    """The codec options our MongoDB client is opened with (storage/mongo.py:open_client)."""
    from storage.mongo import open_client

    client = open_client("mongodb://127.0.0.1:9/unused", timeout_ms=1000)  # never connects
    try:
        return client.codec_options
    finally:
        asyncio.run(client.close())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--ndjson",
        type=Path,
        help="in-memory store loaded with these export lines (else MONGODB_URI)",
    )
    parser.add_argument(
        "--store",
        choices=["mongomock", "snapshot"],
        default="mongomock",
        help="with --ndjson: mongomock, or mongomock frozen into a BSON snapshot after loading",
    )
    parser.add_argument(
        "--cprofile", type=Path, help="profile serving (not start-up) into this file"
    )
    parser.add_argument(
        "--token-file", type=Path, help="make an Admin API token at start-up, written here"
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="benchmark harness only: serve without the authentication middleware",
    )
    args = parser.parse_args()
    from app.config import load_settings
    from app.main import create_app

    settings = load_settings(os.environ).with_overrides(host=args.host, port=args.port)
    logging.basicConfig(level=settings.log_level, stream=sys.stderr)
    db = snapshot = None
    if args.ndjson is not None:
        from tests.support.stores import MongomockDatabase

        db = MongomockDatabase(settings.database)
        if args.store == "snapshot":
            from bench.api.snapshot_store import SnapshotDatabase

            # Reads decode as our real client would, whatever storage/mongo.py configures.
            db = snapshot = SnapshotDatabase(db, _client_codec())
    app = create_app(settings, db=cast(Any, db))
    if args.no_auth:
        _drop_auth(app)
    profiler = cProfile.Profile() if args.cprofile else None
    lines = None if args.ndjson is None else args.ndjson.read_bytes().splitlines()
    app.cleanup_ctx.append(_after_start(lines, snapshot, profiler, args.token_file))
    try:
        web.run_app(
            app, host=settings.host, port=settings.port, access_log=None, shutdown_timeout=5
        )
    finally:
        if profiler is not None and args.cprofile is not None:
            profiler.dump_stats(args.cprofile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
