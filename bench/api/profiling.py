"""Our server under cProfile with the benchmarks' load, and the micro-costs measured in-process."""

from __future__ import annotations

from typing import Any

from bench.api.config import Config
from bench.api.datasets import (
    Dataset,
    Store,
    bson_file,
    ensure_dataset,
    ensure_ndjson,
    ids_file,
)
from bench.api.export import export_ours
from bench.api.get_requests import run_loadgen
from bench.api.profile_report import digest, summarize
from bench.children import child, free_port, module, run_json, wait_http_ok
from bench.common import LOOPBACK, WORK


def micro(store: Store, datasets: list[Dataset]) -> dict[str, Any]:
    command = [*module("bench.api.micro"), "--uri", store.uri]
    for ds in datasets:
        ensure_dataset(store, ds, 1)
        command += ["--db", f"{ds.db}:{bson_file(store, ds)}"]
    return run_json(command, timeout_s=600)  # type: ignore[no-any-return]


def profile_get(store: Store, ds: Dataset, variant: str, cfg: Config) -> tuple[str, Any]:
    """cProfile our server under the GET load for a few seconds; markdown summary."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    stats = WORK / f"profile-get-{variant}-{ds.profile}.pstats"
    stats.unlink(missing_ok=True)
    token = WORK / f"profile-get-{variant}-{ds.profile}.token"
    command = [
        *module("bench.api.our_server"), "--port", str(port), "--cprofile", str(stats),
        "--token-file", str(token),
    ]  # fmt: skip
    if variant != "nx":
        command += ["--ndjson", str(ensure_ndjson(store, ds)), "--store", variant]
    with child(f"profile-get-{variant}-{ds.profile}", command,
               env={"MONGODB_URI": store.uri + ds.db}) as ours:  # fmt: skip
        wait_http_ok(ours, f"{base}/livez", timeout_s=900)
        run_loadgen(
            base, ids_file(store, ds), cfg, duration=cfg.profile_seconds, warmup=0.5,
            token_file=token,
        )  # fmt: skip
    return summarize(stats), digest(stats)


def profile_export(store: Store, ds: Dataset) -> tuple[str, Any]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    stats = WORK / f"profile-export-{ds.profile}.pstats"
    stats.unlink(missing_ok=True)
    token = WORK / f"profile-export-{ds.profile}.token"
    command = [
        *module("bench.api.our_server"), "--port", str(port), "--cprofile", str(stats),
        "--token-file", str(token),
    ]  # fmt: skip
    with child(f"profile-export-{ds.profile}", command,
               env={"MONGODB_URI": store.uri + ds.db}) as ours:  # fmt: skip
        wait_http_ok(ours, f"{base}/livez", timeout_s=120)
        export_ours(base, token)
    return summarize(stats), digest(stats)
