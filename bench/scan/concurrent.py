"""Concurrent cold scans: a few distinct images scanned at once against the same images scanned
one by one, on a fresh server per layer-analysis mode (worker processes, then threads)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.children import Child, free_port, wait_http_ok
from bench.common import LOOPBACK, median
from bench.scan import MB, REPO, TAG
from bench.scan.image import cached_image
from bench.scan.measuring import ProcessWatch, post_scan
from bench.scan.report_findings import fmt_rounds, fmt_s
from bench.scan.server import SERVE_COMMAND, server_env
from bench.tokens import cli_token
from bench.tokens import headers as request_headers
from tests.support.oci.manifests import image_config
from tests.support.oci.push import push_image

IMAGES = 4
# `IMAGE_SERVICE_SCAN_WORKERS` per side: None is the default (the number of cores)
MODES: dict[str, str | None] = {"workers": None, "threads": "0"}


def push_distinct_images(registry: Any, seed: int, cache_root: Path) -> dict[str, Any]:
    """IMAGES images of seeds seed..seed+IMAGES-1 (the first is the main benchmark image, pushed
    already), each built like it and cached; their names and sizes."""
    names = [f"{registry.host}/{REPO}:{TAG}"]
    compressed = []
    built_s = 0.0
    for offset in range(IMAGES):
        recipe, build_s, _ = cached_image(seed + offset, cache_root)
        built_s += build_s
        compressed.append(sum(i.compressed for i in recipe.info))
        if offset:
            repo = f"{REPO}-{offset}"
            config = image_config(recipe.layers, labels={"org.example.build": f"bench-{offset}"})
            push_image(registry, repo, TAG, recipe.layers, config)
            names.append(f"{registry.host}/{repo}:{TAG}")
    return {"names": names, "compressed": compressed, "seeds": [seed + k for k in range(IMAGES)],
            "build_s": built_s}  # fmt: skip


async def measure_concurrent(
    rounds: int, registry: Any, registry_pid: int, store: Any, names: list[str]
) -> dict[str, Any]:
    """Per mode: `rounds` times, the images one by one (sum of their times) and all at once
    (wall time until the last answer), in alternating order."""
    return {
        mode: await _one_mode(mode, workers, rounds, registry, registry_pid, store, names)
        for mode, workers in MODES.items()
    }


async def _one_mode(
    mode: str,
    workers: str | None,
    rounds: int,
    registry: Any,
    registry_pid: int,
    store: Any,
    names: list[str],
) -> dict[str, Any]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    uri = store.uri + "scan_bench"
    auth = request_headers(cli_token(uri, f"scan_bench_{mode}"))
    env = server_env(uri, port, registry.host)
    if workers is not None:
        env["IMAGE_SERVICE_SCAN_WORKERS"] = workers
    server = Child(f"scan_server_{mode}", SERVE_COMMAND, env=env)
    out: dict[str, Any] = {
        "workers": workers if workers is not None else "default",
        "cores": len(os.sched_getaffinity(0)),
        "one_by_one": [], "each": [], "at_once": [], "cpu_one_by_one": [], "cpu_at_once": [],
    }  # fmt: skip
    try:
        wait_http_ok(server, f"{base}/livez")
        watch = ProcessWatch(
            {"server": server.pid, "registry": registry_pid, "store": store.process.pid},
            with_children=frozenset({"server"}),
        )
        timeout = aiohttp.ClientTimeout(total=1800)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            for name in names:  # warm-up: imports, feed cache, workers, the registry's files
                await post_scan(session, base, name, force=True, headers=auth)
            for round_index in range(rounds):
                order = ["one_by_one", "at_once"]
                if round_index % 2:
                    order.reverse()
                for side in order:
                    watch.start()
                    if side == "one_by_one":
                        each = [
                            (await post_scan(session, base, name, force=True, headers=auth))[0]
                            for name in names
                        ]
                        out["each"].append(each)
                        out["one_by_one"].append(sum(each))
                    else:
                        started = time.perf_counter()
                        await asyncio.gather(
                            *(post_scan(session, base, n, force=True, headers=auth) for n in names)
                        )
                        out["at_once"].append(time.perf_counter() - started)
                    out[f"cpu_{side}"].append(watch.stop())
                print(
                    f"concurrent ({mode}) round {round_index + 1}: {len(names)} one by one "
                    f"{out['one_by_one'][-1]:.2f} s, at once {out['at_once'][-1]:.2f} s",
                    file=sys.stderr,
                )
    finally:
        server.stop()
    return out


def render_concurrent(concurrent: dict[str, Any], images: dict[str, Any]) -> list[str]:
    """The table of the `## Scanning` section for the concurrent scans."""
    sizes = ", ".join(f"{c / MB:.0f}" for c in images["compressed"])
    lines = [
        "",
        f"Concurrent cold scans (`force: true`): {len(images['names'])} distinct images (seeds "
        f"{images['seeds'][0]}–{images['seeds'][-1]}, built like the one above; {sizes} MB "
        "compressed) scanned at once, against the same scans one after another (sum of their "
        "times); fresh server per row, medians of the rounds:",
        "",
        "| layers analysed in | one by one (sum) | all at once | at once / one by one | "
        "rounds (one by one; at once) | CPU during *at once*: server with its workers / store "
        "/ other |",
        "|---|---:|---:|---:|---|---|",
    ]
    for mode, side in concurrent.items():
        serial, together = median(side["one_by_one"]), median(side["at_once"])
        cpu = side["cpu_at_once"]
        shares = " / ".join(
            f"{median([c[k] / s for c, s in zip(cpu, side['at_once'], strict=True)]):.2f}"
            for k in ("server", "store", "other")
        )
        label = (
            f"{side['cores']} worker processes (`IMAGE_SERVICE_SCAN_WORKERS` default: the cores)"
            if mode == "workers"
            else "threads of the server (`IMAGE_SERVICE_SCAN_WORKERS=0`)"
        )
        lines.append(
            f"| {label} | {fmt_s(serial)} | {fmt_s(together)} | **{together / serial:.2f}** | "
            f"{fmt_rounds(side['one_by_one'])}; {fmt_rounds(side['at_once'])} | {shares} |"
        )
    return lines


def concurrency_bound(
    concurrent: dict[str, Any], busy: float, *, cores: int, count: int
) -> list[str]:
    """What the concurrent table means: against the threads' one-by-one sum (how scans ran
    before the worker processes), and the least ratio this machine allows."""
    if "workers" not in concurrent or "threads" not in concurrent:
        return []
    at_once = median(concurrent["workers"]["at_once"])
    before = median(concurrent["threads"]["one_by_one"])
    return [
        "",
        f"With worker processes, the {count} scans at "
        f"once take {fmt_s(at_once)}: {at_once / before:.2f}× the threads' one-by-one sum "
        f"({fmt_s(before)}), which is how scans ran before the worker processes. Against their "
        "own one-by-one sum the gain is smaller, because one cold scan alone already reads its "
        f"layers in both workers: during it the machine is {busy / cores:.0%} busy (server with "
        f"its workers, registry, store and bench in the cold-scan row above, of {cores} cores). "
        "Four scans at once need the same CPU seconds, so on this machine no schedule can take "
        f"them below about {busy / cores:.2f}× their one-by-one sum; more cores lower that bound.",
    ]
