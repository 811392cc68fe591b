"""The export stream: ours against one raw driver cursor, and our server's RSS while it exports
(also per batch size), next to a bare cursor's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.api.config import EXPORT_RATIO_GOAL, Config
from bench.api.datasets import Dataset, Store, nx_token, serve_nx
from bench.api.timing import log, measured
from bench.children import child, free_port, module, run_json, wait_http_ok
from bench.common import IMAGE_SERVICE, LOOPBACK, median
from bench.measuring import RssPoller


def export_ours(base: str, token_file: Path, limit: int = 0) -> dict[str, Any]:
    command = [*module("bench.api.export_client"), "--base", base, "--token-file", str(token_file)]
    if limit:
        command += ["--limit", str(limit)]
    return run_json(command, timeout_s=1800)  # type: ignore[no-any-return]


def export_raw(store: Store, ds: Dataset, projection: str, limit: int = 0) -> dict[str, Any]:
    command = [
        *module("bench.api.raw_export"), "--uri", store.uri, "--db", ds.db,
        "--projection", projection,
    ]  # fmt: skip
    if limit:
        command += ["--limit", str(limit)]
    return run_json(command, timeout_s=1800)  # type: ignore[no-any-return]


def export_bench(store: Store, ds: Dataset, cfg: Config) -> dict[str, Any]:
    """Our export stream vs one raw driver cursor, alternating; our RSS is polled too."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    tag = f"export-{ds.profile}"
    arms = ["ours", "raw"] + (["raw_full"] if cfg.raw_full else [])
    rounds: dict[str, list[dict[str, Any]]] = {arm: [] for arm in arms}
    token = nx_token(store, ds)
    with serve_nx(store, ds, port, f"{tag}-ours") as ours:
        wait_http_ok(ours, f"{base}/livez", timeout_s=120)
        log(f"{tag}: warm-up")
        export_ours(base, token, limit=100)
        export_raw(store, ds, "internal", limit=100)
        for number in range(cfg.export_rounds):
            for arm in arms:
                if arm == "raw_full" and number > 0:
                    continue  # informational: one round is enough
                if arm == "ours":
                    with RssPoller(ours.pid) as poller:
                        result = measured(
                            {"server": ours.pid, "store": store.pid},
                            lambda: export_ours(base, token),
                        )
                    result["rss"] = poller.report()
                else:
                    projection = "internal" if arm == "raw" else "none"
                    result = measured(
                        {"store": store.pid}, lambda p=projection: export_raw(store, ds, p)
                    )
                if result["images"] != ds.count:
                    raise RuntimeError(f"{tag} {arm}: {result['images']} images of {ds.count}")
                rounds[arm].append(result)
                log(
                    f"{tag}: round {number + 1} {arm}: {result['images_per_s']:.1f} images/s "
                    f"({result['mb_per_s']:.1f} MB/s), other load "
                    f"{result['other_cpu_s'] / result['wall_s']:.2f} cores"
                )
    summary = {
        arm: {
            "images_per_s": median([r["images_per_s"] for r in results]),
            "mb_per_s": median([r["mb_per_s"] for r in results]),
            "seconds": median([r["seconds"] for r in results]),
            "store_cpu_share": median([r["store_cpu_s"] / r["seconds"] for r in results]),
            "other_cpu_share": median([r["other_cpu_s"] / r["wall_s"] for r in results]),
            "server_cpu_share": median(
                [r.get("server_cpu_s", 0.0) / r["seconds"] for r in results]
            ),
            "client_cpu_share": median(
                [r.get("client_cpu_s", r.get("cpu_s", 0.0)) / r["seconds"] for r in results]
            ),
        }
        for arm, results in rounds.items()
    }
    ratio = summary["ours"]["images_per_s"] / summary["raw"]["images_per_s"]
    return {
        "profile": ds.profile,
        "count": ds.count,
        "rounds": rounds,
        "summary": summary,
        "ratio": ratio,
        "ratio_vs_full": (
            summary["ours"]["images_per_s"] / summary["raw_full"]["images_per_s"]
            if "raw_full" in summary
            else None
        ),
        "rss_growth_mb": max(r["rss"]["growth_mb"] for r in rounds["ours"]),
        "goal_met": ratio >= EXPORT_RATIO_GOAL,
    }


def rss_bench(store: Store, ds: Dataset, batch_size: int | None = None) -> dict[str, Any]:
    """Our server's RSS from just before an export of every image to its end."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    env = {"MONGODB_URI": store.uri + ds.db}
    if batch_size is not None:
        env["IMAGE_SERVICE_EXPORT_BATCH_SIZE"] = str(batch_size)
    command = [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port)]
    token = nx_token(store, ds)
    with child(f"rss-{ds.db}-{batch_size or 'default'}", command, env=env) as ours:
        wait_http_ok(ours, f"{base}/livez", timeout_s=120)
        time.sleep(1.0)  # let start-up settle before the baseline
        with RssPoller(ours.pid) as poller:
            result = measured(
                {"server": ours.pid, "store": store.pid}, lambda: export_ours(base, token)
            )
        report = poller.report()
    if result["images"] != ds.count:
        raise RuntimeError(f"rss {ds.db}: exported {result['images']} of {ds.count}")
    log(
        f"rss {ds.count} {ds.profile} (batch {batch_size or 'default'}): baseline "
        f"{report['baseline_mb']:.1f} MB, peak {report['peak_mb']:.1f} MB, growth "
        f"{report['growth_mb']:.1f} MB ({result['images_per_s']:.1f} images/s)"
    )
    return {
        "profile": ds.profile,
        "count": ds.count,
        "batch_size": batch_size,
        "export": result,
        **report,
    }


def cursor_memory(store: Store, ds: Dataset, mode: str, batch_size: int) -> dict[str, Any]:
    """A bare export-shaped cursor's RSS growth, batches decoded whole or per document."""
    command = [
        *module("bench.api.cursor_memory"), "--uri", store.uri, "--db", ds.db,
        "--mode", mode, "--batch-size", str(batch_size),
    ]  # fmt: skip
    result: dict[str, Any] = run_json(command, timeout_s=1800)
    log(
        f"cursor memory {ds.db} {mode} batch {batch_size}: +{result['growth_mb']:.1f} MB "
        f"({result['images_per_s']:.1f} images/s)"
    )
    return result
