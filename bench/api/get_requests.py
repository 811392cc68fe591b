"""GET /v1/images/{id}: our server against a bare aiohttp + driver server, alternating rounds."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.api.config import Config, get_ratio_goal
from bench.api.datasets import (
    Dataset,
    Store,
    bson_file,
    ensure_ndjson,
    ids_file,
    ndjson_file,
    nx_token,
)
from bench.api.timing import log, measured
from bench.children import child, free_port, module, run_json, wait_http_ok
from bench.common import IMAGE_SERVICE, LOOPBACK, WORK, median


def run_loadgen(
    base: str,
    ids: Path,
    cfg: Config,
    duration: float,
    warmup: float,
    token_file: Path | None = None,
) -> dict[str, Any]:
    command = [
        *module("bench.api.loadgen"), "--base", base, "--ids", str(ids),
        "--concurrency", str(cfg.concurrency), "--duration", str(duration),
        "--warmup", str(warmup),
    ]  # fmt: skip
    if token_file is not None:
        command += ["--token-file", str(token_file)]
    return run_json(command, timeout_s=duration + warmup + 120)  # type: ignore[no-any-return]


@dataclass
class Side:
    """One server of a comparison: how to start it and where it answers."""

    command: list[str]
    ready_path: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    token_file: Path | None = None  # the bearer token its clients send (none: the bare server)

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


def compare(
    tag: str,
    sides: dict[str, Side],
    ids: Path,
    cfg: Config,
    *,
    rounds: int,
    store_pid: int | None,
    while_up: Callable[[dict[str, Side]], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Start every side, warm each up, then alternate measured rounds between them."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    with contextlib.ExitStack() as stack:
        procs = {
            name: stack.enter_context(child(f"{tag}-{name}", side.command, env=side.env))
            for name, side in sides.items()
        }
        for name, side in sides.items():
            wait_http_ok(procs[name], side.base + side.ready_path, timeout_s=900)
        if while_up is not None:
            while_up(sides)
        for name, side in sides.items():
            log(f"{tag}: warm-up {name}")
            run_loadgen(side.base, ids, cfg, duration=2.0, warmup=0.5, token_file=side.token_file)
        for number in range(rounds):
            for name, side in sides.items():
                pids = {"server": procs[name].pid}
                if store_pid is not None:
                    pids["store"] = store_pid
                result = measured(
                    pids,
                    lambda s=side: run_loadgen(s.base, ids, cfg, cfg.duration, 1.0, s.token_file),
                )
                results[name].append(result)
                log(
                    f"{tag}: round {number + 1} {name}: {result['rps']:.0f} req/s, "
                    f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                    f"errors {result['errors']}, other load "
                    f"{result['other_cpu_s'] / result['wall_s']:.2f} cores"
                )
    return results


# No request refused or cut short by admission: these benchmarks measure per-request cost, not
# back-pressure (bench/api/load_mix.py does). The default slots and queue hold every connection;
# fixed slots and a long queue wait keep slow stores (nx, realistic) from 429s.
NO_REFUSALS = {"IMAGE_SERVICE_TARGET_LATENCY": "0", "IMAGE_SERVICE_QUEUE_WAIT": "600"}


def our_server(ds: Dataset, store: Store, port: int, variant: str, name: str, *extra: str) -> Side:
    """`bench/api/our_server.py` on the store (nx) or on an in-process double, making its own
    token at start-up."""
    token = WORK / f"{name}.token"
    token.unlink(missing_ok=True)
    command = [*module("bench.api.our_server"), "--port", str(port), "--token-file", str(token)]
    if variant != "nx":
        command += ["--ndjson", str(ensure_ndjson(store, ds)), "--store", variant]
    env = {"MONGODB_URI": store.uri + ds.db, **NO_REFUSALS}
    return Side([*command, *extra], "/livez", port, env, token)


def get_bench(store: Store, ds: Dataset, variant: str, cfg: Config) -> dict[str, Any]:
    """Ours vs bare, alternating rounds, on the store (nx) or on an in-process double."""
    ids = ids_file(store, ds)
    port_ours, port_bare = free_port(), free_port()
    bare = [*module("bench.api.bare_server"), "--port", str(port_bare), "--db", ds.db]
    if variant == "nx":
        ours = Side(
            [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port_ours)],
            "/livez",
            port_ours,
            {"MONGODB_URI": store.uri + ds.db, **NO_REFUSALS},
            nx_token(store, ds),
        )
        bare += ["--uri", store.uri]
    else:  # an in-process double: "mongomock" or "snapshot"
        ours = our_server(ds, store, port_ours, variant, f"get-{variant}-{ds.profile}-ours")
        bare += ["--bson", str(bson_file(store, ds)), "--store", variant]

    def export_for_doubles(sides: dict[str, Side]) -> None:
        if variant == "nx":  # the NDJSON the in-process variants load, while we are up
            ndjson_file(ds, sides["ours"].base, nx_token(store, ds))

    rounds = compare(
        f"get-{variant}-{ds.profile}",
        {"ours": ours, "bare": Side(bare, "/ready", port_bare)},
        ids,
        cfg,
        rounds=cfg.rounds,
        store_pid=store.pid if variant == "nx" else None,
        while_up=export_for_doubles,
    )
    summary = {side: get_summary(results) for side, results in rounds.items()}
    ratio = summary["ours"]["rps"] / summary["bare"]["rps"] if summary["bare"]["rps"] else 0.0
    return {
        "variant": variant,
        "profile": ds.profile,
        "count": ds.count,
        "rounds": rounds,
        "summary": summary,
        "ratio": ratio,
        "goal_met": ratio >= get_ratio_goal(variant, ds.profile),
    }


def get_summary(results: list[dict[str, Any]]) -> dict[str, float]:
    per_request = [
        r["server_cpu_s"] / max(r["all_requests"], 1) * 1e6 for r in results if r["all_requests"]
    ]
    return {
        "rps": median([r["rps"] for r in results]),
        "p50_ms": median([r["p50_ms"] for r in results]),
        "p99_ms": median([r["p99_ms"] for r in results]),
        "errors": sum(r["errors"] for r in results),
        "body_kb": median([r["mean_body_bytes"] for r in results]) / 1024,
        "server_cpu_us_per_req": median(per_request),
        "server_cpu_share": median([r["server_cpu_s"] / r["load_s"] for r in results]),
        "client_cpu_share": median([r["client_cpu_s"] / r["seconds"] for r in results]),
        "store_cpu_share": median([r.get("store_cpu_s", 0.0) / r["load_s"] for r in results]),
        "other_cpu_share": median([r["other_cpu_s"] / r["wall_s"] for r in results]),
    }
