"""Overload: 200 clients for 20 s on a mix of operations against `image-service serve` on
nx-27017, and its own section of bench/RESULTS.md.

    .venv/bin/python -m bench.api.load_mix [--clients 200] [--duration 20] [--env NAME=VALUE]

The mix is the issue's: 40 % GET /v1/images/{id}, 20 % ListImages (20-row pages), 30 % counts,
10 % small exports (a name prefix matching one to a few images), every request with an Admin
token. Two arms, each on a fresh server: *immediate* clients send their next request as soon as
an answer arrives (a refusal included), *polite* ones wait the `Retry-After` of a 429 first.
Reported: status counts, latency percentiles of the 200s and the 429s, /readyz during the load,
the failure log lines and counters of the server, and how long the service takes to answer
normally again once the load stops (`bench/api/mix_client.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
from pymongo import MongoClient

from bench.api.datasets import Dataset, Store, ensure_dataset, ids_file, nx_token
from bench.api.timing import log
from bench.children import child, free_port, module, run_json, wait_http_ok
from bench.common import (
    IMAGE_SERVICE,
    LOOPBACK,
    ROOT,
    WORK,
    add_section_arguments,
    git_commit,
    machine,
    replace_section,
)
from bench.measuring import cpu_seconds
from bench.tokens import read_token

SECTION = "## Load: many clients on a mix of operations"
RESULTS = WORK / "load_mix.json"
ARMS = {
    "immediate": "the next request as soon as an answer arrives, a 429 included",
    "polite": "after a 429, the client waits its `Retry-After` first",
}
WEIGHTS = {"get": 40, "list": 20, "count": 30, "export": 10}
# What bounds a 200 by design with the default settings: the longest wait for a slot
# (IMAGE_SERVICE_QUEUE_WAIT, 1 s) and then the query deadline (IMAGE_SERVICE_QUERY_TIMEOUT_MS).
DESIGN_BOUND_MS = 1_000.0 + 15_000.0


def make_plan(store: Store, ds: Dataset, seed: int) -> dict[str, Any]:
    """Each operation's URLs, drawn from the stored images; the recovery probes."""
    rng = random.Random(seed)
    ids = [line for line in ids_file(store, ds).read_text().splitlines() if line]
    client: MongoClient[dict[str, Any]] = MongoClient(store.uri)
    try:
        images = client[ds.db]["images"]
        names = [d["name"]["fullName"] for d in images.find({}, {"name": 1}).limit(500)]
        registries = sorted(images.distinct("name.registry"))
    finally:
        client.close()
    queries = ["", *(f"Image Registry:{r}" for r in registries), "Image Tag:latest"]
    counted = [*queries, "CVSS:>7", "Fixable:true", "Component:openssl", "Severity:CRITICAL"]
    sorts: list[dict[str, str]] = [{}, {"pagination.sortOption.field": "Image"}]

    def page(query: str, offset: int, sort: dict[str, str]) -> str:
        params = {"query": query, "pagination.limit": "20", "pagination.offset": str(offset)}
        return "/v1/images?" + urlencode({**params, **sort})

    ops = {
        "get": [f"/v1/images/{image_id}" for image_id in rng.sample(ids, min(500, len(ids)))],
        "list": [page(q, rng.choice((0, 0, 20, 100)), s) for q in queries for s in sorts],
        "count": ["/v1/imagescount?" + urlencode({"query": q}) for q in counted],
        "export": [
            "/v1/export/images?" + urlencode({"query": f"Image:{name}"})
            for name in rng.sample(names, min(100, len(names)))
        ],
    }
    probe = [ops["get"][0], "/v1/imagescount?" + urlencode({"query": queries[1]})]
    return {
        "ops": {name: {"weight": WEIGHTS[name], "urls": urls} for name, urls in ops.items()},
        "probe": probe,
    }


_METRIC = re.compile(r"^(image_service_(?:admission|http_failures)\w*)\{(.*)\} (\S+)$", re.M)


def scrape(base: str, token: Path) -> dict[str, float]:
    """The server's admission and failure counters, as /metrics shows them."""
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/metrics", headers={"Authorization": f"Bearer {read_token(token)}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - loopback only
        text = reply.read().decode()
    return {f"{name}{{{labels}}}": float(value) for name, labels, value in _METRIC.findall(text)}


_FAILURE_LINE = re.compile(r" image_service\.failures \w+ (\S+) -> (\d{3}) ")


