"""One run of the scan benchmark: build (or reuse) the image, start the registry and the store,
push, import the feed, measure; every process is stopped by its PID however the run ends."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import IMAGE_SERVICE, ROOT, WORK, machine
from bench.scan import MB, REPO, TAG
from bench.scan.concurrent import measure_concurrent, push_distinct_images
from bench.scan.feed import build_feed
from bench.scan.image import cached_image
from bench.scan.profiling import run_profiled
from bench.scan.rounds import Config, measure
from tests.support.oci.manifests import image_config
from tests.support.oci.push import push_image
from tests.support.oci.samples import write_feed
from tests.support.registry import start_registry, stop_registry


def _commit() -> str:
    """The commit under test, and whether the working tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=7", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "`unknown`"
    if not head:
        return "`unknown`"
    return f"`{head}` plus uncommitted changes" if dirty else f"`{head}`"


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def run(cfg: Config) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {
        "rounds": cfg.rounds,
        "seed": cfg.seed,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": machine(),
        "load_before": _load(),
    }
    cache_root = WORK / "scan"
    recipe, build_s, cached = cached_image(cfg.seed, cache_root)
    results.update(
        build_s=build_s,
        build_cached=cached,
        layers=[asdict(i) for i in recipe.info],
        layer_digests=[blob.digest for blob in recipe.layers],
        expected_components=recipe.expected_components,
    )
    print(
        f"image: {sum(i.compressed for i in recipe.info) / MB:.1f} MB compressed in "
        f"{len(recipe.layers)} layers ({'cached' if cached else 'built'} in {build_s:.1f} s)",
        file=sys.stderr,
    )
    feed = build_feed(recipe, cfg.seed)
    results["feed"] = {k: feed[k] for k in ("per_ecosystem", "expected_hits")}
    workdir = Path(tempfile.mkdtemp(prefix="scan-bench-"))
    registry_process = None
    store = None
    try:
        registry, registry_process = start_registry(workdir / "registry")
        from app.cli.local_store import start_local_store

        store = start_local_store(workdir / "store")
        config = image_config(recipe.layers, labels={"org.example.build": "bench"})
        push_image(registry, REPO, TAG, recipe.layers, config)
        write_feed(workdir / "feed", feed["records"])
        import_started = time.perf_counter()
        env = {**os.environ, "MONGODB_URI": store.uri + "scan_bench"}
        done = await asyncio.to_thread(
            _run_quiet,
            [IMAGE_SERVICE, "vulndb", "import", "--no-progress", str(workdir / "feed")],
            env,
        )
        if done:
            raise RuntimeError(f"vulndb import failed: {done}")
        results["feed_import_s"] = time.perf_counter() - import_started
        measured = await measure(cfg, registry, registry_process.pid, store, recipe.layers)
        results.update(measured)
        if cfg.concurrent_rounds:
            images = await asyncio.to_thread(push_distinct_images, registry, cfg.seed, cache_root)
            results["concurrent_images"] = images
            results["concurrent"] = await measure_concurrent(
                cfg.concurrent_rounds, registry, registry_process.pid, store, images["names"]
            )
        if cfg.profile:
            results["profile"] = await run_profiled(cfg, registry, store, workdir)
    finally:
        if store is not None:
            store.stop()
        if registry_process is not None:
            stop_registry(registry_process)
        if cfg.keep:
            print(f"work directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["load_after"] = _load()
    results["minutes"] = (time.monotonic() - started) / 60
    return results


def _run_quiet(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return "" if done.returncode == 0 else (done.stderr or done.stdout)[-2000:]
