"""The authentication step alone, in-process: CPU per guard check (`passes_cached`, what the
request pipeline runs) on a GET /v1/images/{id} request with a valid (cached) Admin token, against
an empty function call; and where it goes."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
from datetime import timedelta
from typing import Any, cast

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

_PATH = "/v1/images/bench-image-id"


def _noop(request: web.Request, guard: object) -> bool:
    return True


async def run(calls: int) -> dict[str, Any]:
    from app.auth.guards import check_guard, passes_cached
    from app.auth.permissions import IMAGE, read
    from app.config import load_settings
    from app.keys import ACCESS
    from app.main import create_app
    from tests.support.stores import MongomockDatabase

    settings = load_settings(os.environ)
    app = create_app(settings, db=cast(Any, MongomockDatabase(settings.database)))
    guard = read(IMAGE)
    app.freeze()
    await app.startup()
    try:
        access = app[ACCESS]
        secret, _ = await access.generate_token(
            name="bench", roles=["Admin"], expiration=access.expiration_after(timedelta(hours=1)),
            issuer=None,
        )  # fmt: skip
        request = make_mocked_request(
            "GET", _PATH, headers={"Authorization": f"Bearer {secret}"}, app=app
        )
        match = await app.router.resolve(request)
        match.add_app(app)
        request._match_info = match  # what the server does before the pipeline runs
        await check_guard(request, guard)  # reads the token; later checks hit the cache
        if not passes_cached(request, guard):
            raise RuntimeError("the token was not cached after its first check")
        started = time.process_time()
        for _ in range(calls):
            passes_cached(request, guard)
        with_auth = (time.process_time() - started) / calls
        started = time.process_time()
        for _ in range(calls):
            _noop(request, guard)
        without = (time.process_time() - started) / calls
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls // 5):
            passes_cached(request, guard)
        profiler.disable()
    finally:
        await app.cleanup()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values()) or 1e-9
    top = sorted(stats.items(), key=lambda item: -item[1][2])[:8]
    return {
        "calls": calls,
        "middleware_us": with_auth * 1e6,
        "handler_us": without * 1e6,
        "own_us": (with_auth - without) * 1e6,
        "profile_top": [
            {"function": f"{name} ({os.path.basename(file)}:{line})", "share": row[2] / total}
            for (file, line, name), row in top
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.calls))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