def logged_failures(log_path: Path) -> dict[str, int]:
    """Failure log lines of the server by status; /readyz's own (start-up included) apart."""
    counts: dict[str, int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if found := _FAILURE_LINE.search(line):
            route, status = found.groups()
            key = f"{status} /readyz" if route == "/readyz" else status
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _cpu(server_pid: int, store_pid: int) -> dict[str, float]:
    """CPU seconds of the server and the store, the busy time of all cores, and the wall clock."""
    times = psutil.cpu_times()
    return {
        "server": cpu_seconds(server_pid),
        "store": cpu_seconds(store_pid),
        "busy": times.user + times.system + times.nice + times.irq + times.softirq,
        "wall": time.monotonic(),
    }


def run_arm(
    store: Store, ds: Dataset, arm: str, plan_path: Path, args: argparse.Namespace
) -> dict[str, Any]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    token = nx_token(store, ds)
    env = {"MONGODB_URI": store.uri + ds.db, **dict(args.env)}
    command = [IMAGE_SERVICE, "serve", "--host", LOOPBACK, "--port", str(port)]
    with child(f"load-mix-{arm}", command, env=env) as server:
        wait_http_ok(server, f"{base}/readyz", timeout_s=120)
        log(f"load {arm}: {args.clients} clients for {args.duration:g} s")
        client = [
            *module("bench.api.mix_client"),
            *("--base", base, "--plan", str(plan_path), "--token-file", str(token)),
            *("--clients", str(args.clients), "--duration", str(args.duration)),
        ]
        if arm == "polite":
            client.append("--honor-retry-after")
        before = _cpu(server.pid, store.pid)
        result: dict[str, Any] = run_json(client, timeout_s=args.duration + 600)
        result["cpu_s"] = {
            name: round(after - before[name], 2)
            for name, after in _cpu(server.pid, store.pid).items()
        }
        result["cpu_s"]["client"] = round(result.pop("client_cpu_s"), 2)
        result["cpu_s"]["other"] = round(
            result["cpu_s"]["busy"]
            - result["cpu_s"]["server"]
            - result["cpu_s"]["store"]
            - result["cpu_s"]["client"],
            2,
        )
        result["server_metrics"] = scrape(base, token)
        result["logged_failures"] = logged_failures(server.log_path)
        result["server_alive"] = server.alive()
    result["arm"] = arm
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--count", type=int, default=2000, help="small images in the dataset")
    parser.add_argument("--seed", type=int, default=1, help="the dataset's generator seed")
    parser.add_argument(
        "--arms", default=",".join(ARMS), help="comma-separated: " + ", ".join(ARMS)
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        type=lambda text: tuple(text.split("=", 1)),
        help="NAME=VALUE for the server's environment (e.g. IMAGE_SERVICE_MAX_IN_FLIGHT=16)",
    )
    add_section_arguments(parser)
    args = parser.parse_args(argv)
    if args.render_only:
        write_section(args.results, json.loads(RESULTS.read_text()))
        return 0
    from app.cli.local_store import start_local_store

    WORK.mkdir(parents=True, exist_ok=True)
    ds = Dataset("small", args.count, args.seed)
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {
            "clients": args.clients,
            "duration_s": args.duration,
            "weights": WEIGHTS,
            "env": dict(args.env),
        },
        "arms": [],
    }
    local = start_local_store(args.store_dir)
    try:
        store = Store(uri=local.uri, pid=local.process.pid)
        out["dataset"] = ensure_dataset(store, ds, 1)
        plan_path = WORK / "load_mix_plan.json"
        plan_path.write_text(json.dumps(make_plan(store, ds, args.seed)))
        for arm in (a.strip() for a in args.arms.split(",") if a.strip()):
            out["arms"].append(run_arm(store, ds, arm, plan_path, args))
    finally:
        local.stop()
    out["git"] = git_commit()
    RESULTS.write_text(json.dumps(out, indent=1))
    write_section(args.results, out)
    return 0


def write_section(path: Path, out: dict[str, Any]) -> None:
    """RESULTS.md with this section replaced, or inserted before Scanning, or appended."""
    replace_section(path, SECTION, render(out), before=("## Scanning",))
    log(f"updated {SECTION!r} in {path}")


def _ms(stats: dict[str, float] | None, key: str) -> str:
    return f"{stats[key]:,.0f}" if stats else "–"


