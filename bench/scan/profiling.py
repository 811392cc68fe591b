"""Cold scans on a second server under cProfile in every thread, and where their time goes."""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import pstats
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import aiohttp

from bench.children import Child, free_port, module, wait_http_ok
from bench.common import LOOPBACK, ROOT
from bench.scan import REPO, TAG
from bench.scan.measuring import post_scan
from bench.scan.rounds import Config
from bench.scan.server import server_env
from bench.tokens import cli_token
from bench.tokens import headers as request_headers


def serve_profiled(output: Path) -> int:
    """`image-service serve` that profiles on request: SIGUSR1 starts cProfile in the main thread
    (the event loop) and in every thread started after it (the layer readers); the stats of all
    threads are merged into `output` when the server stops (SIGTERM)."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(frame: Any, event: str, arg: Any) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        sys.setprofile(None)
        profile.enable()

    main_profile = cProfile.Profile()

    def start(signum: int, frame: Any) -> None:
        threading.setprofile(start_in_thread)
        main_profile.enable()

    signal.signal(signal.SIGUSR1, start)
    from app.cli import main

    try:
        return main(["serve"])
    finally:
        main_profile.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        with lock:
            stats = pstats.Stats(main_profile)
            for profile in profiles:
                with contextlib.suppress(TypeError):  # a profiler that never saw a call
                    stats.add(profile)
        stats.dump_stats(str(output))


# Blocking waits: a thread with nothing to do, not work (excluded from the shares).
_IDLE = ("method 'poll' of 'select.epoll'", "method 'get' of '_queue.SimpleQueue'",
         "method 'acquire' of '_thread.lock'", "method 'acquire' of '_thread.RLock'")  # fmt: skip
_AREAS: list[tuple[str, str]] = [
    ("zlib", "zlib inflate (C)"),
    ("zstandard", "zstd inflate (C)"),
    ("_hashlib", "sha256 (C)"),
    ("tarfile.py", "tarfile (stdlib)"),
    ("app/scanner/layers/inflate.py", "app: chunk/inflate readers"),
    ("app/scanner/layers/bridge.py", "app: loop-to-thread pipe"),
    ("_write_to_self", "app: loop-to-thread pipe"),
    ("app/scanner/layers/parsers", "app: package file parsers"),
    ("app/scanner/layers", "app: layer walk, assemble"),
    ("app/scanner/registry", "app: registry client"),
    ("app/scanner/vulns", "app: vulnerability matching"),
    ("app/services", "app: services"),
    ("storage/", "storage"),
    ("pymongo", "pymongo/bson"),
    ("bson", "pymongo/bson"),
    ("aiohttp", "aiohttp/yarl/multidict"),
    ("yarl", "aiohttp/yarl/multidict"),
    ("multidict", "aiohttp/yarl/multidict"),
    ("orjson", "orjson"),
    ("marshmallow", "marshmallow/schemas"),
    ("schemas/", "marshmallow/schemas"),
    ("asyncio", "asyncio/socket"),
    ("socket", "asyncio/socket"),
    ("selectors", "asyncio/socket"),
]


def _area(filename: str, function: str) -> str:
    key = f"{filename}:{function}"
    for needle, area in _AREAS:
        if needle in key:
            return area
    return "other (stdlib, builtins)"


def profile_digest(path: Path, scans: int, top: int = 15) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    rows = []
    ours = []
    total = idle = 0.0
    for (filename, line, function), (_cc, calls, own, cumulative, _callers) in raw.items():
        short = filename.replace(str(ROOT) + "/", "")
        short = re.sub(r".*/(site-packages|python3\.\d+)/", "", short)
        label = function if filename == "~" else f"{short}:{line} {function}"
        if any(marker in function for marker in _IDLE):
            idle += own
            continue
        total += own
        area = _area(filename, function)
        areas[area] = areas.get(area, 0.0) + own
        rows.append((own, cumulative, calls, label))
        if short.startswith(("app/", "storage/")) and not short.startswith("app/cli"):
            ours.append((cumulative, own, calls, label))
    rows.sort(reverse=True)
    ours.sort(reverse=True)
    return {
        "scans": scans,
        "total_own_s": total,
        "idle_s": idle,
        "areas": sorted(areas.items(), key=lambda item: -item[1]),
        "top": [
            {"function": label, "calls": calls, "own_s": own, "cumulative_s": cumulative}
            for own, cumulative, calls, label in rows[:top]
        ],
        "ours": [
            {"function": label, "calls": calls, "own_s": own, "cumulative_s": cumulative}
            for cumulative, own, calls, label in ours[:top]
        ],
    }


async def run_profiled(cfg: Config, registry: Any, store: Any, workdir: Path) -> dict[str, Any]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    output = workdir / "scan_server.prof"
    command = [*module("bench.scan"), "--serve-profiled", str(output)]
    env = server_env(store.uri + "scan_bench", port, registry.host)
    # layers in threads of the server: cProfile sees one process, not its worker processes
    env["IMAGE_SERVICE_SCAN_WORKERS"] = "0"
    auth = request_headers(cli_token(store.uri + "scan_bench", "scan_bench_profiled"))
    server = Child("scan_server_profiled", command, env=env)
    name = f"{registry.host}/{REPO}:{TAG}"
    seconds = []
    try:
        wait_http_ok(server, f"{base}/livez")
        timeout = aiohttp.ClientTimeout(total=1800)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await post_scan(
                session, base, f"{registry.host}/bench/warmup:1", force=True, headers=auth
            )
            os.kill(server.pid, signal.SIGUSR1)  # profile from here on
            await asyncio.sleep(0.5)
            for _ in range(cfg.profile_scans):
                elapsed, _ = await post_scan(session, base, name, force=True, headers=auth)
                seconds.append(elapsed)
    finally:
        server.stop(timeout_s=120)
    digest = profile_digest(output, cfg.profile_scans)
    digest["seconds"] = seconds
    return digest
