"""Runs every benchmark (GET req/s, export images/s, export RSS) and rewrites bench/RESULTS.md."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from benchlib import (
    BENCH,
    IMAGE_SERVICE,
    LOOPBACK,
    PYTHON,
    WORK,
    Child,
    free_port,
    machine,
    median,
    run_json,
    wait_http_ok,
)
from bson.raw_bson import RawBSONDocument
from profile_report import digest, summarize
from pymongo import MongoClient
from results_md import render

GET_RATIO_GOAL = 0.7
EXPORT_RATIO_GOAL = 0.8
RSS_GROWTH_GOAL_MB = 64.0
MB = 1024 * 1024


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


@dataclass
class Config:
    get_counts: dict[str, int]
    export_counts: dict[str, int]
    rss_counts: list[int]
    rss_profile: str
    rss_batch_sizes: list[int]
    seed: int
    rounds: int
    duration: float
    concurrency: int
    export_rounds: int
    variants: list[str]
    skip: set[str]
    raw_full: bool
    profile: str
    profile_seconds: float
    seed_workers: int
    seed_only: bool
    render_only: bool


@dataclass
class Log:
    """Progress on stderr, with the elapsed time."""

    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed / 60:5.1f} min] {message}", file=sys.stderr, flush=True)


log = Log()


# ---------------------------------------------------------------------------- processes


@contextlib.contextmanager
def child(name: str, command: list[str], *, env: dict[str, str] | None = None) -> Iterator[Child]:
    """A child process that is stopped by its PID however the block ends."""
    proc = Child(name, command, env=env)
    try:
        yield proc
    finally:
        proc.stop()


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class RssPoller:
    """Polls a process's RSS every `interval_s` in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        self.samples = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._process.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            self.samples += 1
            self._stop.wait(self._interval_s)

    def __enter__(self) -> RssPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(psutil.Error):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def report(self) -> dict[str, float]:
        return {
            "baseline_mb": self.baseline / MB,
            "peak_mb": self.peak / MB,
            "growth_mb": (self.peak - self.baseline) / MB,
            "samples": self.samples,
        }


# ---------------------------------------------------------------------------- data


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


def _serve_nx(
    store: Store, ds: Dataset, port: int, name: str
) -> contextlib.AbstractContextManager[Child]:
    command = [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port)]
    return child(name, command, env={"MONGODB_URI": store.uri + ds.db})


def ensure_ndjson(store: Store, ds: Dataset) -> Path:
    """The export file, made by our server on the store if it is not there yet."""
    if ds.file("ndjson").exists():
        return ds.file("ndjson")
    port = free_port()
    with _serve_nx(store, ds, port, f"ndjson-{ds.db}") as ours:
        wait_http_ok(ours, f"http://{LOOPBACK}:{port}/livez", timeout_s=120)
        return ndjson_file(ds, f"http://{LOOPBACK}:{port}")


def ndjson_file(ds: Dataset, base: str) -> Path:
    """Our export of the dataset (wire shape), for our server on the in-memory double."""
    path = ds.file("ndjson")
    if not path.exists():
        partial = path.with_suffix(".ndjson.part")
        result = run_json(
            [PYTHON, str(BENCH / "export_client.py"), "--base", base, "--out", str(partial)],
            timeout_s=1800,
        )
        if result["images"] != ds.count or result["error_line"]:
            raise RuntimeError(f"export of {ds.db} for the in-memory run failed: {result}")
        partial.rename(path)
    return path


# ---------------------------------------------------------------------------- GET


def _loadgen(base: str, ids: Path, cfg: Config, duration: float, warmup: float) -> dict[str, Any]:
    command = [
        PYTHON, str(BENCH / "loadgen.py"), "--base", base, "--ids", str(ids),
        "--concurrency", str(cfg.concurrency), "--duration", str(duration),
        "--warmup", str(warmup),
    ]  # fmt: skip
    return run_json(command, timeout_s=duration + warmup + 120)  # type: ignore[no-any-return]


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process)."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0))