def render(out: dict[str, Any]) -> str:
    cfg = out["config"]
    env = ", ".join(f"`{k}={v}`" for k, v in cfg["env"].items()) or "the defaults"
    rows = [
        SECTION,
        "",
        f"`python -m bench.api.load_mix` on {out['date']}, commit `{out.get('git', '?')}`, "
        f"{out['machine']['cores']} cores ({out['machine']['cpu']}). `image-service serve` "
        f"(settings: {env}) on nx-27017 with {out['dataset']['count']:,} small images; "
        f"{cfg['clients']} clients (`bench/api/mix_client.py`, one process, each client on its "
        f"own keep-alive connection with an Admin token) for {cfg['duration_s']:g} s: "
        + ", ".join(f"{w} % {op}" for op, w in cfg["weights"].items())
        + " (GET by id; 20-row ListImages pages, default or `Image` sort; counts; exports of a "
        "name prefix matching one to a few images). A fresh server per arm. Latencies are from "
        "sending the request to the last byte of the answer. Before admission control (issue "
        "9's measurement of the same mix) 83–98 % of the requests got 503 after a p50 of "
        "24–26 s, and the service stayed degraded ~18 s after the load.",
        "",
    ]
    rows += [f"- **{arm}**: {text}" for arm, text in ARMS.items()]
    rows += [
        "",
        "| arm | requests (per s) | 200 | 429 | 5xx | other | no answer | 200s p50 / p90 / p99 / "
        "max ms | 429s p50 / p99 ms | drained after | recovered after | /readyz during load |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|",
    ]
    for a in out["arms"]:
        statuses = a["statuses"]
        five = sum(n for s, n in statuses.items() if s.startswith("5"))
        other = sum(
            n for s, n in statuses.items() if s not in ("200", "429", "no answer") and s[0] != "5"
        )
        ok, refused = a["latency_by_status"].get("200"), a["latency_by_status"].get("429")
        readyz = a["readyz"]
        ready = ", ".join(f"{n}× {s}" for s, n in readyz["statuses"].items())
        recovered = f"{a['recovery_s']:.1f} s" if a["recovery_s"] is not None else "**never**"
        rows.append(
            f"| {a['arm']} | {a['requests']:,} ({a['per_s']:,.0f}) | {statuses.get('200', 0):,} | "
            f"{statuses.get('429', 0):,} | **{five}** | {other} | {statuses.get('no answer', 0)} "
            f"| {_ms(ok, 'p50_ms')} / {_ms(ok, 'p90_ms')} / **{_ms(ok, 'p99_ms')}** / "
            f"{_ms(ok, 'max_ms')} | {_ms(refused, 'p50_ms')} / {_ms(refused, 'p99_ms')} | "
            f"{a['drain_s']:.1f} s | {recovered} | {ready}; slowest {readyz['max_s'] * 1000:.0f} "
            "ms |"
        )
    rows += [
        "",
        "By operation (statuses; latency of the 200s):",
        "",
        "| arm | operation | statuses | 200s p50 / p99 / max ms |",
        "|---|---|---|---|",
    ]
    for a in out["arms"]:
        for op, statuses in a["statuses_by_op"].items():
            ok = a["ok_latency_by_op"].get(op)
            counts = ", ".join(f"{s}: {n:,}" for s, n in statuses.items())
            rows.append(
                f"| {a['arm']} | {op} | {counts} | {_ms(ok, 'p50_ms')} / {_ms(ok, 'p99_ms')} / "
                f"{_ms(ok, 'max_ms')} |"
            )
    rows += [
        "",
        "The server's own account: its /metrics after the run, and its failure log (the lines of "
        "`/readyz` are the harness waiting for the server to become ready before the load):",
        "",
    ]
    for a in out["arms"]:
        metrics = a["server_metrics"]
        refused = {k: v for k, v in metrics.items() if "admission_refused" in k and v}
        failures = {k: v for k, v in metrics.items() if "http_failures_total" in k and v}
        logged = ", ".join(f"{n:,}× {s}" for s, n in a["logged_failures"].items()) or "none"
        cpu = a.get("cpu_s")
        parts = ("server", "store", "client", "other")
        shares = " / ".join(f"{cpu[k] / cpu['wall']:.2f}" for k in parts) if cpu else "–"
        rows.append(
            f"- **{a['arm']}**: refused by admission "
            + (", ".join(f"`{k.split('{')[1][:-1]}` {v:,.0f}" for k, v in refused.items()) or "0")
            + f"; failures counted {sum(failures.values()):,.0f}; failure log lines: {logged}; "
            f"CPU (cores, from the start of the load to the end of recovery) server / store / "
            f"load client / rest of the machine: {shares}."
        )
    rows += ["", _goals(out)]
    return "\n".join(rows) + "\n"


def _goals(out: dict[str, Any]) -> str:
    idle = out["arms"][0]["idle_probe_ms"] if out["arms"] else []
    lines = [
        "Goals (issue 9): zero 5xx, every answer 200 or 429, p99 of the 200s bounded. By design a "
        f"200 takes at most {DESIGN_BOUND_MS / 1000:g} s (a 1 s wait for a slot, then the 15 s "
        "query deadline, a 504 beyond it); what it takes in practice is set by the store's cost "
        "per operation: on the idle server"
        + (f" a GET took {idle[0]:,.0f} ms and a filtered count {idle[1]:,.0f} ms" if idle else "")
        + ", and nx-27017 is a single Python process, so an admitted request may wait there "
        "behind a few counts.",
        "",
    ]
    for a in out["arms"]:
        statuses = a["statuses"]
        five = sum(n for s, n in statuses.items() if s.startswith("5"))
        only = all(s in ("200", "429") for s in statuses)
        p99 = a["latency_by_status"].get("200", {}).get("p99_ms", float("inf"))
        met = five == 0 and only and p99 < DESIGN_BOUND_MS
        lines.append(
            f"- {a['arm']}: 5xx {five}, only 200/429 {'yes' if only else '**no**'}, "
            f"p99 of the 200s {p99:,.0f} ms: {'met' if met else '**not met**'}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
