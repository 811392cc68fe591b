"""The measured rounds against a fresh server: cold, warm and relabelled scans, alternating with
the two baselines."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from bench.children import Child, free_port, wait_http_ok
from bench.common import LOOPBACK
from bench.measuring import RssPoller
from bench.scan import REPO, TAG, MiB
from bench.scan.baselines import baseline_pull
from bench.scan.measuring import ProcessWatch, post_scan, scanner_metrics, vm_hwm
from bench.scan.server import SERVE_COMMAND, LayerLog, server_env
from bench.tokens import cli_token
from bench.tokens import headers as request_headers
from tests.support.oci.layers import Blob
from tests.support.oci.manifests import image_config
from tests.support.oci.push import push_image
from tests.support.oci.samples import push_debian

POLL_S = 0.02


@dataclass
class Config:
    rounds: int
    seed: int
    update_results: bool
    results: Path
    profile: bool
    profile_scans: int
    keep: bool
    # rounds of concurrent cold scans per layer-analysis mode (0: none)
    concurrent_rounds: int = 3


@dataclass
class Side:
    seconds: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)


def _summary(image: dict[str, Any]) -> dict[str, int]:
    components = image.get("scan", {}).get("components", [])
    return {
        "components": len(components),
        "vulns": sum(len(c.get("vulns") or []) for c in components),
        "vulnerable_components": sum(1 for c in components if c.get("vulns")),
    }


async def measure(
    cfg: Config, registry: Any, registry_pid: int, store: Any, layers: list[Blob]
) -> dict[str, Any]:
    """Every measured round, against a fresh server."""
    out: dict[str, Any] = {}
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    uri = store.uri + "scan_bench"
    auth = request_headers(cli_token(uri, "scan_bench"))
    server = Child("scan_server", SERVE_COMMAND, env=server_env(uri, port, registry.host))
    layer_log = LayerLog(server.log_path)
    name = f"{registry.host}/{REPO}:{TAG}"
    sides = {k: Side() for k in ("cold", "warm", "relabel", "download", "inflate")}
    rss: list[dict[str, float]] = []
    counters: dict[str, list[dict[str, float]]] = {k: [] for k in ("cold", "warm", "relabel")}
    timeout = aiohttp.ClientTimeout(total=900)
    try:
        wait_http_ok(server, f"{base}/livez")
        watch = ProcessWatch(
            {"server": server.pid, "registry": registry_pid, "store": store.process.pid,
             "bench": os.getpid()},
            with_children=frozenset({"server"}),  # its layer workers
        )  # fmt: skip
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            # warm-ups: the registry's files into the page cache, the server's imports and
            # feed through a small image
            await baseline_pull(session, registry.url, REPO, TAG, inflate=False)
            push_debian(registry, "bench/warmup", "1")
            await post_scan(
                session, base, f"{registry.host}/bench/warmup:1", force=True, headers=auth
            )
            await asyncio.sleep(1.0)
            out["server_rss_idle"] = psutil.Process(server.pid).memory_info().rss
            for round_index in range(cfg.rounds):
                order = ["cold", "download", "inflate"]
                if round_index % 2:
                    order.reverse()
                for side in order:
                    before = await scanner_metrics(session, base)
                    watch.start()
                    if side == "cold":
                        with RssPoller(server.pid, interval_s=POLL_S) as poller:
                            seconds, image = await post_scan(
                                session, base, name, force=True, headers=auth
                            )
                        cold_id = image["id"]
                        rss.append(
                            {"before": poller.baseline, "peak": poller.peak,
                             "samples": poller.samples}
                        )  # fmt: skip
                        sides[side].extra.append(
                            {**_summary(image), "layer_seconds": layer_log.new_reads(name)}
                        )
                    else:
                        pulled = await baseline_pull(
                            session, registry.url, REPO, TAG, inflate=side == "inflate"
                        )
                        seconds = pulled["seconds"]
                        sides[side].extra.append(pulled)
                    sides[side].cpu.append(watch.stop())
                    sides[side].seconds.append(seconds)
                    if side == "cold":
                        after = await scanner_metrics(session, base)
                        counters[side].append({k: after[k] - before.get(k, 0) for k in after})
                # warm: stored scan and metadata cache
                before = await scanner_metrics(session, base)
                watch.start()
                seconds, image = await post_scan(session, base, name, force=False, headers=auth)
                sides["warm"].cpu.append(watch.stop())
                sides["warm"].seconds.append(seconds)
                sides["warm"].extra.append(_summary(image))
                after = await scanner_metrics(session, base)
                counters["warm"].append({k: after[k] - before.get(k, 0) for k in after})
                # relabelled: a new manifest digest whose layers are all in the layer cache
                relabel_tag = f"relabel-{round_index}"
                config = image_config(layers, labels={"org.example.build": f"round-{round_index}"})
                push_image(registry, REPO, relabel_tag, layers, config)
                before = await scanner_metrics(session, base)
                watch.start()
                seconds, image = await post_scan(
                    session,
                    base,
                    f"{registry.host}/{REPO}:{relabel_tag}",
                    force=False,
                    headers=auth,
                )
                sides["relabel"].cpu.append(watch.stop())
                sides["relabel"].seconds.append(seconds)
                sides["relabel"].extra.append(_summary(image))
                after = await scanner_metrics(session, base)
                counters["relabel"].append({k: after[k] - before.get(k, 0) for k in after})
                print(
                    f"round {round_index + 1}: cold {sides['cold'].seconds[-1]:.2f} s, "
                    f"download {sides['download'].seconds[-1]:.2f} s, "
                    f"inflate {sides['inflate'].seconds[-1]:.2f} s, "
                    f"warm {sides['warm'].seconds[-1] * 1000:.0f} ms, "
                    f"relabelled {sides['relabel'].seconds[-1] * 1000:.0f} ms, "
                    f"RSS +{(rss[-1]['peak'] - rss[-1]['before']) / MiB:.1f} MiB",
                    file=sys.stderr,
                )
        out["server_vm_hwm"] = vm_hwm(server.pid)
        out["stored"] = await asyncio.to_thread(_probe_store, uri, cold_id)
    finally:
        server.stop()
    out["sides"] = {k: asdict(v) for k, v in sides.items()}
    out["rss"] = rss
    out["counters"] = counters
    return out


def _probe_store(uri: str, image_id: str) -> dict[str, float]:
    """Size of the stored image and what one read of it costs the store (best of 3)."""
    import bson
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        images = client.get_default_database()["images"]
        whole = images.find_one({"_id": image_id})
        assert whole is not None
        times = []
        for _ in range(3):
            started = time.perf_counter()
            images.find_one({"_id": image_id}, {"_search": 0, "_rev": 0})
            times.append(time.perf_counter() - started)
        public = {k: v for k, v in whole.items() if k not in ("_search", "_rev", "_scanner")}
        return {
            "bson_bytes": len(bson.encode(whole)),
            "public_bson_bytes": len(bson.encode(public)),
            "find_one_s": min(times),
        }
    finally:
        client.close()