def _own_cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (load generators, readers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _wait_quiet(limit_s: float = 10.0, threshold_cores: float = 0.15) -> float:
    """Between rounds (our servers idle), wait up to `limit_s` for other load to die down.

    Returns the seconds waited. Other work on the machine competes for the same cores.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        busy = _busy_cpu_s()
        time.sleep(0.5)
        if (_busy_cpu_s() - busy) / 0.5 < threshold_cores:
            break
    return time.perf_counter() - started


def _measured(pids: dict[str, int], run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement, adding the CPU seconds each process used meanwhile.

    `other_cpu_s` is what the rest of the machine used: processes that are not part of the
    benchmark (anything else running on the box competes for the same cores).
    """
    waited = _wait_quiet()
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    busy, own = _busy_cpu_s(), _own_cpu_s()
    wall = time.perf_counter()
    result = run()
    result["wall_s"] = time.perf_counter() - wall
    ours = _own_cpu_s() - own
    for name, pid in pids.items():
        result[f"{name}_cpu_s"] = cpu_seconds(pid) - before[name]
        ours += result[f"{name}_cpu_s"]
    result["other_cpu_s"] = max(0.0, _busy_cpu_s() - busy - ours)
    result["waited_for_quiet_s"] = waited
    return result


@dataclass
class Side:
    """One server of a comparison: how to start it and where it answers."""

    command: list[str]
    ready_path: str
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


def _compare(
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
            _loadgen(side.base, ids, cfg, duration=2.0, warmup=0.5)
        for number in range(rounds):
            for name, side in sides.items():
                pids = {"server": procs[name].pid}
                if store_pid is not None:
                    pids["store"] = store_pid
                result = _measured(
                    pids, lambda b=side.base: _loadgen(b, ids, cfg, cfg.duration, 1.0)
                )
                results[name].append(result)
                log(
                    f"{tag}: round {number + 1} {name}: {result['rps']:.0f} req/s, "
                    f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                    f"errors {result['errors']}, other load "
                    f"{result['other_cpu_s'] / result['wall_s']:.2f} cores"
                )
    return results


def _our_double(ds: Dataset, store: Store, port: int, variant: str) -> Side:
    command = [PYTHON, str(BENCH / "our_server.py"), "--port", str(port)]
    command += ["--ndjson", str(ensure_ndjson(store, ds)), "--store", variant]
    return Side(command, "/livez", port, {"MONGODB_URI": store.uri + ds.db})


def get_bench(store: Store, ds: Dataset, variant: str, cfg: Config) -> dict[str, Any]:
    """Ours vs bare, alternating rounds, on the store (nx) or on an in-process double."""
    ids = ids_file(store, ds)
    port_ours, port_bare = free_port(), free_port()
    bare = [PYTHON, str(BENCH / "bare_server.py"), "--port", str(port_bare), "--db", ds.db]
    if variant == "nx":
        ours = Side(
            [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port_ours)],
            "/livez",
            port_ours,
            {"MONGODB_URI": store.uri + ds.db},
        )
        bare += ["--uri", store.uri]
    else:  # an in-process double: "mongomock" or "snapshot"
        ours = _our_double(ds, store, port_ours, variant)
        bare += ["--bson", str(bson_file(store, ds)), "--store", variant]

    def export_for_doubles(sides: dict[str, Side]) -> None:
        if variant == "nx":  # the NDJSON the in-process variants load, while we are up
            ndjson_file(ds, sides["ours"].base)

    rounds = _compare(
        f"get-{variant}-{ds.profile}",
        {"ours": ours, "bare": Side(bare, "/ready", port_bare)},
        ids,
        cfg,
        rounds=cfg.rounds,
        store_pid=store.pid if variant == "nx" else None,
        while_up=export_for_doubles,
    )
    summary = {side: _get_summary(results) for side, results in rounds.items()}
    ratio = summary["ours"]["rps"] / summary["bare"]["rps"] if summary["bare"]["rps"] else 0.0
    return {
        "variant": variant,
        "profile": ds.profile,
        "count": ds.count,
        "rounds": rounds,
        "summary": summary,
        "ratio": ratio,
        "goal_met": ratio >= GET_RATIO_GOAL,
    }


def _get_summary(results: list[dict[str, Any]]) -> dict[str, float]:
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


# ---------------------------------------------------------------------------- export


def _export_ours(base: str, limit: int = 0) -> dict[str, Any]:
    command = [PYTHON, str(BENCH / "export_client.py"), "--base", base]
    if limit:
        command += ["--limit", str(limit)]
    return run_json(command, timeout_s=1800)  # type: ignore[no-any-return]


def _export_raw(store: Store, ds: Dataset, projection: str, limit: int = 0) -> dict[str, Any]:
    command = [
        PYTHON, str(BENCH / "raw_export.py"), "--uri", store.uri, "--db", ds.db,
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
    with _serve_nx(store, ds, port, f"{tag}-ours") as ours:
        wait_http_ok(ours, f"{base}/livez", timeout_s=120)
        log(f"{tag}: warm-up")
        _export_ours(base, limit=100)
        _export_raw(store, ds, "internal", limit=100)
        for number in range(cfg.export_rounds):
            for arm in arms:
                if arm == "raw_full" and number > 0:
                    continue  # informational: one round is enough
                if arm == "ours":
                    with RssPoller(ours.pid) as poller:
                        result = _measured(
                            {"server": ours.pid, "store": store.pid}, lambda: _export_ours(base)
                        )
                    result["rss"] = poller.report()
                else:
                    projection = "internal" if arm == "raw" else "none"
                    result = _measured(
                        {"store": store.pid}, lambda p=projection: _export_raw(store, ds, p)
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


# ---------------------------------------------------------------------------- RSS


def rss_bench(store: Store, ds: Dataset, batch_size: int | None = None) -> dict[str, Any]:
    """Our server's RSS from just before an export of every image to its end."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    env = {"MONGODB_URI": store.uri + ds.db}
    if batch_size is not None:
        env["IMAGE_SERVICE_EXPORT_BATCH_SIZE"] = str(batch_size)
    command = [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port)]
    with child(f"rss-{ds.db}-{batch_size or 'default'}", command, env=env) as ours:
        wait_http_ok(ours, f"{base}/livez", timeout_s=120)
        time.sleep(1.0)  # let start-up settle before the baseline
        with RssPoller(ours.pid) as poller:
            result = _measured({"server": ours.pid, "store": store.pid}, lambda: _export_ours(base))
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
        PYTHON, str(BENCH / "cursor_memory.py"), "--uri", store.uri, "--db", ds.db,
        "--mode", mode, "--batch-size", str(batch_size),
    ]  # fmt: skip
    result: dict[str, Any] = run_json(command, timeout_s=1800)
    log(
        f"cursor memory {ds.db} {mode} batch {batch_size}: +{result['growth_mb']:.1f} MB "
        f"({result['images_per_s']:.1f} images/s)"
    )
    return result


# ---------------------------------------------------------------------------- micro-costs


def micro(store: Store, datasets: list[Dataset]) -> dict[str, Any]:
    command = [PYTHON, str(BENCH / "micro.py"), "--uri", store.uri]
    for ds in datasets:
        ensure_dataset(store, ds, 1)
        command += ["--db", f"{ds.db}:{bson_file(store, ds)}"]
    return run_json(command, timeout_s=600)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- profiles


def profile_get(store: Store, ds: Dataset, variant: str, cfg: Config) -> tuple[str, Any]:
    """cProfile our server under the GET load for a few seconds; markdown summary."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    stats = WORK / f"profile-get-{variant}-{ds.profile}.pstats"
    stats.unlink(missing_ok=True)
    command = [PYTHON, str(BENCH / "our_server.py"), "--port", str(port), "--cprofile", str(stats)]
    if variant != "nx":
        command += ["--ndjson", str(ensure_ndjson(store, ds)), "--store", variant]
    with child(f"profile-get-{variant}-{ds.profile}", command,
               env={"MONGODB_URI": store.uri + ds.db}) as ours:  # fmt: skip
        wait_http_ok(ours, f"{base}/livez", timeout_s=900)
        _loadgen(base, ids_file(store, ds), cfg, duration=cfg.profile_seconds, warmup=0.5)
    return summarize(stats), digest(stats)


def profile_export(store: Store, ds: Dataset) -> tuple[str, Any]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    stats = WORK / f"profile-export-{ds.profile}.pstats"
    stats.unlink(missing_ok=True)
    command = [PYTHON, str(BENCH / "our_server.py"), "--port", str(port), "--cprofile", str(stats)]
    with child(f"profile-export-{ds.profile}", command,
               env={"MONGODB_URI": store.uri + ds.db}) as ours:  # fmt: skip
        wait_http_ok(ours, f"{base}/livez", timeout_s=120)
        _export_ours(base)
    return summarize(stats), digest(stats)


# ---------------------------------------------------------------------------- main


def _parse(argv: list[str] | None) -> tuple[Config, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--get-small", type=int, default=2000, help="small images for GET")
    parser.add_argument("--get-realistic", type=int, default=300, help="realistic images for GET")
    parser.add_argument("--export-small", type=int, default=5000)
    parser.add_argument("--export-realistic", type=int, default=500)
    parser.add_argument("--rss-counts", default="10000,100000", help="comma-separated counts")
    parser.add_argument(
        "--rss-batch-sizes",
        default="256,64,16",
        help="export batch sizes for the realistic RSS sweep ('' to skip)",
    )
    parser.add_argument("--rss-profile", choices=["small", "realistic"], default="small")
    parser.add_argument("--seed", type=int, default=1, help="generator seed of every dataset")
    parser.add_argument("--rounds", type=int, default=3, help="GET rounds per side")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per GET round")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--export-rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        default="nx,mongomock,snapshot",
        help="GET store variants: nx (over the wire), mongomock, snapshot (in-process doubles)",
    )
    parser.add_argument("--skip", default="", help="comma-separated: get, export, rss, micro")
    parser.add_argument(
        "--no-raw-full", action="store_true", help="skip the whole-document raw export arm"
    )
    parser.add_argument(
        "--profile",
        choices=["auto", "always", "never"],
        default="auto",
        help="cProfile our server: snapshot GET and any missed goal (auto), everywhere, nowhere",
    )
    parser.add_argument("--profile-seconds", type=float, default=6.0)
    parser.add_argument("--seed-workers", type=int, default=2, help="parallel seeders (≥20k)")
    parser.add_argument(
        "--seed-only", action="store_true", help="seed the datasets, run nothing, keep RESULTS.md"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite RESULTS.md from the last run's bench/.work/results.json, run nothing",
    )
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and short rounds (a smoke test)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.get_small, args.get_realistic = 200, 20
        args.export_small, args.export_realistic = 300, 20
        args.rss_counts, args.rounds, args.duration = "1000", 1, 2.0
        args.rss_batch_sizes = "256,16"
        args.export_rounds, args.profile_seconds = 1, 2.0
    cfg = Config(
        get_counts={"small": args.get_small, "realistic": args.get_realistic},
        export_counts={"small": args.export_small, "realistic": args.export_realistic},
        rss_counts=[int(x) for x in args.rss_counts.split(",") if x.strip()],
        rss_profile=args.rss_profile,
        rss_batch_sizes=[int(x) for x in args.rss_batch_sizes.split(",") if x.strip()],
        seed=args.seed,
        rounds=args.rounds,
        duration=args.duration,
        concurrency=args.concurrency,
        export_rounds=args.export_rounds,
        variants=[v.strip() for v in args.variants.split(",") if v.strip()],
        skip={s.strip() for s in args.skip.split(",") if s.strip()},
        raw_full=not args.no_raw_full,
        profile=args.profile,
        profile_seconds=args.profile_seconds,
        seed_workers=args.seed_workers,
        seed_only=args.seed_only,
        render_only=args.render_only,
    )
    return cfg, args.results, args.quick


def write_results(path: Path, text: str) -> None:
    """Rewrite RESULTS.md, keeping the section bench/scan_bench.py writes on its own."""
    old = path.read_text() if path.exists() else ""
    start = old.find("\n## Scanning")
    if start >= 0:
        end = old.find("\n## ", start + 1)
        text = text.rstrip("\n") + "\n" + old[start : end if end >= 0 else len(old)]
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    cfg, results_path, quick = _parse(argv)
    from app.cli.local_store import start_local_store

    if cfg.render_only:
        write_results(results_path, render(json.loads((WORK / "results.json").read_text())))
        log(f"wrote {results_path} from {WORK / 'results.json'}")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(cfg).items()},
        "quick": quick,
        "git": git_state(),
        "datasets": [],
        "get": [],
        "export": [],
        "rss": [],
        "profiles": {},
        "timings": {},
    }
    local = start_local_store(WORK / "store")
    try:
        store = Store(uri=local.uri, pid=local.process.pid)
        log(f"nx-27017 on {store.uri} (pid {store.pid})")
        _run(cfg, store, out)
    finally:
        local.stop()
        log("store stopped")
    out["timings"]["total_s"] = time.monotonic() - started
    end_state = git_state()
    out["git_changed_during_run"] = end_state != out["git"]
    if out["git_changed_during_run"]:
        out["git_end"] = end_state
        log("WARNING: the code under test changed during the run")
    for state in (out["git"], out.get("git_end")):
        if state:
            state.pop("diff", None)
    if cfg.seed_only:
        log(f"seeded (total {out['timings']['total_s'] / 60:.1f} min)")
        return 0
    (WORK / "results.json").write_text(json.dumps(out, indent=1, default=str))
    write_results(results_path, render(out))
    log(f"wrote {results_path} (total {out['timings']['total_s'] / 60:.1f} min)")
    return 0


def git_state() -> dict[str, Any]:
    """The commit under test and any uncommitted change outside bench/."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip()

    dirty = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if line[3:] and not line[3:].startswith("bench/")
    ]
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "subject": git("log", "-1", "--format=%s").strip(),
        "dirty": dirty,
        "diff": git("diff", "HEAD", "--", ".", ":(exclude)bench"),
    }


def _timed(out: dict[str, Any], name: str) -> Callable[[], None]:
    started = time.monotonic()

    def done() -> None:
        out["timings"][name] = time.monotonic() - started

    return done


def _run(cfg: Config, store: Store, out: dict[str, Any]) -> None:
    get_sets = [Dataset(p, n, cfg.seed) for p, n in cfg.get_counts.items() if n > 0]
    export_sets = [Dataset(p, n, cfg.seed) for p, n in cfg.export_counts.items() if n > 0]
    rss_sets = [Dataset(cfg.rss_profile, n, cfg.seed) for n in cfg.rss_counts]
    wanted: list[Dataset] = []
    if "get" not in cfg.skip:
        wanted += get_sets
    if "export" not in cfg.skip:
        wanted += export_sets
    if "rss" not in cfg.skip:
        wanted += rss_sets
    done = _timed(out, "seeding_s")
    for ds in dict.fromkeys(wanted):
        workers = cfg.seed_workers if ds.count >= 20_000 else 1
        out["datasets"].append({"profile": ds.profile, **ensure_dataset(store, ds, workers)})
    done()
    if cfg.seed_only:
        return
    missed_get: list[tuple[Dataset, str]] = []
    if "get" not in cfg.skip:
        done = _timed(out, "get_s")
        for variant in cfg.variants:
            for ds in get_sets:
                result = get_bench(store, ds, variant, cfg)
                out["get"].append(result)
                if not result["goal_met"]:
                    missed_get.append((ds, variant))
        done()
    missed_export: list[Dataset] = []
    if "export" not in cfg.skip:
        done = _timed(out, "export_s")
        for ds in export_sets:
            result = export_bench(store, ds, cfg)
            out["export"].append(result)
            if not result["goal_met"]:
                missed_export.append(ds)
        done()
    if "rss" not in cfg.skip:
        done = _timed(out, "rss_s")
        for ds in rss_sets:
            out["rss"].append(rss_bench(store, ds))
        done()
    if "rss" not in cfg.skip and cfg.rss_batch_sizes and cfg.get_counts.get("realistic"):
        done = _timed(out, "rss_batch_s")
        ds = Dataset("realistic", cfg.get_counts["realistic"], cfg.seed)
        out["rss_batch"] = [rss_bench(store, ds, size) for size in cfg.rss_batch_sizes]
        out["cursor_memory"] = [
            cursor_memory(store, ds, mode, size)
            for size in (max(cfg.rss_batch_sizes), min(cfg.rss_batch_sizes))
            for mode in ("decoded", "raw")
        ]
        done()
    if "micro" not in cfg.skip:
        done = _timed(out, "micro_s")
        log("micro-costs")
        out["micro"] = micro(store, get_sets)
        done()
    if cfg.profile == "never":
        return
    done = _timed(out, "profiling_s")
    if cfg.profile == "always":
        missed_get = (
            [(ds, v) for v in cfg.variants for ds in get_sets] if "get" not in cfg.skip else []
        )
        missed_export = export_sets if "export" not in cfg.skip else []
    elif "get" not in cfg.skip and "snapshot" in cfg.variants:
        # The snapshot variant is where our own cost shows: always explain it.
        for ds in get_sets:
            if (ds, "snapshot") not in missed_get:
                missed_get.append((ds, "snapshot"))
    out["profile_data"] = {}
    for ds, variant in missed_get:
        log(f"profiling GET {variant} {ds.profile}")
        name = f"GET /v1/images/{{id}}, {variant}, {ds.profile}"
        out["profiles"][name], out["profile_data"][name] = profile_get(store, ds, variant, cfg)
    for ds in missed_export:
        log(f"profiling export {ds.profile}")
        name = f"GET /v1/export/images, nx, {ds.profile}"
        out["profiles"][name], out["profile_data"][name] = profile_export(store, ds)
    done()


if __name__ == "__main__":
    os.chdir(BENCH.parent)
    raise SystemExit(main())
